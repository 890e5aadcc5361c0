"""Joining the tables of a declaration system's export into goods lines, as a mapping's `tables` declare.

A goods declaration system hands over a header table (one row per document: number, date, declarant,
procedure, office, countries), an items table (one row per goods line) and often a parties table (one
row per document and role). The items are the goods lines; every other table joins to them on its key,
many items to one row. Nothing is dropped in silence:

- an item without its row in a required table (or with two of them) is rejected, field the table's name,
  value the key; a table declared `required: false` leaves the item's fields from it empty instead;
- a row of another table that two rows share the key of, or that no item refers to (a header without
  items), is rejected too, under that table's name.

The joined frame names every column TABLE.COLUMN, which the mapping's `columns` refer to. The other tables
are read whole and keyed once (`plan_join`); the items, the big table, are joined chunk by chunk as read.
"""

from dataclasses import dataclass

import numpy as np
import pandas as pd

from roundabout.data.mapping import IngestMapping, MappingError, Table
from roundabout.data.sources import SourceTable, text

_SEP = "\x1f"


@dataclass
class _Side:
    """One table the goods lines join to, prepared once: its rows with a single key, which were used."""

    name: str
    spec: Table
    rows: pd.DataFrame  # its columns the mapping reads, TABLE.COLUMN, one row per usable key
    index: pd.Index  # the usable keys, in the order of `rows`
    shared: pd.Index  # keys two rows of the table share
    source_rows: np.ndarray  # of `rows`
    used: np.ndarray  # per row of `rows`: some goods line joined to it
    read: int
    rejected: int  # rows rejected when keyed (a key two rows share, an empty key)
    key_field: str


@dataclass
class JoinPlan:
    """The tables goods lines join to, read whole and keyed; items are joined chunk by chunk (`join`),
    and what no item used is known at the end (`finish`)."""

    main: str
    wanted: set[str]
    sides: list[_Side]
    other_rejects: list[pd.DataFrame]

    def join(self, items: SourceTable) -> tuple[SourceTable, pd.DataFrame]:
        """A chunk of items with its tables' columns attached, and the items rejected (no row, or two)."""
        keys = {f"{self.main}.{c}" for side in self.sides for c in side.spec.join}
        frame = items.frame.reset_index(drop=True).add_prefix(f"{self.main}.")
        frame = frame[[c for c in frame.columns if c in self.wanted or c in keys]]
        rows = items.source_rows
        keep = np.ones(len(frame), dtype=bool)
        line_rejects = []
        attached = [frame]
        for side in self.sides:
            left = _key(frame, [f"{self.main}.{c}" for c in side.spec.join], self.main)
            position = side.index.get_indexer(left)
            found = position >= 0
            if side.spec.required:
                twice = side.shared.get_indexer(left) >= 0
                for mask, why in (
                    (~found & ~twice, f"no {side.name} row for it"),
                    (~found & twice, f"more than one {side.name} row for it"),
                ):
                    if (mask & keep).any():
                        line_rejects.append(
                            _rejects("lines", rows[mask & keep], side.name, left[mask & keep], why)
                        )
                keep &= found
            columns = (
                side.rows.iloc[np.where(found, position, 0)].reset_index(drop=True)
                if len(side.rows)
                else pd.DataFrame(index=range(len(frame)), columns=side.rows.columns)
            )
            columns.loc[~found] = None
            attached.append(columns)
            side.used[position[found]] = True
        joined = pd.concat(attached, axis=1)
        joined = joined[[c for c in joined.columns if c in self.wanted]]
        out = SourceTable(joined.loc[keep].reset_index(drop=True), rows[keep], items.malformed, items.done)
        return out, pd.concat(line_rejects, ignore_index=True) if line_rejects else _empty()

    def finish(self) -> tuple[pd.DataFrame, dict[str, dict[str, int]]]:
        """The rows of other tables rejected (a key two rows share, no goods line referring to it) and the
        counts per table."""
        rejects = list(self.other_rejects)
        counts: dict[str, dict[str, int]] = {}
        for side in self.sides:
            unused = ~side.used
            if unused.any():
                rejects.append(
                    _rejects(
                        side.name,
                        side.source_rows[unused],
                        side.key_field,
                        pd.Series(side.index[unused], dtype="str"),
                        "no goods line refers to it",
                    )
                )
            counts[side.name] = {
                "rows_read": side.read,
                "joined": int(side.used.sum()),
                "rejected": side.rejected + int(unused.sum()),
            }
        return (pd.concat(rejects, ignore_index=True) if rejects else _empty()), counts


def _empty() -> pd.DataFrame:
    return pd.DataFrame(columns=["table", "source_row", "field", "value", "reason"])


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


def plan_join(sources: dict[str, SourceTable], mapping: IngestMapping) -> JoinPlan:
    """Key the tables of `mapping` other than the goods lines' (read whole into `sources` by file name)."""
    main = mapping.main_table
    assert main is not None
    wanted = mapping.source_columns()
    sides, other_rejects = [], []
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
        empty = right.isna().to_numpy()
        if empty.any():
            other_rejects.append(
                _rejects(name, other_rows[empty], key_field, right[empty], f"its key {key_field} is empty")
            )
        single = ~shared & ~empty
        rows = other.loc[single].reset_index(drop=True).add_prefix(f"{name}.")
        rows = rows[[c for c in rows.columns if c in wanted]]
        sides.append(
            _Side(
                name,
                spec,
                rows,
                pd.Index(right[single]),
                pd.Index(right[shared].unique()),
                other_rows[single],
                np.zeros(int(single.sum()), dtype=bool),
                len(other),
                int(shared.sum() + empty.sum()),
                key_field,
            )
        )
    return JoinPlan(main, wanted, sides, other_rejects)
