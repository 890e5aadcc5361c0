"""A canonical folder's lines for Dask: one partition per row group of its Parquet files (the month parts
of a partitioned folder, or the single `lines.parquet`), each read exactly as `io.read_folder` reads it,
so the pandas and the Dask paths see the same types."""

from dataclasses import dataclass
from pathlib import Path

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


@dataclass(frozen=True, eq=False)
class LineParts:
    """The row groups of a folder's lines, to be read as often as a job needs: each `frame` of another label
    is a graph of its own, so a long job can let go of the lines between passes and read them again
    (holding a whole history in workers' memory is what a cluster cannot afford)."""

    parts: tuple[Part, ...]
    schema: pa.Schema

    @property
    def npartitions(self) -> int:
        return len(self.parts)

    def meta(self) -> pd.DataFrame:
        return read_arrow(self.schema.empty_table())

    def frame(self, label: str = "lines") -> dd.DataFrame:
        """The lines, a partition per row group in order (`label` names the graph's read tasks)."""
        if not self.parts:
            return dd.from_pandas(self.meta(), npartitions=1)
        return dd.from_map(read_part, list(self.parts), meta=self.meta(), label=label)


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
