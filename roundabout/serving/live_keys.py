"""Follows the API keys of the store, as the model alias and the sanctions lists are followed: a key made
or revoked with `roundabout keys` is admitted or refused by every running worker within
`ROUNDABOUT_KEYS_RELOAD_INTERVAL_SECONDS`, without a restart. A check that cannot read the store keeps the
keys that were serving, so a store outage locks nobody out who was let in before it.
"""

import logging
import threading
from datetime import UTC, datetime

from pydantic import ValidationError

from roundabout.serving.keys import ApiKey, KeyRing
from roundabout.store import ServiceStore

log = logging.getLogger("roundabout.serving")


class LiveKeys:
    """Reloads `ring` with the store's keys that are not revoked (expired ones included: their callers
    are told that their key expired)."""

    def __init__(self, store: ServiceStore, ring: KeyRing) -> None:
        self.store = store
        self.ring = ring
        self.stored: list[ApiKey] = []
        self.last_error: str | None = None
        self.last_check: datetime | None = None
        self._lock = threading.Lock()

    def check(self) -> str:
        """Read the store's keys; swap a changed set into the ring. Returns unchanged/swapped/failed."""
        with self._lock:
            self.last_check = datetime.now(UTC)
            try:
                rows = self.store.keys.active()
            except Exception as exc:  # the store is down or not migrated yet: keep the keys serving now
                self.last_error = f"cannot read the store's API keys: {type(exc).__name__}: {exc}"
                log.error(self.last_error)
                return "failed"
            keys = []
            for row in rows:
                try:
                    keys.append(ApiKey.model_validate(row.fields()))
                except ValidationError as exc:  # a row written by hand: that key only is left out
                    log.error("API key %r in the store is unusable, left out: %s", row.id, exc)
            self.last_error = None
            if keys == self.stored:
                return "unchanged"
            before, after = {k.id for k in self.stored}, {k.id for k in keys}
            self.ring.reload(keys)
            self.stored = keys
            log.info(
                "API keys from the store: %d (new: %s; gone: %s)",
                len(keys),
                ", ".join(sorted(after - before)) or "none",
                ", ".join(sorted(before - after)) or "none",
            )
            return "swapped"
