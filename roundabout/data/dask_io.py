"""A canonical folder's lines for Dask: one partition per row group of its Parquet files (the month parts
of a partitioned folder, or the single `lines.parquet`), each read exactly as `io.read_folder` reads it,
so the pandas and the Dask paths see the same types."""

from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import dask.dataframe as dd
import pandas as pd
import pyarrow as pa
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

Part = tuple[str, int]  # a Parquet file and one of its row groups


def read_part(part: Part) -> pd.DataFrame:
    path, row_group = part
    return read_arrow(pq.ParquetFile(path).read_row_group(row_group))


def _apply(item: tuple[int, Part], func: Callable[..., pd.DataFrame], *args: Any) -> pd.DataFrame:
    number, part = item
    return func(read_part(part), number, *args)


@dataclass(frozen=True, eq=False)
class LineParts:
    """The row groups of a folder's lines, to be read as often as a job needs: each `frame` or `map` is a
    graph of its own, so a long job can let go of the lines between passes and read them again (holding
    a whole history in workers' memory is what a cluster cannot afford)."""

    parts: tuple[Part, ...]
    schema: pa.Schema

    @property
    def npartitions(self) -> int:
        return len(self.parts)

    def meta(self) -> pd.DataFrame:
        return read_arrow(self.schema.empty_table())

    def frame(self, label: str = "lines") -> dd.DataFrame:
        """The lines, a partition per row group in order."""
        return self.map(_as_read, self.meta(), label=label)

    def map(self, func: Callable[..., pd.DataFrame], meta: Any, *args: Any, label: str) -> dd.DataFrame:
        """`func(lines, partition number, *args)` of every row group, as a frame with that many partitions."""
        if not self.parts:
            return dd.from_pandas(func(self.meta(), 0, *args), npartitions=1)
        items = list(enumerate(self.parts))
        return dd.from_map(_apply, items, args=(func, *args), meta=meta, label=label)


def _as_read(lines: pd.DataFrame, number: int) -> pd.DataFrame:
    return lines


def line_parts(folder: Path) -> LineParts:
    """The folder's row groups (every file checked to hold the folder's schema first, so a mixed folder
    fails here naming the file, not on a worker later)."""
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
    parts = tuple((str(f), g) for f in files for g in range(pq.ParquetFile(f).num_row_groups))
    return LineParts(parts, schema)


def read_lines_dask(folder: Path) -> dd.DataFrame:
    """The folder's lines, lazily, a partition per row group."""
    return line_parts(folder).frame()


def read_inspections(folder: Path) -> pd.DataFrame:
    """The folder's outcomes (one row per inspected line: small beside the lines, read whole)."""
    path = Path(folder) / INSPECTIONS_FILE
    return read_table(path) if path.exists() else empty_frame(INSPECTIONS_SCHEMA)
