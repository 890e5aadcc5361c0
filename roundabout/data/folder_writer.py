"""Writing a canonical data folder a chunk at a time, so an ingest never holds a whole file's lines.

Each table goes through one Parquet writer (a row group per chunk, the same schema and compression as
`io.write_folder`); partitioned lines get a writer per month (`dataset.py`). The folder is a new one
beside the target that an ingest swaps in whole when it is complete (`ingest.py`), so a write that fails
or is abandoned never shows: its folder is removed, by the next ingest if not by this one.
"""

from dataclasses import dataclass, field
from pathlib import Path
from types import TracebackType
from typing import Any

import pandas as pd
import pyarrow as pa
import pyarrow.parquet as pq

from roundabout.data.dataset import LINES_DIR, PARTITION, by_month
from roundabout.data.io import INSPECTIONS_FILE, LINES_FILE, lines_schema, to_arrow, write_manifest
from roundabout.data.schema import INSPECTIONS_SCHEMA
from roundabout.errors import writing

#: Where each line came from (one row per line): see `data/append.py`.
SOURCES_FILE = "sources.parquet"
SOURCES_SCHEMA = pa.schema(
    [
        ("line_id", pa.string()),
        ("source", pa.string()),
        ("mapping", pa.string()),
        ("mapping_sha256", pa.string()),
        ("ingested_at", pa.timestamp("us")),
    ]
)


@dataclass
class FolderWriter:
    """Lines (one file, or `partitioned` by month), outcomes (unless `with_inspections` is off) and
    provenance written chunk by chunk into the new folder `folder`; use as a context manager, and
    `close(manifest)` to finish."""

    folder: Path
    extra_columns: dict[str, str]
    with_inspections: bool = True
    partitioned: bool = False
    _writers: dict[str, pq.ParquetWriter] = field(default_factory=dict)

    def __enter__(self) -> "FolderWriter":
        with writing(self.folder):
            self.folder.mkdir(parents=True, exist_ok=True)
            self._open(SOURCES_FILE, SOURCES_SCHEMA)
            if self.with_inspections:
                self._open(INSPECTIONS_FILE, INSPECTIONS_SCHEMA)
            if not self.partitioned:
                self._open(LINES_FILE, self._lines_schema)
        return self

    @property
    def _lines_schema(self) -> pa.Schema:
        return lines_schema(self.extra_columns)

    def _open(self, name: str, schema: pa.Schema) -> pq.ParquetWriter:
        if name not in self._writers:
            path = self.folder / name
            path.parent.mkdir(parents=True, exist_ok=True)
            self._writers[name] = pq.ParquetWriter(path, schema, compression="zstd")
        return self._writers[name]

    def write(
        self, lines: pd.DataFrame | None, inspections: pd.DataFrame | None, sources: pd.DataFrame | None
    ) -> None:
        """Add a chunk's rows to each table (None: nothing for that table)."""
        with writing(self.folder):
            if lines is not None and len(lines):
                self._write_lines(to_arrow(lines, self._lines_schema))
            if inspections is not None and len(inspections) and self.with_inspections:
                self._writers[INSPECTIONS_FILE].write_table(to_arrow(inspections, INSPECTIONS_SCHEMA))
            if sources is not None and len(sources):
                table = pa.Table.from_pandas(sources, preserve_index=False).select(SOURCES_SCHEMA.names)
                self._writers[SOURCES_FILE].write_table(table.cast(SOURCES_SCHEMA))

    def _write_lines(self, table: pa.Table) -> None:
        if not self.partitioned:
            self._writers[LINES_FILE].write_table(table)
            return
        for month, rows in by_month(table):
            name = f"{LINES_DIR}/{PARTITION}={month}/part-0.parquet"
            self._open(name, self._lines_schema).write_table(rows)

    def close(self, manifest: dict[str, Any]) -> None:
        """Finish every file, then write the manifest."""
        with writing(self.folder):
            for writer in self._writers.values():
                writer.close()
            self._writers.clear()
            if self.partitioned:
                (self.folder / LINES_DIR).mkdir(exist_ok=True)  # a load of no lines: an empty dataset
            write_manifest(self.folder, {"extra_columns": self.extra_columns, **manifest})

    def __exit__(
        self, kind: type[BaseException] | None, error: BaseException | None, trace: TracebackType | None
    ) -> None:
        for writer in self._writers.values():  # not closed: abandoned with its folder
            writer.close()
        self._writers.clear()
