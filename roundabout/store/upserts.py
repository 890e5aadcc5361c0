"""The store's write statements and the upserts every addition is made of: per-(key, day) sums with running
totals, first-seen pairs and the running distinct counts.

Each statement is built once and compiled on first use (building SQLAlchemy statements per call costs
more than running them). Sums go in (key, day) order after the running totals of the key's later days
have been raised, so each upsert reads the total of the key's previous row: a line dated before lines
already stored keeps every running total right.
"""

from collections import defaultdict
from typing import Any

import numpy as np
import pandas as pd
import sqlalchemy as sa
from sqlalchemy.engine import Connection

from roundabout.features.history import AGGREGATES
from roundabout.features.specs import Aggregate
from roundabout.store.backends import Backend
from roundabout.store.statements import CompiledStatement
from roundabout.store.tables import StoreTables, cumulative, total_before

#: Up to this many rows, a step runs row by row on compiled statements (the serving path); beyond, set-wise.
SMALL = 256
#: Ids per `IN (...)` list.
CHUNK = 900


class AggregateUpserts:
    """The write statements of one store and the upserts built on them."""

    def __init__(self, backend: Backend, tables: StoreTables) -> None:
        self.backend = backend
        self.tables = tables
        self.statements = self._build_statements()
        self._compiled: dict[str, CompiledStatement] = {}

    # statements --------------------------------------------------------------------------------------
    def _build_statements(self) -> dict[str, Any]:
        """Upserts and id lookups, built once (building SQLAlchemy statements per call costs more than
        running them)."""
        t, insert = self.tables, self.backend.insert
        out: dict[str, Any] = {}
        out["lines"] = insert(t.lines).on_conflict_do_nothing(index_elements=["line_id"])
        out["outcomes"] = insert(t.outcomes).on_conflict_do_nothing(index_elements=["line_id"])
        one = sa.bindparam("id", type_=sa.Text)
        out["known_line"] = sa.select(t.lines.c.line_id).where(t.lines.c.line_id == one)
        out["known_outcome"] = sa.select(t.outcomes.c.line_id).where(t.outcomes.c.line_id == one)
        o = t.outcomes.c
        out["pending_outcome"] = sa.select(o.line_id, o.inspected_on, o.outcome, o.violation_type).where(
            o.line_id == one
        )
        k, d = sa.bindparam("k", type_=sa.Text), sa.bindparam("d", type_=sa.Integer)
        for agg in AGGREGATES:
            table = t.aggs[agg.name]
            x = {m: sa.bindparam(f"x_{m}", type_=sa.Double) for m in agg.measures}
            running = cumulative(agg)
            values: dict[str, Any] = {"key": k, "day": d, **x}
            for m in running:
                values[f"cum_{m}"] = sa.func.coalesce(total_before(table, f"cum_{m}", k, d), 0.0) + x[m]
            stmt = insert(table).values(values)
            set_ = {m: table.c[m] + stmt.excluded[m] for m in agg.measures}
            set_.update({f"cum_{m}": table.c[f"cum_{m}"] + stmt.excluded[m] for m in running})
            out[f"agg:{agg.name}"] = stmt.on_conflict_do_update(index_elements=["key", "day"], set_=set_)
            if running:
                # the running totals of the key's later days include the added sums too
                out[f"later:{agg.name}"] = (
                    sa.update(table)
                    .where(table.c.key == k, table.c.day > d)
                    .values({f"cum_{m}": table.c[f"cum_{m}"] + x[m] for m in running})
                )
        p, dt = t.pairs, t.distinct
        r, x1 = sa.bindparam("r", type_=sa.Text), sa.bindparam("x", type_=sa.Double)
        running_distinct = sa.func.coalesce(total_before(dt, "cum", k, d, rel=r), 0.0) + x1
        ins = insert(dt).values(rel=r, key=k, day=d, n=x1, cum=running_distinct)
        out["distinct"] = ins.on_conflict_do_update(
            index_elements=["rel", "key", "day"],
            set_={"n": dt.c.n + ins.excluded.n, "cum": dt.c.cum + ins.excluded.n},
        )
        out["distinct_later"] = (
            sa.update(dt).where(dt.c.rel == r, dt.c.key == k, dt.c.day > d).values(cum=dt.c.cum + x1)
        )
        v = sa.bindparam("v", type_=sa.Text)
        out["pair_first"] = sa.select(p.c.first_day).where(p.c.rel == r, p.c.key == k, p.c.value == v)
        pairs = insert(p)
        earlier = sa.case(
            (pairs.excluded.first_day < p.c.first_day, pairs.excluded.first_day), else_=p.c.first_day
        )
        out["pairs"] = pairs.on_conflict_do_update(
            index_elements=["rel", "key", "value"], set_={"first_day": earlier}
        )
        return out

    def statement(self, name: str) -> CompiledStatement:
        """The write statement `name`, compiled on first use."""
        compiled = self._compiled.get(name)
        if compiled is None:
            compiled = CompiledStatement(self.statements[name], self.backend)
            self._compiled[name] = compiled
        return compiled

    def run(self, conn: Connection, name: str, rows: list[dict[str, Any]]) -> None:
        self.statement(name).execute(conn, rows)

    def known(self, conn: Connection, ids: list[str], table: sa.Table, one: str) -> set[str]:
        """Which of `ids` `table` holds: one compiled lookup per id for a few (pipelined on PostgreSQL),
        `IN` lists for many."""
        if len(ids) <= SMALL:
            found = self.statement(one).fetch_each(conn, [{"id": i} for i in ids])
            return {i for i, rows in zip(ids, found, strict=True) if rows}
        known: set[str] = set()
        for i in range(0, len(ids), CHUNK):
            query = sa.select(table.c.line_id).where(table.c.line_id.in_(ids[i : i + CHUNK]))
            known.update(conn.execute(query).scalars())
        return known

    def upsert(
        self,
        conn: Connection,
        agg: Aggregate,
        keys: list[str | None],
        days: np.ndarray,
        values: dict[str, np.ndarray],
    ) -> None:
        rows = group_sums(keys, days, values, agg.measures)
        if not rows:
            return
        params = [{"k": r["key"], "d": r["day"], **{f"x_{m}": r[m] for m in agg.measures}} for r in rows]
        # Later days' running totals first (rows added by this call do not exist yet), then the upserts in
        # (key, day) order, each reading the total of the key's previous row.
        if f"later:{agg.name}" in self.statements:
            self.run(conn, f"later:{agg.name}", params)
        self.run(conn, f"agg:{agg.name}", params)

    def count_new_pairs(self, conn: Connection, rows: list[dict[str, Any]]) -> None:
        """Fold pairs about to be upserted into the running distinct counts (before the upsert): a new pair
        counts from its first day; a known pair now seen earlier than its recorded first day moves there."""
        if not rows:
            return
        known = self.recorded_first_days(conn, rows)
        deltas: dict[tuple[str, str, int], float] = defaultdict(float)
        for r in rows:
            old = known.get((r["rel"], r["key"], r["value"]))
            if old is None:
                deltas[(r["rel"], r["key"], r["first_day"])] += 1.0
            elif r["first_day"] < old:
                deltas[(r["rel"], r["key"], old)] -= 1.0
                deltas[(r["rel"], r["key"], r["first_day"])] += 1.0
        params = [
            {"r": rel, "k": key, "d": day, "x": x} for (rel, key, day), x in sorted(deltas.items()) if x
        ]
        if params:
            # later days' running totals first, then the upserts in (rel, key, day) order (as aggregates)
            self.run(conn, "distinct_later", params)
            self.run(conn, "distinct", params)

    def recorded_first_days(
        self, conn: Connection, rows: list[dict[str, Any]]
    ) -> dict[tuple[str, str, str], int]:
        """The stored first day of each (rel, key, value) of `rows` that is in `feat_pairs` already."""
        found: dict[tuple[str, str, str], int] = {}
        if len(rows) <= SMALL:
            params = [{"r": r["rel"], "k": r["key"], "v": r["value"]} for r in rows]
            for r, hit in zip(rows, self.statement("pair_first").fetch_each(conn, params), strict=True):
                if hit:
                    found[(r["rel"], r["key"], r["value"])] = int(hit[0][0])
            return found
        p = self.tables.pairs
        by_rel: dict[str, list[str]] = defaultdict(list)
        for rel, key in {(r["rel"], r["key"]) for r in rows}:
            by_rel[rel].append(key)
        for rel, keys in by_rel.items():
            keys.sort()
            for i in range(0, len(keys), CHUNK):
                query = sa.select(p.c.key, p.c.value, p.c.first_day).where(
                    p.c.rel == rel, p.c.key.in_(keys[i : i + CHUNK])
                )
                for key, value, first_day in conn.execute(query):
                    found[(rel, key, value)] = int(first_day)
        return found


def first_pairs(
    out: list[dict[str, Any]], rel: str, keys: list[str | None], values: list[str | None], days: np.ndarray
) -> None:
    """Append to `out` the `feat_pairs` rows of the first day each (key, value) is seen under `rel`."""
    first: dict[tuple[str, str], int] = {}
    for key, value, day in zip(keys, values, days.tolist(), strict=True):
        if key is None or value is None:
            continue
        if (key, value) not in first or day < first[(key, value)]:
            first[(key, value)] = day
    out.extend({"rel": rel, "key": k, "value": v, "first_day": d} for (k, v), d in first.items())


def group_sums(
    keys: list[str | None], days: np.ndarray, values: dict[str, np.ndarray], measures: tuple[str, ...]
) -> list[dict[str, Any]]:
    """Per-(key, day) sums of the measures, rows in (key, day) order; missing keys are skipped."""
    if len(keys) > SMALL:
        return sum_frame(keys, days, values, measures).to_dict("records")
    sums: dict[tuple[str, int], list[float]] = {}
    day_list = days.tolist()
    columns = [values[m].tolist() for m in measures]
    for i, key in enumerate(keys):
        if key is None:
            continue
        acc = sums.setdefault((key, day_list[i]), [0.0] * len(measures))
        for j, col in enumerate(columns):
            acc[j] += col[i]
    return [
        {"key": k, "day": d, **dict(zip(measures, acc, strict=True))} for (k, d), acc in sorted(sums.items())
    ]


def sum_frame(
    keys: list[str | None], days: np.ndarray, values: dict[str, np.ndarray], measures: tuple[str, ...]
) -> pd.DataFrame:
    """Per-(key, day) sums of the measures as a frame (`key`, `day`, measures) in (key, day) order; missing
    keys are skipped."""
    frame = pd.DataFrame(
        {"key": pd.Series(keys, dtype=object), "day": days, **{m: values[m] for m in measures}}
    )
    frame = frame[frame["key"].notna()]
    grouped = frame.groupby(["key", "day"], sort=True)[list(measures)].sum().reset_index()
    grouped["day"] = grouped["day"].astype("int64")
    return grouped
