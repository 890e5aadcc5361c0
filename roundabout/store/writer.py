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
from contextlib import nullcontext
from datetime import date, timedelta
from typing import Any

import numpy as np
import pandas as pd
import sqlalchemy as sa
from sqlalchemy.engine import Connection

from roundabout.data.schema import LINE_FIELDS, Kind
from roundabout.errors import ConflictError
from roundabout.features.columns import DERIVED_KEYS, Columns
from roundabout.features.history import AGGREGATES, AGGREGATES_BY_NAME, QUERIES, QUERIES_BY_NAME
from roundabout.features.numpy_executor import DayTable
from roundabout.features.specs import Distinct, FirstDay, LastDay
from roundabout.store.backends import Backend
from roundabout.store.reader import HistoryReader, key_strings
from roundabout.store.tables import DISTINCT_RELATIONS, StoreTables
from roundabout.store.upserts import CHUNK, SMALL, AggregateUpserts, first_pairs

_EPOCH = date(1970, 1, 1)
#: The chain query the derived re-shipment measure of an export reads.
LAST_IMPORT = QUERIES_BY_NAME["last_import_day"]
assert isinstance(LAST_IMPORT, LastDay)


class AggregateWriter:
    """Writes lines and outcomes and keeps the aggregates in step (see the module docstring)."""

    def __init__(self, backend: Backend, tables: StoreTables, reader: HistoryReader) -> None:
        self.backend = backend
        self.tables = tables
        self.reader = reader
        self.upserts = AggregateUpserts(backend, tables)

    # lines -------------------------------------------------------------------------------------------
    def add_lines(self, conn: Connection, cols: Columns, extra_columns: dict[str, str]) -> int:
        """Add lines (columns of checked lines with distinct ids, all fields) in the caller's transaction;
        returns how many were new. Known line_ids are skipped."""
        ids = cols["line_id"].tolist()
        known = self.upserts.known(conn, ids, self.tables.lines, "known_line")
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
        columns = line_values(cols, extra_columns)
        names = list(columns)
        rows = [dict(zip(names, vals, strict=True)) for vals in zip(*columns.values(), strict=True)]
        self.upserts.run(conn, "lines", rows)

    def _fold_lines(self, conn: Connection, cols: Columns) -> None:
        """Fold new lines into the stage-0 aggregates and pairs, then the derived stage-1 aggregates."""
        days = cols["day"]
        pairs: list[dict[str, Any]] = []
        for agg in AGGREGATES:
            if agg.source == "lines" and agg.stage == 0:
                keys = key_strings(cols, agg.key)
                contributions = agg.contributions(cols, {})
                self.upserts.upsert(conn, agg, keys, days, contributions)
                for q in QUERIES:
                    if isinstance(q, FirstDay) and q.aggregate == agg.name:
                        # the key's first day with a positive measure, as a pair with the empty value
                        values = np.where(contributions[q.measure] > 0, "", None).tolist()
                        first_pairs(pairs, q.name, keys, values, days)
        for q in QUERIES:
            if isinstance(q, Distinct) and q.rel is None:
                first_pairs(pairs, q.name, key_strings(cols, q.key), cols[q.value].tolist(), days)
        if pairs:
            self.upserts.count_new_pairs(conn, [r for r in pairs if r["rel"] in DISTINCT_RELATIONS])
            self.upserts.run(conn, "pairs", pairs)
        exports = np.flatnonzero(cols["ru_by_export"] == 1.0)
        if len(exports):
            sub = {name: values[exports] for name, values in cols.items()}
            stage0 = {"last_import_day": self._last_import_days(conn, sub)}
            for agg in AGGREGATES:
                if agg.stage == 1:
                    self.upserts.upsert(
                        conn, agg, key_strings(sub, agg.key), sub["day"], agg.contributions(sub, stage0)
                    )

    def _last_import_days(self, conn: Connection, cols: Columns) -> np.ndarray:
        """The `last_import_day` query for the given lines, read inside the writing transaction."""
        query = LAST_IMPORT
        if len(cols["day"]) <= SMALL:
            return self.reader.results(conn, cols)[query.name]
        t = self.tables.aggs[query.aggregate]
        stored = pd.DataFrame(
            conn.execute(sa.select(t.c.key, t.c.day).where(t.c[query.measure] > 0)).all(),
            columns=["key", "day"],
        )
        return last_import_days(stored, cols)

    # outcomes ----------------------------------------------------------------------------------------
    def add_outcomes(self, conn: Connection, outcomes: list[dict[str, Any]]) -> list[dict[str, Any]]:
        """Add checked outcomes (distinct line ids) in the caller's transaction; returns the new ones.

        An outcome counts from its `inspected_on` date, for the declarant and trader of its line; an
        outcome whose line is not in the store yet is kept and counted when the line arrives."""
        known = self.upserts.known(
            conn, [r["line_id"] for r in outcomes], self.tables.outcomes, "known_outcome"
        )
        if known:
            self.refuse_changed([r for r in outcomes if r["line_id"] in known], conn)
        fresh = [r for r in outcomes if r["line_id"] not in known]
        if fresh:
            conn.execute(self.upserts.statements["outcomes"], fresh)
            self.fold_outcomes(conn, fresh)
        return fresh

    def refuse_changed(self, sent: list[dict[str, Any]], conn: Connection) -> None:
        """An outcome sent again must be the one stored: a different result or date is a conflict."""
        t = self.tables.outcomes
        stored: dict[str, Any] = {}
        ids = [r["line_id"] for r in sent]
        for i in range(0, len(ids), CHUNK):
            query = sa.select(t.c.line_id, t.c.inspected_on, t.c.outcome).where(
                t.c.line_id.in_(ids[i : i + CHUNK])
            )
            stored.update({row.line_id: row for row in conn.execute(query)})
        changed = [
            f"{r['line_id']!r} ({stored[r['line_id']].outcome} on {stored[r['line_id']].inspected_on}, sent "
            f"{r['outcome']} on {r['inspected_on']})"
            for r in sent
            if (stored[r["line_id"]].outcome, stored[r["line_id"]].inspected_on)
            != (r["outcome"], r["inspected_on"])
        ]
        if changed:
            raise ConflictError(
                f"{len(changed)} outcome(s) differ from the one already stored for the line: "
                f"{'; '.join(changed[:5])}. An inspection outcome is recorded once; to change it, send a "
                "correction naming its record (POST /v1/feedback/corrections; GET /v1/decisions/<line_id> "
                "shows the record). Nothing was stored"
            )

    def fold_outcomes(self, conn: Connection, outcomes: list[dict[str, Any]], sign: float = 1.0) -> None:
        """Fold outcomes whose lines are in the store into the outcome aggregates (`sign` -1: take them
        out again, as a correction does with the outcome it supersedes)."""
        lines = self.tables.lines
        key_cols = sorted({k for agg in AGGREGATES if agg.source == "outcomes" for k in agg.key})
        # keys derived from a stored field (the counterparty's) are derived again from it
        stored = sorted({DERIVED_KEYS[k][0] if k in DERIVED_KEYS else k for k in key_cols})
        by_id = {r["line_id"]: r for r in outcomes}
        found: dict[str, dict[str, Any]] = {}
        ids = list(by_id)
        for i in range(0, len(ids), CHUNK):
            stmt = sa.select(lines.c.line_id, *(lines.c[k] for k in stored)).where(
                lines.c.line_id.in_(ids[i : i + CHUNK])
            )
            for row in conn.execute(stmt).mappings():
                found[row["line_id"]] = dict(row)
        if not found:
            return
        matched = [by_id[i] for i in ids if i in found]
        rows: Columns = {}
        for k in key_cols:
            source, fn = DERIVED_KEYS.get(k, (k, None))
            values = [found[r["line_id"]][source] for r in matched]
            rows[k] = np.array([fn(v) for v in values] if fn else values, dtype=object)
        rows["day"] = np.array([(r["inspected_on"] - _EPOCH).days for r in matched], dtype="int64")
        rows["violation"] = np.array([r["outcome"] == "violation" for r in matched], dtype="float64")
        for agg in AGGREGATES:
            if agg.source == "outcomes":
                sums = {m: sign * v for m, v in agg.contributions(rows, {}).items()}
                self.upserts.upsert(conn, agg, key_strings(rows, agg.key), rows["day"], sums)

    def _fold_outcomes_of_new_lines(self, conn: Connection, cols: Columns) -> None:
        """Count the outcomes that arrived before these (new) lines."""
        ids = cols["line_id"].tolist()
        pending: list[dict[str, Any]] = []
        if len(ids) <= SMALL:
            for rows in self.upserts.statement("pending_outcome").fetch_each(conn, [{"id": i} for i in ids]):
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
            self.fold_outcomes(conn, pending)


def line_values(cols: Columns, extra_columns: dict[str, str]) -> dict[str, list[Any]]:
    """The `feat_lines` columns of lines, as Python values (dates as `date`, missing as None)."""
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
    return columns


def last_import_days(stored: pd.DataFrame, cols: Columns) -> np.ndarray:
    """The `last_import_day` query for lines `cols`, from the stored (key, day) rows of its aggregate with
    a positive measure (at least those of the lines' keys within the lookback before their days)."""
    query = LAST_IMPORT
    keys = key_strings(cols, AGGREGATES_BY_NAME[query.aggregate].key)
    codes, uniques = pd.factorize(pd.Series(keys, dtype=object), use_na_sentinel=True)
    stored_codes = pd.Index(uniques).get_indexer(stored["key"].to_numpy(dtype=object))
    table = DayTable(
        stored_codes.astype("int64"), stored["day"].to_numpy(dtype="int64"), {"m": np.ones(len(stored))}
    )
    found = table.last_day("m", codes.astype("int64"), cols["day"], query.lookback)
    return np.where(codes >= 0, found, np.nan)
