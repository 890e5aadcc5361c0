"""The CLI's calls of the service store (`roundabout.store`), kept together and thin: `backfill` adds a data
folder to it, `export_store` writes what it holds as a data folder to train from (`roundabout train
--from-store`), `upgrade` and `status` run and show its schema migrations. Store failures become the errors
the CLI reports.
"""

import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from datetime import date
from pathlib import Path
from typing import TYPE_CHECKING, TypeVar

from roundabout.cli.render import count_progress, say
from roundabout.data.rules import FormatRules
from roundabout.errors import NotFoundError, UnavailableError
from roundabout.settings import Settings

if TYPE_CHECKING:
    from roundabout.parties.index import ScreeningIndex
    from roundabout.store import ServiceStore

T = TypeVar("T")


@contextmanager
def opened(settings: Settings, doing: str) -> Iterator["ServiceStore"]:
    """The settings' store, open for the block; a database that fails or refuses becomes `UnavailableError`
    naming the store (never its password) and what was being done."""
    from roundabout.store import STORE_ERRORS, ServiceStore  # imported when used: the CLI starts faster

    store = ServiceStore.open(settings.service_store_url)
    try:
        yield store
    except STORE_ERRORS as exc:
        raise UnavailableError(f"cannot {doing} the store {store.url}: {type(exc).__name__}: {exc}") from exc
    finally:
        store.dispose()


def missing_file(settings: Settings) -> Path | None:
    """The file of an embedded (SQLite) store that does not exist yet, else None: what a read-only command
    reports instead of opening it (which would create an empty store)."""
    import sqlalchemy as sa

    url = sa.engine.make_url(settings.service_store_url)
    if not url.drivername.startswith("sqlite") or url.database in (None, "", ":memory:"):
        return None
    path = Path(url.database)
    return None if path.exists() else path


def rules_of(settings: Settings) -> FormatRules:
    """The format rules of the deployment: the date range of the settings, Kazakh formats otherwise."""
    return FormatRules(min_date=settings.min_date, max_future_days=settings.max_future_days)


def export_store(settings: Settings, out: Path) -> Path:
    """Write the service store's lines and outcomes as a canonical data folder (to train from)."""
    from roundabout.data.io import write_folder

    with opened(settings, "read") as store:
        data = store.exporter.canonical()
        url = store.url
    if data.lines.empty:
        raise NotFoundError(f"the store {url} holds no lines yet")
    write_folder(data, out, {"source": "store"})
    say(f"exported {len(data.lines):,} lines and {len(data.inspections):,} outcomes from the store")
    return out


def backfill(
    settings: Settings,
    data: Path,
    chunk: int,
    screening: "ScreeningIndex | None" = None,
    method: str = "bulk",
    partition_lines: int = 250_000,
    dates: "tuple[date | None, date | None]" = (None, None),
) -> tuple[str, dict[str, int | str]]:
    """Add a canonical folder's lines and outcomes to the store (idempotent); the store URL and counts.
    The parties are screened against `screening`, by default the store's active lists."""
    from roundabout.data.io import read_folder
    from roundabout.parties.index import ScreeningIndex
    from roundabout.store.backfill import backfill as load_history

    folder = read_folder(data, *dates)
    with opened(settings, "write") as store:
        store.migrate()
        if screening is None and (loaded := store.sanction_lists.load()):
            screening = ScreeningIndex.build(loaded)
        started = time.perf_counter()
        with count_progress("backfill lines", len(folder.lines), unit="lines") as advance:
            result = load_history(
                store, folder, rules_of(settings), chunk, advance, screening, method, partition_lines
            )
        seconds = time.perf_counter() - started
        url = store.url
    counts: dict[str, int | str] = {
        "lines read": result.lines_read,
        "lines new": result.lines_new,
        "lines already stored": result.lines_read - result.lines_new,
        "outcomes read": result.outcomes_read,
        "outcomes new": result.outcomes_new,
        "outcomes already stored": result.outcomes_read - result.outcomes_new,
        "seconds": f"{seconds:,.1f}",
        "lines per second": f"{result.lines_read / max(seconds, 1e-9):,.0f}",
    }
    return url, counts


def selection_key_of(settings: Settings) -> bytes | None:
    """The key of the exploration draws for an offline job (`score`): `ROUNDABOUT_SELECTION_KEY`, else the
    store's, so offline scores draw the lines the service would. None, with a note, without either (the
    job then draws no line)."""
    from roundabout.cli.render import note
    from roundabout.store.schema import current_revision, head_revision

    if settings.selection_key is not None:
        return settings.selection_key.get_secret_value().encode("utf-8")

    def read(store: "ServiceStore") -> bytes | None:
        return store.selection_key() if current_revision(store.backend) == head_revision() else None

    key = None if missing_file(settings) is not None else with_store(settings, "read", read)
    if key is None:
        note("no exploration key (ROUNDABOUT_SELECTION_KEY, or a current store): no line is drawn")
    return key


def with_store(settings: Settings, doing: str, call: Callable[["ServiceStore"], T]) -> T:
    """`call(store)` on the settings' store."""
    with opened(settings, doing) as store:
        return call(store)


def audit(settings: Settings, kind: str, subject: str | None, content: dict[str, object]) -> int | None:
    """Append a record of a command-line run to the audit trail of the settings' store, as `cli:<user>`;
    its sequence number (None: there is no store, or it has no trail yet, and a command that only reads
    creates none)."""
    import getpass

    from roundabout.audit import Entry

    if missing_file(settings) is not None:
        return None
    with opened(settings, "record an audit record in") as store:
        if not store.audit.exists():
            return None
        return store.audit.record([Entry(kind, f"cli:{getpass.getuser()}", subject, content)])[0]
