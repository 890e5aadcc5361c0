"""Merging in-memory deltas into the store's aggregate tables, set-wise, keeping every running total right.

A table of per-(key, day) sums with running totals (`feat_agg_*`, `feat_distinct`) takes a delta frame
of sums in three statements whatever its size: the store's rows of the touched keys from each key's
first delta day on, and each key's last row before it (its running totals so far), are read by joining
a staging table of the keys; the union of stored and added sums is recomputed in memory (sums added,
running totals carried on from the stored row before); new rows are inserted and changed rows updated in
bulk (`table_io.py`). Loading history in date order, the stored rows read are each key's last one, so the
cost follows the lines added, not the store's size. First sightings (`feat_pairs`) merge the same way:
new pairs inserted, pairs now seen earlier moved, and the change to the distinct counts returned.
"""

from dataclasses import dataclass
from typing import Any

import pandas as pd
import sqlalchemy as sa
from sqlalchemy.engine import Connection

from roundabout.features.specs import Aggregate
from roundabout.store.bulk.deltas import distinct_deltas
from roundabout.store.bulk.table_io import TableIO
from roundabout.store.tables import StoreTables, cumulative

_TYPES: dict[str, Any] = {"rel": sa.Text, "key": sa.Text, "value": sa.Text, "line_id": sa.Text}


_DAYS = ("day", "d0", "d1", "first_day")


def _type(column: str) -> Any:
    return _TYPES.get(column, sa.Integer if column in _DAYS else sa.Double)


def _typed(frame: pd.DataFrame) -> pd.DataFrame:
    """A frame read back (possibly empty, so untyped) with day columns as integers and the rest of the
    non-text columns as floats, so it merges with the in-memory frames."""
    for c in frame.columns:
        if c in _DAYS:
            frame[c] = frame[c].astype("int64")
        elif c not in _TYPES:
            frame[c] = frame[c].astype("float64")
    return frame


@dataclass(frozen=True)
class Running:
    """A table of per-(key, day) sums with running totals of some of them."""

    table: sa.Table
    keys: tuple[str, ...]
    measures: tuple[str, ...]
    totals: tuple[tuple[str, str], ...]  # (running-total column, the measure it adds up)

    @classmethod
    def of_aggregate(cls, tables: StoreTables, agg: Aggregate) -> "Running":
        totals = tuple((f"cum_{m}", m) for m in cumulative(agg))
        return cls(tables.aggs[agg.name], ("key",), agg.measures, totals)

    @classmethod
    def of_distinct(cls, tables: StoreTables) -> "Running":
        return cls(tables.distinct, ("rel", "key"), ("n",), (("cum", "n"),))


class Merger:
    """Merges delta frames into one store's tables (see the module docstring)."""

    def __init__(self, io: TableIO) -> None:
        self.io = io

    def _types(self, frame: pd.DataFrame, table: sa.Table | None = None) -> dict[str, Any]:
        """Column types of a staging table: those of `table`'s columns of the same name, else by name."""
        return {c: table.c[c].type if table is not None and c in table.c else _type(c) for c in frame.columns}

    def stage(self, conn: Connection, frame: pd.DataFrame, table: sa.Table | None = None) -> sa.Table:
        """A staging table of `frame` (dropped by the caller; rolled back with the transaction on error)."""
        return self.io.stage(conn, frame, self._types(frame, table))

    # running sums ------------------------------------------------------------------------------------
    def sums(self, conn: Connection, target: Running, delta: pd.DataFrame) -> None:
        """Add `delta` (key columns, `day`, measures; one row per key and day) to `target`."""
        if delta.empty:
            return
        keys, t = list(target.keys), target.table
        stored, base = self._stored(conn, target, delta)
        union = delta.merge(stored, on=[*keys, "day"], how="outer", suffixes=("", "_stored"), indicator=True)
        union = union.sort_values([*keys, "day"], kind="stable").reset_index(drop=True)
        for m in target.measures:
            # stored + added, as the per-line upsert adds them
            union[m] = union[f"{m}_stored"].fillna(0.0) + union[m].fillna(0.0)
        if target.totals:
            first = ~union.duplicated(keys)
            starts = union.loc[first, keys].merge(base, on=keys, how="left")
            for total, m in target.totals:
                carried = union[m].copy()
                carried[first] = starts[total].fillna(0.0).to_numpy() + carried[first].to_numpy()
                union[total] = carried.groupby([union[k] for k in keys], sort=False).cumsum()
        columns = [*keys, "day", *target.measures, *(total for total, _ in target.totals)]
        new = union["_merge"] == "left_only"
        self.io.insert(conn, t, union.loc[new, columns])
        changed = union.loc[~new, columns]
        self.io.update(conn, t, changed, [*keys, "day"], self._types(changed, t))

    def _stored(
        self, conn: Connection, target: Running, delta: pd.DataFrame
    ) -> tuple[pd.DataFrame, pd.DataFrame]:
        """The stored rows of the touched keys from each key's first delta day on, and each key's last row
        before it (its running totals), as frames."""
        keys, t = list(target.keys), target.table
        sum_columns = [*keys, "day", *(f"{m}_stored" for m in target.measures)]
        base_columns = [*keys, *(total for total, _ in target.totals)]
        if self.io.is_empty(conn, t):
            return _typed(pd.DataFrame(columns=sum_columns)), _typed(pd.DataFrame(columns=base_columns))
        touched = delta.groupby(keys, sort=True)["day"].min().rename("d0").reset_index()
        staged = self.stage(conn, touched, t)
        start = staged.c.d0
        if target.totals:
            # from each key's last day before d0 (one index seek a key): its running totals so far
            a = t.alias()
            last = (
                sa.select(sa.func.max(a.c.day))
                .where(*(a.c[k] == staged.c[k] for k in keys), a.c.day < staged.c.d0)
                .scalar_subquery()
            )
            start = sa.func.coalesce(last, staged.c.d0)
        spans = sa.select(*(staged.c[k] for k in keys), staged.c.d0, start.label("lo")).subquery()
        columns = [*keys, "day", *target.measures, *base_columns[len(keys) :]]
        query = sa.select(*(t.c[c] for c in columns), spans.c.d0).join_from(
            spans, t, sa.and_(*(t.c[k] == spans.c[k] for k in keys), t.c.day >= spans.c.lo)
        )
        rows = self.io.read(conn, query)
        self.io.drop(conn, staged)
        before = rows["day"] < rows["d0"]
        base = rows.loc[before, base_columns]
        stored = rows.loc[~before, [*keys, "day", *target.measures]]
        stored.columns = sum_columns
        return _typed(stored.reset_index(drop=True)), _typed(base.reset_index(drop=True))

    # first sightings ---------------------------------------------------------------------------------
    def pairs(self, conn: Connection, pairs: sa.Table, sighted: pd.DataFrame) -> pd.DataFrame:
        """Record first sightings `sighted` (rel, key, value, first_day) in `pairs`; returns how the running
        distinct counts change (rel, key, day, n; see `deltas.distinct_deltas`)."""
        match = ["rel", "key", "value"]
        if sighted.empty:
            return distinct_deltas(sighted, _typed(pd.DataFrame(columns=[*match, "stored_day"])))
        if self.io.is_empty(conn, pairs):
            self.io.insert(conn, pairs, sighted[[*match, "first_day"]])
            return distinct_deltas(sighted, _typed(pd.DataFrame(columns=[*match, "stored_day"])))
        staged = self.stage(conn, sighted, pairs)
        same = [pairs.c[c] == staged.c[c] for c in match]
        # only the pairs now seen earlier than recorded, and the new ones, come back: in date order, few
        earlier = self.io.read(
            conn,
            sa.select(
                *(staged.c[c] for c in match), staged.c.first_day, pairs.c.first_day.label("stored_day")
            )
            .join_from(staged, pairs, sa.and_(*same))
            .where(staged.c.first_day < pairs.c.first_day),
        )
        if not earlier.empty:
            conn.execute(
                sa.update(pairs)
                .where(*same, staged.c.first_day < pairs.c.first_day)
                .values(first_day=staged.c.first_day)
            )
        insert = (
            self.io.backend.insert(pairs)
            .from_select(
                [*match, "first_day"],
                sa.select(*(staged.c[c] for c in [*match, "first_day"])).where(sa.true()),
            )
            .on_conflict_do_nothing(index_elements=match)
            .returning(*(pairs.c[c] for c in [*match, "first_day"]))
        )
        new = self.io.read(conn, insert)
        self.io.drop(conn, staged)
        earlier = _typed(earlier)
        changed = pd.concat([_typed(new), earlier[[*match, "first_day"]]], ignore_index=True)
        return distinct_deltas(changed, earlier[[*match, "stored_day"]])

    # lookups -----------------------------------------------------------------------------------------
    def rows_of(self, conn: Connection, table: sa.Table, ids: list[str], columns: list[str]) -> pd.DataFrame:
        """`columns` of the rows of `table` whose `line_id` is one of `ids`."""
        if not ids or self.io.is_empty(conn, table):
            return pd.DataFrame(columns=columns)
        staged = self.stage(conn, pd.DataFrame({"line_id": pd.Series(ids, dtype=object)}))
        query = sa.select(*(table.c[c] for c in columns)).join_from(
            table, staged, table.c.line_id == staged.c.line_id
        )
        found = self.io.read(conn, query)
        self.io.drop(conn, staged)
        return found

    def spans(self, conn: Connection, table: sa.Table, spans: pd.DataFrame, where: Any) -> pd.DataFrame:
        """(key, day) of the rows of `table` meeting `where` on days d0 <= day < d1 of each key of `spans`
        (key, d0, d1)."""
        if spans.empty or self.io.is_empty(conn, table):
            return _typed(pd.DataFrame(columns=["key", "day"]))
        staged = self.stage(conn, spans)
        on = sa.and_(table.c.key == staged.c.key, table.c.day >= staged.c.d0, table.c.day < staged.c.d1)
        found = self.io.read(
            conn, sa.select(table.c.key, table.c.day).join_from(table, staged, on).where(where)
        )
        self.io.drop(conn, staged)
        return _typed(found)
