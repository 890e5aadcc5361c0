"""The CLI's two calls of the service store (`roundabout.features.store.FeatureStore`), kept together and
thin: `backfill` adds a data folder to it, `export_store` writes what it holds as a data folder to train
from (`roundabout train --from-store`). Store failures become the errors the CLI reports.
"""

from pathlib import Path

from roundabout.cli.render import count_progress, say
from roundabout.errors import InvalidInputError, NotFoundError, UnavailableError


def export_store(out: Path) -> Path:
    """Write the service store's lines and outcomes as a canonical data folder (to train from)."""
    from sqlalchemy.exc import SQLAlchemyError

    from roundabout.data.io import write_folder
    from roundabout.features.store import FeatureStore

    store = FeatureStore()
    try:
        data = store.to_canonical()
    except SQLAlchemyError as exc:
        raise UnavailableError(f"cannot read the store {store.url}: {type(exc).__name__}") from exc
    finally:
        store.dispose()
    if data.lines.empty:
        raise NotFoundError(f"the store {store.url} holds no lines yet")
    write_folder(data, out, {"source": "store"})
    say(f"exported {len(data.lines):,} lines and {len(data.inspections):,} outcomes from the store")
    return out


def backfill(data: Path, chunk: int) -> tuple[str, dict[str, int]]:
    """Add a canonical folder's lines and outcomes to the store (idempotent); the store URL and counts."""
    from sqlalchemy.exc import SQLAlchemyError

    from roundabout.data.io import read_folder
    from roundabout.features.records import InvalidRecordError
    from roundabout.features.store import FeatureStore

    folder = read_folder(data)
    lines = folder.lines.sort_values(["date", "line_id"], kind="stable").reset_index(drop=True)
    store = FeatureStore()
    added = 0
    try:
        store.create_schema()
        with count_progress("backfill lines", len(lines)) as advance:
            for start in range(0, len(lines), chunk):
                added += store.add_lines(lines.iloc[start : start + chunk])
                advance(min(chunk, len(lines) - start))
        outcomes = store.add_outcomes(folder.inspections) if len(folder.inspections) else 0
        store.analyze()
    except InvalidRecordError as exc:
        raise InvalidInputError(exc.field, f"{exc.reason} (in {data})", exc.value, exc.row) from exc
    except SQLAlchemyError as exc:
        raise UnavailableError(f"cannot write the store {store.url}: {type(exc).__name__}") from exc
    finally:
        store.dispose()
    return store.url, {"lines read": len(lines), "lines new": added, "outcomes new": outcomes}
