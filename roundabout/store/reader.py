"""The online executor of the history specs: every query of `features.history.QUERIES` for a few lines, read
from the store's aggregates as of each line's date.

Per aggregate, one SELECT reads all its queries for a (key, day); per distinct count, one SELECT reads the
running total. Each SELECT yields `part` (its position) and then its values cast to double, padded with
NULLs to a common width, so the parts a line needs run as one UNION ALL statement: one round trip a line,
of index range scans bounded by the widest window (at most 365 days of one key) and index seeks, never a
scan of a key's whole history. The batch executor (`features.numpy_executor`) evaluates the same specs
over whole frames; the parity tests hold the two equal.
"""

from collections.abc import Callable, Sequence
from typing import Any

import numpy as np
import sqlalchemy as sa
from sqlalchemy.engine import Connection

from roundabout.features.columns import Columns
from roundabout.features.history import AGGREGATES, AGGREGATES_BY_NAME, QUERIES, QUERIES_BY_NAME
from roundabout.features.specs import Distinct, FirstDay, LastDay, Linked, Query, WindowSum
from roundabout.store.backends import Backend
from roundabout.store.statements import CompiledStatement
from roundabout.store.tables import StoreTables, total_before

#: Separator of a composite key's parts in the stored key text.
KEY_SEP = "\x1f"


def key_strings(cols: Columns, key: tuple[str, ...]) -> list[str | None]:
    """The stored key text of each line for an entity key (None where a part is missing)."""
    parts = [cols[k] for k in key]
    if len(parts) == 1:
        return parts[0].tolist()
    if len(parts) == 2:
        return [
            None if a is None or b is None else a + KEY_SEP + b
            for a, b in zip(parts[0].tolist(), parts[1].tolist(), strict=True)
        ]
    return [
        None if any(p is None for p in values) else KEY_SEP.join(values)
        for values in zip(*parts, strict=True)
    ]


class _Part:
    """One SELECT of the feature query: the queries it answers and the entity key it is read for."""

    def __init__(self, index: int, name: str, select: Any, queries: list[Query], key: tuple[str, ...]):
        self.index, self.name, self.select, self.queries, self.key = index, name, select, queries, key


class HistoryReader:
    """Reads the history queries of lines from the store (see the module docstring)."""

    def __init__(self, backend: Backend, tables: StoreTables) -> None:
        self.backend = backend
        self.tables = tables
        self.parts = self._build_parts()
        self._unions: dict[tuple[int, ...], CompiledStatement] = {}

    # statements --------------------------------------------------------------------------------------
    def _build_parts(self) -> list[_Part]:
        d = sa.bindparam("d", type_=sa.Integer)
        specs: list[tuple[str, list[Query], sa.Table, tuple[str, ...]]] = []
        for agg in AGGREGATES:
            queries: list[Query] = [
                q
                for q in QUERIES
                if isinstance(q, WindowSum | LastDay | FirstDay) and q.aggregate == agg.name
            ]
            if queries:
                specs.append((agg.name, queries, self.tables.aggs[agg.name], agg.key))
        for q in QUERIES:
            if isinstance(q, Distinct):
                specs.append((q.name, [q], self.tables.pairs, q.key))
            elif isinstance(q, Linked):
                specs.append((q.name, [q], self.tables.aggs[q.aggregate], self._distinct(q.pairs).key))
        width = max(len(queries) for _, queries, _, _ in specs)
        parts = []
        for i, (name, queries, t, key) in enumerate(specs):
            k = sa.bindparam(f"k{i}", type_=sa.Text)
            if isinstance(queries[0], Linked):
                stmt = self._linked_select(i, queries[0], k, d)
            elif t is self.tables.pairs:
                # the running total of the key's last day with first-seen pairs before D (0 if none); with
                # a window, less the total before D - window
                (q,) = queries
                assert isinstance(q, Distinct)
                before = sa.func.coalesce(total_before(self.tables.distinct, "cum", k, d, rel=q.pairs), 0.0)
                if q.window is not None:
                    start = total_before(self.tables.distinct, "cum", k, d - q.window, rel=q.pairs)
                    before = before - sa.func.coalesce(start, 0.0)
                count = sa.cast(before, sa.Double)
                stmt = sa.select(sa.literal_column(str(i)).label("part"), count)
            else:
                stmt = self._aggregate_select(i, t, queries, k, d)
            pad = [sa.cast(sa.null(), sa.Double)] * (width - len(queries))
            parts.append(_Part(i, name, stmt.add_columns(*pad) if pad else stmt, queries, key))
        return parts

    def _distinct(self, name: str) -> Distinct:
        found = QUERIES_BY_NAME[name]
        assert isinstance(found, Distinct)
        return found

    def _linked_select(self, i: int, q: Linked, k: Any, d: Any) -> Any:
        """How many values first seen with key `k` before D had a positive measure before D: the key's
        pairs (an index range of `feat_pairs`), each with one index seek into the value's aggregate."""
        p, o = self.tables.pairs, self.tables.aggs[q.aggregate]
        flagged = sa.exists().where(o.c.key == p.c.value, o.c[q.measure] > 0, o.c.day < d)
        count = sa.cast(sa.func.count(), sa.Double)
        rel = self._distinct(q.pairs).pairs
        where = (p.c.rel == rel, p.c.key == k, p.c.first_day < d, flagged)
        return sa.select(sa.literal_column(str(i)).label("part"), count).select_from(p).where(*where)

    def _aggregate_select(self, i: int, t: sa.Table, queries: list[Query], k: Any, d: Any) -> Any:
        """All queries of one aggregate for key `k` on day `d`: windowed ones scan only the rows of the
        widest window (`D - w <= day < D`); all-history sums read the running total of the last row before
        D; first days read the key's first day (kept in `feat_pairs`)."""
        p = self.tables.pairs
        exprs: list[Any] = []
        spans: list[int] = []
        for q in queries:
            assert not isinstance(q, Distinct)
            m = t.c[q.measure]
            if isinstance(q, WindowSum) and q.window is None:
                exprs.append(total_before(t, f"cum_{q.measure}", k, d))
            elif isinstance(q, WindowSum):
                exprs.append(sa.func.sum(sa.case((t.c.day >= d - q.window, m), else_=0.0)))
                spans.append(q.window)
            elif isinstance(q, LastDay):
                exprs.append(sa.func.max(sa.case(((m > 0) & (t.c.day >= d - q.lookback), t.c.day))))
                spans.append(q.lookback)
            elif isinstance(q, FirstDay):
                # kept by the writer for stage-0 line aggregates, from per-line measures that are >= 0
                agg = AGGREGATES_BY_NAME[q.aggregate]
                if agg.source != "lines" or agg.stage != 0:
                    raise NotImplementedError(f"FirstDay over {agg.name}: only stage-0 line aggregates")
                first = sa.select(sa.func.min(p.c.first_day)).where(
                    p.c.rel == q.name, p.c.key == k, p.c.first_day < d
                )
                exprs.append(first.scalar_subquery())
        stmt = sa.select(sa.literal_column(str(i)).label("part"), *(sa.cast(e, sa.Double) for e in exprs))
        if spans:
            stmt = stmt.select_from(t).where(t.c.key == k, t.c.day < d, t.c.day >= d - max(spans))
        return stmt

    def _union(self, parts: tuple[int, ...]) -> CompiledStatement:
        """The UNION ALL of the given parts, compiled once per combination (lines whose keys are partly
        missing need fewer parts)."""
        compiled = self._unions.get(parts)
        if compiled is None:
            selects = [self.parts[i].select for i in parts]
            stmt = selects[0] if len(selects) == 1 else sa.union_all(*selects)
            compiled = CompiledStatement(stmt, self.backend, query=True)
            self._unions[parts] = compiled
        return compiled

    # reading -----------------------------------------------------------------------------------------
    def results(
        self, conn: Connection, cols: Columns, after_each: Callable[[int], None] | None = None
    ) -> dict[str, np.ndarray]:
        """Every query of `QUERIES` for every line of `cols` (one statement per line), calling
        `after_each(i)` once line i has been read: each line is then read after the one before it was
        handled. Without it the lines are read together (on PostgreSQL, one pipelined round trip per set
        of parts)."""
        n = len(cols["day"])
        results = {q.name: np.full(n, np.nan) for q in QUERIES}
        days = cols["day"].tolist()
        keys = [key_strings(cols, part.key) for part in self.parts]

        def request(i: int) -> tuple[tuple[int, ...], dict[str, Any]]:
            parts = tuple(p.index for p in self.parts if keys[p.index][i] is not None)
            return parts, {"d": days[i], **{f"k{j}": keys[j][i] for j in parts}}

        def fill(i: int, rows: Sequence[Sequence[Any]]) -> None:
            for row in rows:
                for q, value in zip(self.parts[int(row[0])].queries, row[1:], strict=False):
                    if value is None:
                        value = np.nan if isinstance(q, LastDay | FirstDay) else 0.0
                    results[q.name][i] = value

        if after_each is not None:
            for i in range(n):
                parts, params = request(i)
                if parts:
                    fill(i, self._union(parts).fetchall(conn, params))
                after_each(i)
            return results
        by_parts: dict[tuple[int, ...], list[tuple[int, dict[str, Any]]]] = {}
        for i in range(n):
            parts, params = request(i)
            if parts:
                by_parts.setdefault(parts, []).append((i, params))
        for parts, lines in by_parts.items():
            fetched = self._union(parts).fetch_each(conn, [params for _, params in lines])
            for (i, _), rows in zip(lines, fetched, strict=True):
                fill(i, rows)
        return results
