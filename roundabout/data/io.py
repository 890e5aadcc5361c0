"""Reading and writing a canonical data folder.

A folder holds `lines.parquet`, optionally `inspections.parquet` and `truth.parquet`, and a
`manifest.json` naming any extra columns declared by an ingest mapping. Parquet files are written from
Arrow arrays with a fixed schema and no pandas metadata, so the same frame always gives the same bytes.
"""

import json
import os
import shutil
from dataclasses import dataclass, field
from datetime import date
from pathlib import Path
from typing import Any

import pandas as pd
import pyarrow as pa
import pyarrow.parquet as pq

from roundabout.data.dataset import LINES_DIR, is_partitioned, read_lines, write_lines, write_part
from roundabout.data.schema import (
    INSPECTIONS_SCHEMA,
    LINE_FIELDS,
    LINES_SCHEMA,
    TRUTH_SCHEMA,
    arrow_schema,
)
from roundabout.errors import NotFoundError, writing

LINES_FILE = "lines.parquet"
INSPECTIONS_FILE = "inspections.parquet"
TRUTH_FILE = "truth.parquet"
MANIFEST_FILE = "manifest.json"

#: Extra-column kinds an ingest mapping may declare, and their Arrow types.
EXTRA_KINDS: dict[str, pa.DataType] = {"categorical": pa.string(), "numeric": pa.float64()}


@dataclass
class CanonicalData:
    """A canonical data folder in memory. Dates are `datetime64[ns]`, texts are strings or null."""

    lines: pd.DataFrame
    inspections: pd.DataFrame
    truth: pd.DataFrame | None = None
    extra_columns: dict[str, str] = field(default_factory=dict)


def _column_to_arrow(values: pd.Series, dtype: pa.DataType) -> pa.Array:
    if pa.types.is_date32(dtype):
        days = values.to_numpy(dtype="datetime64[D]").astype("int64")
        mask = values.isna().to_numpy()
        return pa.array(days.astype("int32"), type=pa.int32(), mask=mask if mask.any() else None).cast(
            pa.date32()
        )
    if pa.types.is_string(dtype):
        # pandas strings are Arrow-backed: hand them over without a Python object per value.
        return pa.array(values.astype("str"), type=dtype, from_pandas=True)
    return pa.array(values.to_numpy(), type=dtype, from_pandas=True)


def to_arrow(frame: pd.DataFrame, schema: pa.Schema) -> pa.Table:
    """Build an Arrow table in the column order and types of `schema` (missing columns raise KeyError)."""
    arrays = [_column_to_arrow(frame[f.name], f.type) for f in schema]
    return pa.Table.from_arrays(arrays, schema=schema)


def write_table(frame: pd.DataFrame, schema: pa.Schema, path: Path) -> None:
    """Write one canonical table to Parquet, deterministically."""
    write_arrow(to_arrow(frame, schema), path)


def write_arrow(table: pa.Table, path: Path) -> None:
    """Write one canonical table held in Arrow (its schema already the table's) to Parquet."""
    write_part(table, path)


def has_lines(folder: Path) -> bool:
    """The folder holds canonical lines, as one file or as a partitioned dataset."""
    return (Path(folder) / LINES_FILE).exists() or is_partitioned(folder)


def lines_schema(extra_columns: dict[str, str]) -> pa.Schema:
    """The lines schema of a folder with these declared extra columns."""
    return arrow_schema(LINE_FIELDS, {name: EXTRA_KINDS[kind] for name, kind in extra_columns.items()})


def read_table(path: Path, filters: Any = None) -> pd.DataFrame:
    """Read one canonical table (the rows meeting pyarrow `filters`, read without the others); date columns
    come back as `datetime64[ns]`."""
    return read_arrow(pq.read_table(path, filters=filters))


def write_folder(
    data: CanonicalData,
    out: Path,
    manifest: dict[str, Any] | None = None,
    with_inspections: bool = True,
    partitioned: bool = False,
) -> None:
    """Write a canonical data folder (lines, inspections unless told not to, truth when present, manifest;
    an inspections or truth file left from an earlier write is removed when this one has none); the lines
    as one file, or `partitioned` by month (`dataset.py`). A folder that cannot be written raises
    OutputError naming it."""
    with writing(out):
        _write_folder(data, Path(out), manifest, with_inspections, partitioned)


def _write_folder(
    data: CanonicalData, out: Path, manifest: dict[str, Any] | None, with_inspections: bool, partitioned: bool
) -> None:
    out.mkdir(parents=True, exist_ok=True)
    lines = to_arrow(data.lines, lines_schema(data.extra_columns))
    # the other layout an earlier write left is removed: a folder holds its lines one way
    shutil.rmtree(out / LINES_DIR, ignore_errors=True)
    (out / LINES_FILE).unlink(missing_ok=True)
    if partitioned:
        write_lines(lines, out)
    else:
        write_arrow(lines, out / LINES_FILE)
    # A file this folder must not hold is removed: outcomes left out of a load into a folder that held
    # them before would otherwise be read back as this load's.
    if with_inspections:
        write_table(data.inspections, INSPECTIONS_SCHEMA, out / INSPECTIONS_FILE)
    else:
        (out / INSPECTIONS_FILE).unlink(missing_ok=True)
    if data.truth is not None:
        write_table(data.truth, TRUTH_SCHEMA, out / TRUTH_FILE)
    else:
        (out / TRUTH_FILE).unlink(missing_ok=True)
    write_manifest(out, {"extra_columns": data.extra_columns, **(manifest or {})})


def write_manifest(folder: Path, body: dict[str, Any]) -> None:
    """A folder's `manifest.json` (sorted keys, dates as text)."""
    (Path(folder) / MANIFEST_FILE).write_text(json.dumps(body, indent=2, sort_keys=True, default=str) + "\n")


def read_manifest(folder: Path) -> dict[str, Any]:
    """A folder's `manifest.json` ({} when it has none)."""
    path = Path(folder) / MANIFEST_FILE
    return json.loads(path.read_text()) if path.exists() else {}


def extra_columns_of(folder: Path) -> dict[str, str]:
    """The extra columns a folder's manifest declares."""
    return dict(read_manifest(folder).get("extra_columns", {}))


def write_table_as_is(frame: pd.DataFrame, path: Path) -> None:
    """Write a frame of canonical rows plus columns of its own (superseded rows with when and why)."""
    pq.write_table(pa.Table.from_pandas(frame, preserve_index=False), path)


def replaced_name(folder: Path) -> Path:
    """Where an append keeps a folder while it swaps the merged one in (`data/append.py`)."""
    return folder.with_name(folder.name + ".replaced")


def settle(folder: Path) -> None:
    """Put back a folder an append was killed in the middle of swapping; drop one it had finished with."""
    backup = replaced_name(Path(folder))
    if backup.exists():
        if not Path(folder).exists():
            os.rename(backup, folder)
        else:
            shutil.rmtree(backup)


def read_folder(folder: Path, since: date | None = None, until: date | None = None) -> CanonicalData:
    """Read a canonical data folder; a missing inspections file gives an empty table, a missing lines file
    raises NotFoundError. With `since` / `until`: only the lines dated in that range (inclusive; the rest
    are never held in memory) and the outcomes of those lines."""
    folder = Path(folder)
    settle(folder)
    if not has_lines(folder):
        raise NotFoundError(
            f"{folder} is not a canonical data folder: {LINES_FILE} (or a partitioned {LINES_DIR}/) "
            "is missing"
        )
    extra = extra_columns_of(folder)
    dated = [f for f in (("date", ">=", since), ("date", "<=", until)) if f[2] is not None]
    if is_partitioned(folder):
        months = (since.strftime("%Y-%m") if since else None, until.strftime("%Y-%m") if until else None)
        schema = lines_schema(extra)
        lines = read_arrow(read_lines(folder, schema, dated or None, months))
    else:
        lines = read_table(folder / LINES_FILE, dated or None)
    inspections_path = folder / INSPECTIONS_FILE
    if inspections_path.exists():
        inspections = read_table(inspections_path)
    else:
        inspections = empty_frame(INSPECTIONS_SCHEMA)
    truth = read_table(folder / TRUTH_FILE) if (folder / TRUTH_FILE).exists() else None
    if dated:
        ids = set(lines["line_id"])
        inspections = inspections[inspections["line_id"].isin(ids)].reset_index(drop=True)
        if truth is not None:
            truth = truth[truth["line_id"].isin(ids)].reset_index(drop=True)
    return CanonicalData(lines, inspections, truth, extra)


def empty_frame(schema: pa.Schema) -> pd.DataFrame:
    """An empty frame with the columns and pandas types of a canonical table."""
    return read_arrow(schema.empty_table())


def read_arrow(table: pa.Table) -> pd.DataFrame:
    """An Arrow table as a pandas frame, with date columns as `datetime64[ns]`."""
    frame = table.to_pandas(date_as_object=False)
    for f in table.schema:
        if pa.types.is_date32(f.type):
            frame[f.name] = frame[f.name].astype("datetime64[ns]")
    return frame


__all__ = [
    "INSPECTIONS_SCHEMA",
    "LINES_SCHEMA",
    "TRUTH_SCHEMA",
    "CanonicalData",
    "read_folder",
    "write_folder",
    "write_table",
]
