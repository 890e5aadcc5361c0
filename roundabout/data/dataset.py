"""A canonical folder's lines as a partitioned Parquet dataset: one folder of files per month.

A history of hundreds of millions of lines is not one file: `DIR/lines/month=YYYY-MM/part-N.parquet`
holds the lines dated in that month (Hive-style, so pyarrow, Dask, Spark and DuckDB read it as it is),
each file with the canonical lines schema; the month is the folder's name, not a column of the files.
A folder holds either this or the single `lines.parquet`, never both; everything that reads a folder
(`io.read_folder`) takes either. A day appended touches only its month's files (`append.py`), and a
date range is read from its months' files alone.
"""

import re
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.dataset as ds
import pyarrow.parquet as pq

from roundabout.errors import ConfigError

LINES_DIR = "lines"
PARTITION = "month"
_MONTH_DIR = re.compile(r"month=(\d{4})-(0[1-9]|1[0-2])")


def is_partitioned(folder: Path) -> bool:
    """The folder keeps its lines as a partitioned dataset (`lines/`)."""
    return (Path(folder) / LINES_DIR).is_dir()


def months_of(dates: pa.Array | pa.ChunkedArray) -> pa.Array:
    """The partition (YYYY-MM) of each date."""
    return pc.strftime(pc.cast(dates, pa.timestamp("s")), format="%Y-%m").combine_chunks()


def part_files(folder: Path) -> dict[str, list[Path]]:
    """The files of each month's partition, in name order, months in order; a folder that is not a month
    partition, or a file that is not Parquet, is refused naming it."""
    root = Path(folder) / LINES_DIR
    found: dict[str, list[Path]] = {}
    for part in sorted(root.iterdir()):
        match = _MONTH_DIR.fullmatch(part.name)
        if not part.is_dir() or not match:
            raise ConfigError(
                f"{part}: a partitioned lines folder holds only month=YYYY-MM folders (the partition "
                "column `month`); this is not one"
            )
        files = sorted(p for p in part.iterdir() if not p.name.startswith("."))
        if bad := [p for p in files if p.suffix != ".parquet"]:
            raise ConfigError(f"{bad[0]}: not a Parquet part file (part-N.parquet)")
        if files:
            found[f"{match.group(1)}-{match.group(2)}"] = files
    return found


def read_lines(
    folder: Path, schema: pa.Schema, filters: Any = None, months: tuple[str | None, str | None] = (None, None)
) -> pa.Table:
    """The lines of a partitioned folder (those meeting pyarrow `filters`; only the partitions of the
    months from `months[0]` to `months[1]`, YYYY-MM, read) in month order; every file must hold `schema`,
    or the file is named."""
    first, last = months
    files = [
        f
        for month, parts in part_files(folder).items()
        if (first is None or month >= first) and (last is None or month <= last)
        for f in parts
    ]
    check_parts(files, schema)
    if not files:
        return schema.empty_table()
    dataset = ds.dataset([str(f) for f in files], schema=schema, format="parquet")
    expression = pq.filters_to_expression(filters) if filters else None
    return dataset.to_table(filter=expression)


def check_parts(files: list[Path], schema: pa.Schema) -> None:
    """Every part file holds `schema` (the folder's lines schema), or the first that does not is named."""
    for path in files:
        found = pq.read_schema(path)
        if found.remove_metadata() != schema:
            missing = [n for n in schema.names if n not in found.names]
            extra = [n for n in found.names if n not in schema.names]
            details = [f"missing {', '.join(missing)}"] if missing else []
            details += [f"columns not in the folder's schema: {', '.join(extra)}"] if extra else []
            detail = "; ".join(details) or "column types or order differ"
            raise ConfigError(
                f"{path}: its schema differs from the folder's ({detail}): every part file of a folder "
                "holds the same columns"
            )


def write_lines(table: pa.Table, folder: Path) -> None:
    """Write `table` (canonical lines) as `folder/lines/month=YYYY-MM/part-0.parquet`, month by month, in
    the order of the rows; months with no rows get no folder."""
    root = Path(folder) / LINES_DIR
    for month, rows in by_month(table):
        write_part(rows, root / f"{PARTITION}={month}" / "part-0.parquet")


def by_month(table: pa.Table) -> Iterator[tuple[str, pa.Table]]:
    """The rows of `table` (canonical lines) of each month, in order of first appearance."""
    months = months_of(table["date"]) if table.num_rows else pa.array([], pa.string())
    for month in pc.unique(months).to_pylist():
        if month is None:
            raise ConfigError("a line without a date cannot be placed in a month partition")
        yield month, table.filter(pc.equal(months, month))


def write_part(table: pa.Table, path: Path) -> None:
    """One part file (the format of `io.write_arrow`)."""
    path.parent.mkdir(parents=True, exist_ok=True)
    pq.write_table(table, path, compression="zstd", write_statistics=True)
