"""Adding an ingest to a canonical folder that already holds lines: data that arrives day by day.

The rule, by `line_id` (and per line for outcomes): a new id is added; a line sent again exactly as stored
is skipped and counted; a line sent again with changed content replaces the stored one (the newest wins:
a corrected declaration), and the version it replaces is kept in `superseded_lines.parquet` (outcomes:
`superseded_inspections.parquet`) with when and by which source file, for audit.

All or nothing: the merged folder is written beside the old one and swapped in by two renames; an ingest
killed between them leaves the old folder under `<name>.replaced`, which the next read or ingest of the
folder puts back (`io.settle`), so a failed or killed append leaves the folder as it was.
"""

import os
import shutil
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.parquet as pq

from roundabout.data.dataset import (
    LINES_DIR,
    PARTITION,
    is_partitioned,
    months_of,
    part_files,
    read_lines,
    write_lines,
)
from roundabout.data.folder_writer import SOURCES_FILE, SOURCES_SCHEMA
from roundabout.data.io import (
    INSPECTIONS_FILE,
    LINES_FILE,
    TRUTH_FILE,
    extra_columns_of,
    lines_schema,
    read_arrow,
    read_manifest,
    replaced_name,
    settle,
    write_arrow,
    write_manifest,
    write_table_as_is,
)
from roundabout.data.schema import INSPECTIONS_SCHEMA, TRUTH_SCHEMA
from roundabout.errors import ConfigError

SUPERSEDED = {"lines": "superseded_lines.parquet", "inspections": "superseded_inspections.parquet"}


def sources_of(
    line_ids: pd.Series, source: str, mapping: str, mapping_sha256: str, at: datetime
) -> pd.DataFrame:
    """The provenance rows of lines loaded by one ingest."""
    n = len(line_ids)
    return pd.DataFrame(
        {
            "line_id": line_ids.to_numpy(),
            "source": [source] * n,
            "mapping": [mapping] * n,
            "mapping_sha256": [mapping_sha256] * n,
            "ingested_at": [pd.Timestamp(at).tz_localize(None)] * n,
        }
    )


@dataclass(frozen=True)
class Appended:
    """What an append did to one table."""

    added: int
    repeated: int
    replaced: int

    def as_dict(self) -> dict[str, int]:
        return {"added": self.added, "repeated_skipped": self.repeated, "replaced": self.replaced}


def merge_rows(old: pa.Table, new: pa.Table) -> tuple[pa.Table, pd.DataFrame, pa.Array, Appended]:
    """`old` with `new` added by the rule of the module docstring, in Arrow (a day is merged into a
    million lines without a pandas copy of them): the merged rows (old order, then the new ids), the old
    rows replaced, the ids of the rows taken from `new`, and the counts."""
    new = new.select(old.schema.names).cast(old.schema)
    old_ids, new_ids = _ids(old), _ids(new)
    if old.num_rows == 0:
        return new, read_arrow(old), new_ids, Appended(new.num_rows, 0, 0)
    # hash the day's ids, not the folder's: probe the folder against them, then the few it holds
    known = pc.is_in(new_ids, value_set=old_ids.filter(pc.is_in(old_ids, value_set=new_ids)))
    again = read_arrow(new.filter(known)).set_index("line_id")
    stored = read_arrow(old.filter(pc.is_in(old_ids, value_set=pc.filter(new_ids, known))))
    stored = stored.set_index("line_id").loc[again.index]
    same = ((stored == again) | (stored.isna() & again.isna())).all(axis=1).to_numpy()
    changed = pa.array(list(again.index[~same]), type=pa.string())
    replaced = pc.is_in(old_ids, value_set=changed)
    taken = pc.or_(pc.invert(known), pc.is_in(new_ids, value_set=changed))
    kept = old.filter(pc.invert(replaced)) if len(changed) else old  # no copy of a folder left whole
    merged = pa.concat_tables([kept, new.filter(taken)])
    counts = Appended(new.num_rows - int(pc.sum(known).as_py() or 0), int(same.sum()), len(changed))
    return merged, read_arrow(old.filter(replaced)), pc.filter(new_ids, taken), counts


def _ids(table: pa.Table) -> pa.Array:
    return table["line_id"].combine_chunks()


def _read(folder: Path, name: str, schema: pa.Schema) -> pa.Table | None:
    """A table of a folder in Arrow (None when the folder has no such file)."""
    path = folder / name
    return pq.read_table(path).cast(schema) if path.exists() else None


def append_folder(folder: Path, incoming: Path, source: str, manifest: dict[str, Any]) -> dict[str, Appended]:
    """Merge the canonical folder `incoming` (this ingest's, complete) into `folder`, all or nothing."""
    settle(folder)
    old_extra, new_extra = extra_columns_of(folder), extra_columns_of(incoming)
    if old_extra != new_extra:
        raise ConfigError(
            f"{folder} holds extra columns {old_extra or 'none'}; this mapping declares "
            f"{new_extra or 'none'}: a folder's lines share one set of columns"
        )
    schemas = {
        LINES_FILE: lines_schema(old_extra),
        INSPECTIONS_FILE: INSPECTIONS_SCHEMA,
        TRUTH_FILE: TRUTH_SCHEMA,
    }
    merged: dict[str, pa.Table] = {}
    counts: dict[str, Appended] = {}
    replaced: dict[str, pd.DataFrame] = {}
    fresh = pa.array([], type=pa.string())
    untouched: list[str] = []  # months of a partitioned folder the append leaves as they are
    for name, schema in schemas.items():
        old, new = _read(folder, name, schema), _read(incoming, name, schema)
        if name == LINES_FILE and is_partitioned(folder):
            old, untouched = _touched(folder, new if new is not None else schema.empty_table(), schema)
        if old is None and new is None:
            continue
        if name == TRUTH_FILE and (old is None or new is None):
            continue  # truth for only some of the lines would read as truth for all: none is kept
        old = schema.empty_table() if old is None else old
        new = schema.empty_table() if new is None else new
        merged[name], gone, taken, done = merge_rows(old, new)
        if name == LINES_FILE:
            fresh = taken  # a line's source is the ingest that loaded its current version
        if name != TRUTH_FILE:
            table = "lines" if name == LINES_FILE else "inspections"
            counts[table], replaced[table] = done, gone
    staged = folder.with_name(folder.name + ".appending")
    shutil.rmtree(staged, ignore_errors=True)
    staged.mkdir(parents=True)
    at = datetime.now(UTC).replace(microsecond=0)
    history = read_manifest(folder).get("appends", [])
    none = Appended(0, 0, 0)
    entry = {"at": at.isoformat(), "lines_appended": counts.get("lines", none).as_dict(),
             "inspections_appended": counts.get("inspections", none).as_dict(), **manifest}  # fmt: skip
    body = {"extra_columns": old_extra, **manifest, "appends": [*history, entry]}
    for name, table in merged.items():
        if name == LINES_FILE and is_partitioned(folder):
            write_lines(table, staged)
            for month in untouched:  # linked, not copied: the append's cost is the months it touches
                shutil.copytree(
                    folder / LINES_DIR / f"{PARTITION}={month}",
                    staged / LINES_DIR / f"{PARTITION}={month}",
                    copy_function=_link,
                )
        else:
            write_arrow(table, staged / name)
    write_manifest(staged, body)
    for table, rows in replaced.items():
        _keep_superseded(folder / SUPERSEDED[table], staged / SUPERSEDED[table], rows, at, source)
    kept, arrived = _read(folder, SOURCES_FILE, SOURCES_SCHEMA), _read(incoming, SOURCES_FILE, SOURCES_SCHEMA)
    if arrived is not None:
        arrived = arrived.filter(pc.is_in(arrived["line_id"], value_set=fresh))
        if kept is not None:
            again = pc.is_in(kept["line_id"], value_set=fresh)
            stays = kept.filter(pc.invert(again)) if pc.any(again).as_py() else kept
            arrived = pa.concat_tables([stays, arrived])
        pq.write_table(arrived, staged / SOURCES_FILE)
    # this ingest's rejects; then what else the folder holds (notes, files of its own) stays
    carry_over([incoming, folder], staged, skip=set(schemas))
    swap_in(folder, staged)
    return counts


def _touched(folder: Path, new: pa.Table, schema: pa.Schema) -> tuple[pa.Table, list[str]]:
    """The lines of the months of a partitioned folder that the rows `new` touch (their own months, and
    those holding a line they repeat or replace), and the months they leave alone."""
    parts = part_files(folder)
    ids = {
        m: pa.concat_tables([pq.read_table(f, columns=["line_id"]) for f in files])
        for m, files in parts.items()
    }
    new_ids = _ids(new)
    touched = set(months_of(new["date"]).to_pylist()) if new.num_rows else set()
    touched |= {m for m, held in ids.items() if pc.any(pc.is_in(held["line_id"], value_set=new_ids)).as_py()}
    tables = [read_lines(folder, schema, months=(m, m)) for m in sorted(touched & set(parts))]
    old = pa.concat_tables(tables) if tables else schema.empty_table()
    return old, [m for m in parts if m not in touched]


def carry_over(origins: list[Path], staged: Path, skip: set[str]) -> None:
    """Link into `staged` what the folders `origins` hold that it does not (the first origin first),
    except the names in `skip`: a replaced folder's own files survive it, without a copy of their bytes."""
    for origin in origins:
        if not origin.exists():
            continue
        for name in os.listdir(origin):
            if (staged / name).exists() or name in skip:
                continue
            if (origin / name).is_dir():
                shutil.copytree(origin / name, staged / name, copy_function=_link)
            else:
                _link(origin / name, staged / name)


def _link(source: str | Path, target: str | Path) -> None:
    try:
        os.link(source, target)
    except OSError:  # another file system, or one without hard links
        shutil.copy2(source, target)


def swap_in(folder: Path, staged: Path) -> None:
    """Put the complete folder `staged` in the place of `folder` by two renames; a process killed between
    them leaves `folder` under its `.replaced` name, which the next read puts back (`io.settle`)."""
    if not folder.exists():
        os.rename(staged, folder)
        return
    backup = replaced_name(folder)
    os.rename(folder, backup)
    os.rename(staged, folder)
    shutil.rmtree(backup)


def _keep_superseded(before: Path, after: Path, rows: pd.DataFrame, at: datetime, source: str) -> None:
    kept = pd.read_parquet(before) if before.exists() else None
    if rows.empty and kept is None:
        return
    rows = rows.assign(superseded_at=pd.Timestamp(at).tz_localize(None), superseded_by=source)
    both = rows if kept is None else pd.concat([kept, rows], ignore_index=True)
    write_table_as_is(both, after)
