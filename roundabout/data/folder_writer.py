"""Writing a canonical data folder a chunk at a time, so an ingest never holds a whole file's lines.

Each table goes to `<file>.partial` through one Parquet writer (a row group per chunk, the same schema
and compression as `io.write_folder`), and only `close` puts the files in place (one rename each) with the
manifest last; a write that fails or is abandoned leaves no half-written table. (An ingest writes into a
folder beside its target and swaps it in whole: `ingest.py`.)
"""

import json
import os
from dataclasses import dataclass, field
from pathlib import Path
from types import TracebackType
from typing import Any

import pandas as pd
import pyarrow as pa
import pyarrow.parquet as pq

from roundabout.data.io import (
    EXTRA_KINDS,
    INSPECTIONS_FILE,
    LINES_FILE,
    MANIFEST_FILE,
    TRUTH_FILE,
    to_arrow,
)
from roundabout.data.schema import INSPECTIONS_SCHEMA, LINE_FIELDS, arrow_schema
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
    """Lines, outcomes (unless `with_inspections` is off) and provenance written chunk by chunk into
    `folder`; use as a context manager, and `close(manifest)` to finish."""

    folder: Path
    extra_columns: dict[str, str]
    with_inspections: bool = True
    _writers: dict[str, tuple[pq.ParquetWriter, pa.Schema]] = field(default_factory=dict)

    def __enter__(self) -> "FolderWriter":
        extra = {name: EXTRA_KINDS[kind] for name, kind in self.extra_columns.items()}
        tables = {LINES_FILE: arrow_schema(LINE_FIELDS, extra), SOURCES_FILE: SOURCES_SCHEMA}
        if self.with_inspections:
            tables[INSPECTIONS_FILE] = INSPECTIONS_SCHEMA
        with writing(self.folder):
            self.folder.mkdir(parents=True, exist_ok=True)
            for name, schema in tables.items():
                path = self._partial(name)
                self._writers[name] = (pq.ParquetWriter(path, schema, compression="zstd"), schema)
        return self

    def write(
        self, lines: pd.DataFrame | None, inspections: pd.DataFrame | None, sources: pd.DataFrame | None
    ) -> None:
        """Add a chunk's rows to each table (None: nothing for that table)."""
        with writing(self.folder):
            for name, frame in (
                (LINES_FILE, lines),
                (INSPECTIONS_FILE, inspections),
                (SOURCES_FILE, sources),
            ):
                if frame is None or not len(frame) or name not in self._writers:
                    continue
                writer, schema = self._writers[name]
                if name == SOURCES_FILE:
                    table = pa.Table.from_pandas(frame, preserve_index=False).select(schema.names)
                    writer.write_table(table.cast(schema))
                else:
                    writer.write_table(to_arrow(frame, schema))

    def close(self, manifest: dict[str, Any]) -> None:
        """Finish every file and put it in place, then the manifest; remove files this folder must not
        hold (outcomes left out of this load, a truth file of an earlier one)."""
        with writing(self.folder):
            for writer, _schema in self._writers.values():
                writer.close()
            for name in self._writers:
                os.replace(self._partial(name), self.folder / name)
            self._writers.clear()
            if not self.with_inspections:
                (self.folder / INSPECTIONS_FILE).unlink(missing_ok=True)
            (self.folder / TRUTH_FILE).unlink(missing_ok=True)
            body = {"extra_columns": self.extra_columns, **manifest}
            text = json.dumps(body, indent=2, sort_keys=True, default=str) + "\n"
            (self.folder / MANIFEST_FILE).write_text(text)

    def __exit__(
        self, kind: type[BaseException] | None, error: BaseException | None, trace: TracebackType | None
    ) -> None:
        for name, (writer, _schema) in self._writers.items():  # not closed: abandoned
            writer.close()
            self._partial(name).unlink(missing_ok=True)
        self._writers.clear()

    def _partial(self, name: str) -> Path:
        return self.folder / f"{name}.partial"
