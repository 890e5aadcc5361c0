"""Keeps the sanctions lists the service screens against: the newest version of each list in the store,
followed as the model alias is. A changed set of versions is loaded and indexed off the request path,
then swapped in by replacing one reference; a failed load keeps the lists that were serving.
"""

import logging
import threading
from collections.abc import Callable
from datetime import UTC, datetime

from roundabout.parties.index import ScreeningIndex
from roundabout.store import ServiceStore

log = logging.getLogger("roundabout.serving")


class LiveLists:
    """The screening index of the store's active list versions (None until a list is loaded)."""

    def __init__(self, store: ServiceStore, on_change: Callable[[str], None] | None = None) -> None:
        self.store = store
        self.current: ScreeningIndex | None = None
        self.versions: dict[str, int] = {}
        self.last_error: str | None = None
        self.last_check: datetime | None = None
        self._lock = threading.Lock()
        self._on_change = on_change or (lambda _result: None)

    def get(self) -> ScreeningIndex | None:
        return self.current

    def check(self) -> str:
        """Read the active versions; index and swap in a changed set. Returns unchanged/swapped/failed."""
        with self._lock:
            self.last_check = datetime.now(UTC)
            try:
                active = self.store.sanction_lists.active_versions()
                if active == self.versions:
                    return "unchanged"
                loaded = self.store.sanction_lists.load(active)
                index = ScreeningIndex.build(loaded) if loaded else None
            except Exception as exc:  # the store is down or a version vanished: keep screening as before
                self.last_error = f"cannot load sanctions lists: {type(exc).__name__}: {exc}"
                log.error(self.last_error)
                self._on_change("failed")
                return "failed"
            old = self.versions
            self.current, self.versions, self.last_error = index, active, None
            log.info("screening against %s (was %s)", active or "no list", old or "no list")
            self._on_change("swapped")
            return "swapped"


def versions_of(index: ScreeningIndex | None) -> dict[str, int]:
    """{list name: version} of an index: what a decision records it was screened against."""
    return {} if index is None else {v.list_name: v.version for v in index.versions}
