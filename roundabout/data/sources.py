"""Reading an administration's source files: every value of a CSV as text (codes keep their leading
zeros), Parquet as typed, each row numbered as in the file, and the records the CSV parser could not split
named as rejects rather than lost."""

import re
import warnings
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pandas as pd

from roundabout.data.mapping import IngestMapping, MappingError
from roundabout.data.validation import empty_rejects

_SKIPPED = re.compile(r"Skipping line (\d+): (.*)")


@dataclass
class SourceTable:
    """A source file as read: its rows, each row's source number, and records that could not be parsed."""

    frame: pd.DataFrame
    source_rows: np.ndarray
    malformed: pd.DataFrame


def read_source(path: Path, mapping: IngestMapping) -> SourceTable:
    """Read CSV (every value as text, so codes keep their leading zeros) or Parquet."""
    path = Path(path)
    if not path.exists():
        raise MappingError(f"source file not found: {path}")
    fmt = mapping.source.format or ("parquet" if path.suffix.lower() in {".parquet", ".pq"} else "csv")
    if fmt == "parquet":
        try:
            frame = pd.read_parquet(path)
        except Exception as exc:  # pyarrow raises several types for unreadable files
            raise MappingError(f"cannot read {path} as Parquet: {exc}") from exc
        return SourceTable(frame, np.arange(1, len(frame) + 1), empty_rejects())
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        try:
            frame = pd.read_csv(
                path,
                dtype=str,
                keep_default_na=False,
                na_values=[""],
                sep=mapping.source.delimiter,
                encoding=mapping.source.encoding,
                on_bad_lines="warn",
            )
        except (UnicodeDecodeError, pd.errors.ParserError, pd.errors.EmptyDataError) as exc:
            raise MappingError(f"cannot read {path} as CSV: {exc}") from exc
    skipped: list[tuple[int, str]] = []
    for warning in caught:
        for match in _SKIPPED.finditer(str(warning.message)):
            skipped.append((int(match.group(1)) - 1, match.group(2).strip()))
    records = set(range(1, len(frame) + len(skipped) + 1)) - {row for row, _ in skipped}
    malformed = pd.DataFrame(
        {
            "table": "lines",
            "source_row": pd.Series([row for row, _ in skipped], dtype="int64"),
            "field": "",
            "value": "",
            "reason": [f"malformed CSV record: {why}" for _, why in skipped],
        }
    )
    return SourceTable(frame, np.array(sorted(records), dtype=np.int64), malformed)


def text(series: pd.Series) -> pd.Series:
    """A column as text (missing stays missing)."""
    return series if pd.api.types.is_string_dtype(series) else series.astype("str").where(series.notna())
