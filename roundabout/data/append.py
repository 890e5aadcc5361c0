"""Adding an ingest to a canonical folder that already holds lines: data that arrives day by day.

The rule, by `line_id` (and per line for outcomes): a new id is added; a line sent again exactly as stored
is skipped and counted; a line sent again with changed content replaces the stored one (the newest wins:
a corrected declaration), and the version it replaces is kept in `superseded_lines.parquet` (outcomes:
`superseded_inspections.parquet`) with when and by which source file, for audit.

All or nothing: the merged folder is written beside the old one and swapped in by two renames; an ingest
killed between them leaves the old folder under `<name>.replaced`, which the next read or ingest of the
folder puts back (`io.settle`), so a failed or killed append leaves the folder as it was.
"""

import json
import os
import shutil
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc

from roundabout.data.io import (
    INSPECTIONS_FILE,
    LINES_FILE,
    MANIFEST_FILE,
    TRUTH_FILE,
    CanonicalData,
    read_folder,
    replaced_name,
    write_folder,
    write_table_as_is,
)
from roundabout.errors import ConfigError

SUPERSEDED = {"lines": "superseded_lines.parquet", "inspections": "superseded_inspections.parquet"}
#: Where each line came from: line_id, source, mapping, mapping_sha256, ingested_at (one row per line).
SOURCES_FILE = "sources.parquet"


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


def _isin(values: pd.Series, among: pd.Series | set[str]) -> np.ndarray:
    """Which of `values` are among `among`, hashed in Arrow (pandas' `isin` on Arrow strings loops in
    Python: 8 s for a 1,000,000-line folder)."""
    pool = list(among) if isinstance(among, set) else among.to_numpy(dtype=object)
    found = pc.is_in(
        pa.array(values.to_numpy(dtype=object), type=pa.string()), value_set=pa.array(pool, type=pa.string())
    )
    return found.to_numpy(zero_copy_only=False).astype(bool)


def merge_rows(old: pd.DataFrame, new: pd.DataFrame) -> tuple[pd.DataFrame, pd.DataFrame, Appended]:
    """`old` with `new` added by the rule of the module docstring: the merged rows (old order, then the
    new ids), the old rows replaced, and the counts."""
    if old.empty:
        return new.reset_index(drop=True), old.iloc[:0], Appended(len(new), 0, 0)
    new = new[list(old.columns)]
    known = _isin(new["line_id"], old["line_id"])
    again = new.loc[known].set_index("line_id")
    stored = old.set_index("line_id").loc[again.index]
    same = ((stored == again) | (stored.isna() & again.isna())).all(axis=1).to_numpy()
    changed = set(again.index[~same])
    replaced = _isin(old["line_id"], changed)
    newest = _isin(new["line_id"], changed)
    merged = pd.concat([old.loc[~replaced], new.loc[newest | ~known]], ignore_index=True)
    return merged, old.loc[replaced], Appended(int((~known).sum()), int(same.sum()), len(changed))


def append_folder(folder: Path, incoming: Path, source: str, manifest: dict[str, Any]) -> dict[str, Appended]:
    """Merge the canonical folder `incoming` (this ingest's, complete) into `folder`, all or nothing."""
    old, new = read_folder(folder), read_folder(incoming)
    if old.extra_columns != new.extra_columns:
        raise ConfigError(
            f"{folder} holds extra columns {old.extra_columns or 'none'}; this mapping declares "
            f"{new.extra_columns or 'none'}: a folder's lines share one set of columns"
        )
    lines, old_lines, line_counts = merge_rows(old.lines, new.lines)
    outcomes, old_outcomes, outcome_counts = merge_rows(old.inspections, new.inspections)
    staged = folder.with_name(folder.name + ".appending")
    shutil.rmtree(staged, ignore_errors=True)
    at = datetime.now(UTC).replace(microsecond=0)
    history = (
        json.loads((folder / MANIFEST_FILE).read_text()).get("appends", [])
        if (folder / MANIFEST_FILE).exists()
        else []
    )
    entry = {"at": at.isoformat(), "lines_appended": line_counts.as_dict(),
             "inspections_appended": outcome_counts.as_dict(), **manifest}  # fmt: skip
    body = {**manifest, "appends": [*history, entry]}
    truth = old.truth if new.truth is None else new.truth if old.truth is None else None
    if old.truth is not None and new.truth is not None:
        truth = merge_rows(old.truth, new.truth)[0]
    write_folder(CanonicalData(lines, outcomes, truth, old.extra_columns), staged, body)
    for table, rows in (("lines", old_lines), ("inspections", old_outcomes)):
        _keep_superseded(folder / SUPERSEDED[table], staged / SUPERSEDED[table], rows, at, source)
    # a line's source is the ingest that loaded its current version: the added and replaced ones are new
    fresh = set(new.lines["line_id"]) - (set(old.lines["line_id"]) - set(old_lines["line_id"]))
    kept = pd.read_parquet(folder / SOURCES_FILE) if (folder / SOURCES_FILE).exists() else None
    arrived = pd.read_parquet(incoming / SOURCES_FILE) if (incoming / SOURCES_FILE).exists() else None
    if arrived is not None:
        arrived = arrived[_isin(arrived["line_id"], fresh)]
        if kept is not None:
            arrived = pd.concat([kept[~_isin(kept["line_id"], fresh)], arrived], ignore_index=True)
        write_table_as_is(arrived, staged / SOURCES_FILE)
    # this ingest's rejects; then what else the folder holds (notes, files of its own) stays
    for origin in (incoming, folder):
        for name in os.listdir(origin):
            if (staged / name).exists() or name in (LINES_FILE, INSPECTIONS_FILE, TRUTH_FILE):
                continue
            if (origin / name).is_dir():
                shutil.copytree(origin / name, staged / name)
            else:
                shutil.copy2(origin / name, staged / name)
    backup = replaced_name(folder)
    os.rename(folder, backup)
    os.rename(staged, folder)
    shutil.rmtree(backup)
    return {"lines": line_counts, "inspections": outcome_counts}


def _keep_superseded(before: Path, after: Path, rows: pd.DataFrame, at: datetime, source: str) -> None:
    kept = pd.read_parquet(before) if before.exists() else None
    if rows.empty and kept is None:
        return
    rows = rows.assign(superseded_at=pd.Timestamp(at).tz_localize(None), superseded_by=source)
    both = rows if kept is None else pd.concat([kept, rows], ignore_index=True)
    write_table_as_is(both, after)
