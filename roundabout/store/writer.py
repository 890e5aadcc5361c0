"""The aggregate writer: folds new lines and inspection outcomes into the store's aggregates.

Adding lines updates, in the caller's transaction, every stage-0 aggregate of `features.history` (per-(key,
day) sums and the running totals of later days), the first-seen pairs and the running distinct counts,
then the derived stage-1 aggregates of RU/BY-bound exports (which need the stage-0 chain query of each
export, read inside the same transaction), then the outcomes that arrived before their lines.

Re-adding a `line_id` (or an outcome's `line_id`) is a no-op. The derived quick re-shipment measure of an
export is fixed when the export is added: exact when lines arrive in date order (any order within a day),
as in serving; back-filled imports dated before an export already in the store do not revise it.
"""

import json
from collections import defaultdict
from contextlib import nullcontext
from datetime import date, timedelta
from typing import Any

import numpy as np
import pandas as pd
import sqlalchemy as sa
from sqlalchemy.engine import Connection

from roundabout.data.schema import LINE_FIELDS, Kind
from roundabout.features.columns import Columns
from roundabout.features.history import AGGREGATES, AGGREGATES_BY_NAME, QUERIES
from roundabout.features.numpy_executor import DayTable
from roundabout.features.specs import Aggregate, Distinct, FirstDay, LastDay
from roundabout.store.backends import Backend
from roundabout.store.reader import HistoryReader, key_strings
from roundabout.store.statements import CompiledStatement
from roundabout.store.tables import DISTINCT_RELATIONS, StoreTables, cumulative, total_before

_EPOCH = date(1970, 1, 1)
#: Up to this many rows, a step runs row by row on compiled statements (the serving path); beyond, set-wise.
SMALL = 256
#: Ids per `IN (...)` list.
CHUNK = 900

Touched = set[tuple[str, str]]


class AggregateWriter:
    """Writes lines and outcomes and keeps the aggregates in step (see the module docstring)."""

    def __init__(self, backend: Backend, tables: StoreTables, reader: HistoryReader) -> None:
        self.backend = backend
        self.tables = tables
        self.reader = reader
        self._statements = self._build_statements()
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
        out["pending_outcome"] = sa.select(t.outcomes).where(t.outcomes.c.line_id == one)
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
            compiled = CompiledStatement(self._statements[name], self.backend)
            self._compiled[name] = compiled
        return compiled

    def _run(self, conn: Connection, name: str, rows: list[dict[str, Any]]) -> None:
        self.statement(name).execute(conn, rows)

    def _known(self, conn: Connection, ids: list[str], table: sa.Table, one: str) -> set[str]:
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

    # lines -------------------------------------------------------------------------------------------
    def add_lines(self, conn: Connection, cols: Columns, extra_columns: dict[str, str]) -> int:
        """Add lines (columns of checked lines with distinct ids, all fields) in the caller's transaction;
        returns how many were new. Known line_ids are skipped."""
        ids = cols["line_id"].tolist()
        known = self._known(conn, ids, self.tables.lines, "known_line")
        if known:
            new = np.array([i not in known for i in ids], dtype=bool)
            if not new.any():
                return 0
            cols = {name: values[new] for name, values in cols.items()}
        # One line (the serving path) is written and read back through compiled statements only, which
        # psycopg's pipeline mode takes; SQLAlchemy's own execute does not (it wants a result at once).
        with self.backend.pipeline(conn) if len(cols["day"]) == 1 else nullcontext():
            self._insert_lines(conn, cols, extra_columns)
            self._fold_lines(conn, cols)
        self._fold_outcomes_of_new_lines(conn, cols)
        return len(cols["day"])

    def _insert_lines(self, conn: Connection, cols: Columns, extra_columns: dict[str, str]) -> None:
        columns: dict[str, list[Any]] = {}
        for f in LINE_FIELDS:
            if f.kind is Kind.DATE:
                columns[f.name] = [_EPOCH + timedelta(days=d) for d in cols["day"].tolist()]
            elif f.kind is Kind.NUMBER:
                values = cols[f.name]
                columns[f.name] = np.where(np.isnan(values), None, values).tolist()
            else:
                columns[f.name] = cols[f.name].tolist()
        columns["day"] = cols["day"].tolist()
        if extra_columns:
            extra = {name: cols[f"extra:{name}"].tolist() for name in extra_columns}
            columns["extra"] = [
                json.dumps(
                    {
                        k: (None if isinstance(v, float) and np.isnan(v) else v)
                        for k, v in zip(extra, vals, strict=True)
                    }
                )
                for vals in zip(*extra.values(), strict=True)
            ]
        names = list(columns)
        rows = [dict(zip(names, vals, strict=True)) for vals in zip(*columns.values(), strict=True)]
        self._run(conn, "lines", rows)

    def _upsert(
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
        if f"later:{agg.name}" in self._statements:
            self._run(conn, f"later:{agg.name}", params)
        self._run(conn, f"agg:{agg.name}", params)

    def _fold_lines(self, conn: Connection, cols: Columns) -> None:
        """Fold new lines into the stage-0 aggregates and pairs, then the derived stage-1 aggregates."""
        days = cols["day"]
        pairs: list[dict[str, Any]] = []
        for agg in AGGREGATES:
            if agg.source == "lines" and agg.stage == 0:
                keys = key_strings(cols, agg.key)
                contributions = agg.contributions(cols, {})
                self._upsert(conn, agg, keys, days, contributions)
                for q in QUERIES:
                    if isinstance(q, FirstDay) and q.aggregate == agg.name:
                        # the key's first day with a positive measure, as a pair with the empty value
                        values = np.where(contributions[q.measure] > 0, "", None).tolist()
                        first_pairs(pairs, q.name, keys, values, days)
        for q in QUERIES:
            if isinstance(q, Distinct):
                first_pairs(pairs, q.name, key_strings(cols, q.key), cols[q.value].tolist(), days)
        if pairs:
            self._count_new_pairs(conn, [r for r in pairs if r["rel"] in DISTINCT_RELATIONS])
            self._run(conn, "pairs", pairs)
        exports = np.flatnonzero(cols["ru_by_export"] == 1.0)
        if len(exports):
            sub = {name: values[exports] for name, values in cols.items()}
            stage0 = {"last_import_day": self._last_import_days(conn, sub)}
            for agg in AGGREGATES:
                if agg.stage == 1:
                    self._upsert(
                        conn, agg, key_strings(sub, agg.key), sub["day"], agg.contributions(sub, stage0)
                    )

    def _count_new_pairs(self, conn: Connection, rows: list[dict[str, Any]]) -> None:
        """Fold pairs about to be upserted into the running distinct counts (before the upsert): a new pair
        counts from its first day; a known pair now seen earlier than its recorded first day moves there."""
        if not rows:
            return
        known = self._recorded_first_days(conn, rows)
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
            self._run(conn, "distinct_later", params)
            self._run(conn, "distinct", params)

    def _recorded_first_days(
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

    def _last_import_days(self, conn: Connection, cols: Columns) -> np.ndarray:
        """The `last_import_day` query for the given lines, read inside the writing transaction."""
        query = next(q for q in QUERIES if q.name == "last_import_day")
        assert isinstance(query, LastDay)
        if len(cols["day"]) <= SMALL:
            return self.reader.results(conn, cols)[query.name]
        t = self.tables.aggs[query.aggregate]
        stored = pd.DataFrame(
            conn.execute(sa.select(t.c.key, t.c.day).where(t.c[query.measure] > 0)).all(),
            columns=["key", "day"],
        )
        keys = key_strings(cols, AGGREGATES_BY_NAME[query.aggregate].key)
        codes, uniques = pd.factorize(pd.Series(keys, dtype=object), use_na_sentinel=True)
        stored_codes = pd.Index(uniques).get_indexer(stored["key"].to_numpy(dtype=object))
        table = DayTable(
            stored_codes.astype("int64"), stored["day"].to_numpy(dtype="int64"), {"m": np.ones(len(stored))}
        )
        found = table.last_day("m", codes.astype("int64"), cols["day"], query.lookback)
        return np.where(codes >= 0, found, np.nan)

    # outcomes ----------------------------------------------------------------------------------------
    def add_outcomes(self, conn: Connection, outcomes: list[dict[str, Any]]) -> int:
        """Add checked outcomes (distinct line ids) in the caller's transaction; returns how many were new.

        An outcome counts from its `inspected_on` date, for the declarant and trader of its line; an
        outcome whose line is not in the store yet is kept and counted when the line arrives."""
        known = self._known(conn, [r["line_id"] for r in outcomes], self.tables.outcomes, "known_outcome")
        fresh = [r for r in outcomes if r["line_id"] not in known]
        if fresh:
            conn.execute(self._statements["outcomes"], fresh)
            self._fold_outcomes(conn, fresh)
        return len(fresh)

    def _fold_outcomes(self, conn: Connection, outcomes: list[dict[str, Any]]) -> None:
        """Fold outcomes whose lines are in the store into the outcome aggregates."""
        lines = self.tables.lines
        key_cols = sorted({k for agg in AGGREGATES if agg.source == "outcomes" for k in agg.key})
        by_id = {r["line_id"]: r for r in outcomes}
        found: dict[str, dict[str, Any]] = {}
        ids = list(by_id)
        for i in range(0, len(ids), CHUNK):
            stmt = sa.select(lines.c.line_id, *(lines.c[k] for k in key_cols)).where(
                lines.c.line_id.in_(ids[i : i + CHUNK])
            )
            for row in conn.execute(stmt).mappings():
                found[row["line_id"]] = dict(row)
        if not found:
            return
        matched = [by_id[i] for i in ids if i in found]
        rows: Columns = {
            k: np.array([found[r["line_id"]][k] for r in matched], dtype=object) for k in key_cols
        }
        rows["day"] = np.array([(r["inspected_on"] - _EPOCH).days for r in matched], dtype="int64")
        rows["violation"] = np.array([r["outcome"] == "violation" for r in matched], dtype="float64")
        for agg in AGGREGATES:
            if agg.source == "outcomes":
                self._upsert(conn, agg, key_strings(rows, agg.key), rows["day"], agg.contributions(rows, {}))

    def _fold_outcomes_of_new_lines(self, conn: Connection, cols: Columns) -> None:
        """Count the outcomes that arrived before these (new) lines."""
        ids = cols["line_id"].tolist()
        pending: list[dict[str, Any]] = []
        if len(ids) <= SMALL:
            for rows in self.statement("pending_outcome").fetch_each(conn, [{"id": i} for i in ids]):
                for line_id, inspected_on, outcome, violation_type in rows:
                    if isinstance(inspected_on, str):  # SQLite hands dates back as ISO text
                        inspected_on = date.fromisoformat(inspected_on)
                    pending.append(
                        {
                            "line_id": line_id,
                            "inspected_on": inspected_on,
                            "outcome": outcome,
                            "violation_type": violation_type,
                        }
                    )
        else:
            o = self.tables.outcomes
            for i in range(0, len(ids), CHUNK):
                query = sa.select(o).where(o.c.line_id.in_(ids[i : i + CHUNK]))
                pending.extend(dict(r) for r in conn.execute(query).mappings())
        if pending:
            self._fold_outcomes(conn, pending)


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
        frame = pd.DataFrame(
            {"key": pd.Series(keys, dtype=object), "day": days, **{m: values[m] for m in measures}}
        )
        frame = frame[frame["key"].notna()]
        grouped = frame.groupby(["key", "day"], sort=True)[list(measures)].sum().reset_index()
        grouped["day"] = grouped["day"].astype("int64")
        return grouped.to_dict("records")
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
