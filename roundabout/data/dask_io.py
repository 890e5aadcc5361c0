"""A canonical folder's lines as a Dask DataFrame: one partition per row group of its Parquet files (the
month parts of a partitioned folder, or the single `lines.parquet`), each read exactly as
`io.read_folder` reads it, so the pandas and the Dask paths see the same types."""

from pathlib import Path

import dask.dataframe as dd
import pandas as pd
import pyarrow.parquet as pq

from roundabout.data.dataset import check_parts, is_partitioned, part_files
from roundabout.data.io import (
    INSPECTIONS_FILE,
    INSPECTIONS_SCHEMA,
    LINES_FILE,
    empty_frame,
    extra_columns_of,
    has_lines,
    lines_schema,
    read_arrow,
    read_table,
    settle,
)
from roundabout.errors import NotFoundError


def _read_part(part: tuple[str, int]) -> pd.DataFrame:
    path, row_group = part
    return read_arrow(pq.ParquetFile(path).read_row_group(row_group))


def read_lines_dask(folder: Path) -> dd.DataFrame:
    """The folder's lines, lazily: a partition per file (every file checked to hold the folder's schema
    first, so a mixed folder fails here naming the file, not on a worker later)."""
    folder = Path(folder)
    settle(folder)
    if not has_lines(folder):
        raise NotFoundError(f"{folder} is not a canonical data folder: {LINES_FILE} (or lines/) is missing")
    schema = lines_schema(extra_columns_of(folder))
    if is_partitioned(folder):
        files = [f for parts in part_files(folder).values() for f in parts]
    else:
        files = [folder / LINES_FILE]
    check_parts(files, schema)
    meta = read_arrow(schema.empty_table())
    parts = [(str(f), g) for f in files for g in range(pq.ParquetFile(f).num_row_groups)]
    if not parts:
        return dd.from_pandas(meta, npartitions=1)
    return dd.from_map(_read_part, parts, meta=meta, enforce_metadata=False)


def read_inspections(folder: Path) -> pd.DataFrame:
    """The folder's outcomes (one row per inspected line: small beside the lines, read whole)."""
    path = Path(folder) / INSPECTIONS_FILE
    return read_table(path) if path.exists() else empty_frame(INSPECTIONS_SCHEMA)
