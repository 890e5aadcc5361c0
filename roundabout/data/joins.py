"""Joining the tables of a declaration system's export into goods lines, as a mapping's `tables` declare.

A goods declaration system hands over a header table (one row per document: number, date, declarant,
procedure, office, countries), an items table (one row per goods line) and often a parties table (one
row per document and role). The items are the goods lines; every other table joins to them on its key,
many items to one row. Nothing is dropped in silence:

- an item without its row in a required table (or with two of them) is rejected, field the table's name,
  value the key; a table declared `required: false` leaves the item's fields from it empty instead;
- a row of another table that two rows share the key of, or that no item refers to (a header without
  items), is rejected too, under that table's name.

The joined frame names every column TABLE.COLUMN, which the mapping's `columns` refer to.
"""

from dataclasses import dataclass

import numpy as np
import pandas as pd

from roundabout.data.mapping import IngestMapping, MappingError
from roundabout.data.sources import SourceTable, text

_SEP = "\x1f"


@dataclass
class Joined:
    """The goods lines with their tables' columns, what the join rejected, and counts per table."""

    table: SourceTable
    line_rejects: pd.DataFrame
    other_rejects: pd.DataFrame
    counts: dict[str, dict[str, int]]


def _key(frame: pd.DataFrame, columns: list[str], table: str) -> pd.Series:
    """The key text of each row (parts joined; missing where a part is)."""
    absent = [c for c in columns if c not in frame.columns]
    if absent:
        raise MappingError(f"tables.{table}: join columns absent from its file: {', '.join(absent)}")
    parts = [text(frame[c]).str.strip() for c in columns]
    key = parts[0]
    for part in parts[1:]:
        key = key + _SEP + part
    return key.reset_index(drop=True)


def _rejects(table: str, rows: np.ndarray, field: str, values: pd.Series, reason: str) -> pd.DataFrame:
    return pd.DataFrame(
        {
            "table": table,
            "source_row": rows.astype("int64"),
            "field": field,
            "value": values.fillna("").str.replace(_SEP, "/").to_numpy(),
            "reason": reason,
        }
    )


def join_tables(sources: dict[str, SourceTable], mapping: IngestMapping) -> Joined:
    """Join the tables of `mapping` (read into `sources` by file name) into one frame of goods lines."""
    main = mapping.main_table
    assert main is not None
    items = sources[mapping.tables[main].file or main]
    # only the columns the mapping reads are carried (a wide export would otherwise multiply its memory)
    wanted = mapping.source_columns()
    keys = {f"{main}.{c}" for spec in mapping.tables.values() for c in spec.join}
    frame = items.frame.reset_index(drop=True).add_prefix(f"{main}.")
    frame = frame[[c for c in frame.columns if c in wanted or c in keys]]
    rows = items.source_rows
    keep = np.ones(len(frame), dtype=bool)
    line_rejects, other_rejects = [], []
    counts: dict[str, dict[str, int]] = {}
    for name, spec in mapping.tables.items():
        if name == main:
            continue
        source = sources[spec.file or name]
        other = source.frame.reset_index(drop=True)
        chosen = np.ones(len(other), dtype=bool)
        for column, value in spec.where.items():
            if column not in other.columns:
                raise MappingError(f"tables.{name}.where: column {column!r} is absent from its file")
            chosen &= (text(other[column]).str.strip() == value).fillna(False).to_numpy()
        other, other_rows = other.loc[chosen].reset_index(drop=True), source.source_rows[chosen]
        right = _key(other, list(spec.join.values()), name)
        left = _key(frame, [f"{main}.{c}" for c in spec.join], main)
        shared = right.duplicated(keep=False).to_numpy() & right.notna().to_numpy()
        key_field = ",".join(spec.join.values())
        if shared.any():
            other_rejects.append(
                _rejects(
                    name,
                    other_rows[shared],
                    key_field,
                    right[shared],
                    f"more than one {name} row for its key",
                )
            )
        single = ~shared & right.notna().to_numpy()
        position = pd.Index(right[single]).get_indexer(left)
        found = position >= 0
        if spec.required:
            twice = left.isin(right[shared]).to_numpy()
            for mask, why in (
                (~found & ~twice, f"no {name} row for it"),
                (~found & twice, f"more than one {name} row for it"),
            ):
                if (mask & keep).any():
                    line_rejects.append(_rejects("lines", rows[mask & keep], name, left[mask & keep], why))
            keep &= found
        attached = other.loc[single].reset_index(drop=True).add_prefix(f"{name}.")
        attached = attached[[c for c in attached.columns if c in wanted]]
        attached = (
            attached.iloc[np.where(found, position, 0)].reset_index(drop=True)
            if len(attached)
            else (pd.DataFrame(index=range(len(frame)), columns=attached.columns))
        )
        attached.loc[~found] = None
        frame = pd.concat([frame, attached], axis=1)
        used = np.zeros(single.sum(), dtype=bool)
        used[position[found]] = True
        if (~used).any():
            unused_rows = other_rows[single][~used]
            other_rejects.append(
                _rejects(name, unused_rows, key_field, right[single][~used], "no goods line refers to it")
            )
        counts[name] = {
            "rows_read": len(other),
            "joined": int(used.sum()),
            "rejected": int(shared.sum() + (~used).sum()),
        }
    frame = frame[[c for c in frame.columns if c in wanted]]
    joined = SourceTable(frame.loc[keep].reset_index(drop=True), rows[keep], items.malformed)
    empty = pd.DataFrame(columns=["table", "source_row", "field", "value", "reason"])
    return Joined(
        joined,
        pd.concat(line_rejects, ignore_index=True) if line_rejects else empty,
        pd.concat(other_rejects, ignore_index=True) if other_rejects else empty.copy(),
        counts,
    )
