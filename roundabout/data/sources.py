"""Reading an administration's source files: every value of a CSV as text (codes keep their leading
zeros), Parquet as typed, each row numbered as in the file, and the records the CSV parser could not split
named as rejects rather than lost.

A file is read in chunks of rows (`iter_source`), so what is held at once does not grow with the file;
`read_source` is the same reader taken whole, for the small tables a goods line joins to.
"""

import re
import warnings
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.parquet as pq

from roundabout.data.mapping import IngestMapping, MappingError
from roundabout.data.validation import empty_rejects

_SKIPPED = re.compile(r"Skipping line (\d+): (.*)")

#: Rows read at a time when none is given: about 200 MB of text for a wide export.
CHUNK_ROWS = 200_000


@dataclass
class SourceTable:
    """A source file (or a chunk of it) as read: its rows, each row's source number, and records that
    could not be parsed. `done` is the share of the file read so far (1.0 at its end)."""

    frame: pd.DataFrame
    source_rows: np.ndarray
    malformed: pd.DataFrame
    done: float = 1.0


def _format(path: Path, mapping: IngestMapping) -> str:
    if not path.exists():
        raise MappingError(f"source file not found: {path}")
    return mapping.source.format or ("parquet" if path.suffix.lower() in {".parquet", ".pq"} else "csv")


def iter_source(
    path: Path, mapping: IngestMapping, chunk_rows: int = CHUNK_ROWS, columns: set[str] | None = None
) -> Iterator[SourceTable]:
    """Read CSV (every value as text, so codes keep their leading zeros) or Parquet, `chunk_rows` rows at a
    time; row numbers and malformed records count from the start of the file. With `columns`, only those
    of the file's columns are kept (the others are parsed past, never held)."""
    path = Path(path)
    if chunk_rows < 1:
        raise MappingError(f"chunk_rows must be at least 1, not {chunk_rows}")
    if _format(path, mapping) == "parquet":
        yield from _iter_parquet(path, chunk_rows, columns)
    else:
        yield from _iter_csv(path, mapping, chunk_rows, columns)


def _iter_parquet(path: Path, chunk_rows: int, columns: set[str] | None) -> Iterator[SourceTable]:
    try:
        file = pq.ParquetFile(path)
        total = max(file.metadata.num_rows, 1)
        kept = None if columns is None else [c for c in file.schema_arrow.names if c in columns]
        batches = file.iter_batches(batch_size=chunk_rows, columns=kept)
        first = 1
        if file.metadata.num_rows == 0:
            yield SourceTable(
                file.schema_arrow.empty_table().to_pandas(), np.zeros(0, np.int64), empty_rejects()
            )
            return
        for batch in batches:
            frame = pa.Table.from_batches([batch]).to_pandas()
            frame = frame.drop(columns=[c for c in frame.columns if str(c).startswith("__index_level_")])
            rows = np.arange(first, first + len(frame), dtype=np.int64)
            first += len(frame)
            yield SourceTable(frame, rows, empty_rejects(), min((first - 1) / total, 1.0))
    except (pa.ArrowException, OSError) as exc:  # pyarrow raises several types for unreadable files
        raise MappingError(f"cannot read {path} as Parquet: {exc}") from exc


def _iter_csv(
    path: Path, mapping: IngestMapping, chunk_rows: int, columns: set[str] | None
) -> Iterator[SourceTable]:
    size = max(path.stat().st_size, 1)
    records = 0  # records (rows and malformed ones) read before this chunk
    with open(path, "rb") as handle:
        try:
            reader = pd.read_csv(
                handle,
                dtype=str,
                keep_default_na=False,
                na_values=[""],
                sep=mapping.source.delimiter,
                encoding=mapping.source.encoding,
                on_bad_lines="warn",
                chunksize=chunk_rows,
            )
            yielded = False
            while True:
                # warnings are caught around the parser only: the caller's code runs between chunks
                with warnings.catch_warnings(record=True) as caught:
                    warnings.simplefilter("always")
                    frame = next(reader, None)
                skipped = [
                    (int(m.group(1)) - 1, m.group(2).strip())
                    for w in caught
                    for m in _SKIPPED.finditer(str(w.message))
                ]
                if frame is None:
                    if not yielded:  # a header without rows: its columns, so a mapping can still be checked
                        yield SourceTable(
                            _header_only(path, mapping), np.zeros(0, np.int64), _malformed(skipped)
                        )
                    return
                numbers = np.setdiff1d(
                    np.arange(records + 1, records + len(frame) + len(skipped) + 1, dtype=np.int64),
                    np.array([row for row, _ in skipped], dtype=np.int64),
                )
                records += len(frame) + len(skipped)
                yielded = True
                frame = frame.reset_index(drop=True)  # each chunk numbered from 0, as a whole file is
                if columns is not None:  # dropped after parsing: pandas' `usecols` would let a record
                    frame = frame[[c for c in frame.columns if c in columns]]  # with a field too many pass
                yield SourceTable(frame, numbers, _malformed(skipped), min(handle.tell() / size, 1.0))
        except (UnicodeDecodeError, pd.errors.ParserError, pd.errors.EmptyDataError) as exc:
            raise MappingError(f"cannot read {path} as CSV: {exc}") from exc


def _header_only(path: Path, mapping: IngestMapping) -> pd.DataFrame:
    return pd.read_csv(
        path, dtype=str, nrows=0, sep=mapping.source.delimiter, encoding=mapping.source.encoding
    )


def _malformed(skipped: list[tuple[int, str]]) -> pd.DataFrame:
    return pd.DataFrame(
        {
            "table": "lines",
            "source_row": pd.Series([row for row, _ in skipped], dtype="int64"),
            "field": "",
            "value": "",
            "reason": [f"malformed CSV record: {why}" for _, why in skipped],
        }
    )


def read_source(path: Path, mapping: IngestMapping, columns: set[str] | None = None) -> SourceTable:
    """The whole file as one table (for the tables goods lines join to, which are read whole); with
    `columns`, only those of its columns (the others are never held)."""
    parts = list(iter_source(path, mapping, columns=columns))
    if len(parts) == 1:
        return parts[0]
    return SourceTable(
        pd.concat([p.frame for p in parts], ignore_index=True),
        np.concatenate([p.source_rows for p in parts]),
        pd.concat([p.malformed for p in parts], ignore_index=True),
    )


def text(series: pd.Series) -> pd.Series:
    """A column as text (missing stays missing)."""
    return series if pd.api.types.is_string_dtype(series) else series.astype("str").where(series.notna())
