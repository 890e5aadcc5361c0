"""The online path: a store of lines seen so far and the features of one incoming line, from SQLAlchemy.

Tables (prefix `feat_`): `lines` (every line seen, keyed by `line_id`, with all canonical columns so the
history can be re-read), `outcomes`, one `agg_<name>` table per aggregate of `history.AGGREGATES` holding
per-(key, day) sums (plus a per-key running total of each measure read over all history), `pairs`
(first day each distinct value was seen with a key, and first day of each `FirstDay` query's key) and
`distinct` (per `Distinct` query and key, how many pairs were first seen each day, with a running total, so
a count of distinct values is one index seek however many values a key has). Adding
lines updates the aggregates in the same transaction, so a line's features are one statement of index range
scans bounded by the widest window (at most 365 days of one key) and index seeks, never a scan of a key's
whole history. The queries evaluate the same specs as `numpy_executor.py`.

An in-process LRU cache keeps query results per (aggregate, key, day); a write through this store drops
the entries of every key it touches. Writes from other processes are not seen by this cache: with several
writers on one database, use `cache_size=0` or accept answers that ignore lines written elsewhere since.
Re-adding a `line_id` (or an outcome's `line_id`) is a no-op. The derived quick re-shipment measure of an
export is fixed when the export is added: exact when lines arrive in date order (any order within a day),
as in serving; back-filled imports dated before an export already in the store do not revise it.
"""

import json
import math
import sqlite3
from collections import OrderedDict, defaultdict
from collections.abc import Callable, Iterator, Mapping, Sequence
from contextlib import contextmanager, nullcontext
from datetime import date, timedelta
from typing import Any

import numpy as np
import pandas as pd
import psycopg
import sqlalchemy as sa
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.engine import Connection, Engine
from sqlalchemy.pool import StaticPool

from roundabout.data.io import CanonicalData
from roundabout.data.schema import LINE_FIELDS, Kind
from roundabout.data.validation import FormatRules, validate_inspections, validate_lines
from roundabout.features.artifacts import PRIOR_WEIGHT, FeatureArtifacts
from roundabout.features.build import extra_features, feature_names, stateless_features
from roundabout.features.columns import Columns, columns_from_frame, columns_from_records
from roundabout.features.history import AGGREGATES, AGGREGATES_BY_NAME, QUERIES, finalize
from roundabout.features.numpy_executor import DayTable
from roundabout.features.records import InvalidRecordError, RecordValidator
from roundabout.features.specs import Aggregate, Distinct, FirstDay, LastDay, WindowSum
from roundabout.features.statements import (
    CompiledStatement,
    fetch_each,
    is_psycopg,
    pipeline,
    query_dialect,
    raw_cursor,
)
from roundabout.settings import get_settings

_EPOCH = date(1970, 1, 1)
_SEP = "\x1f"
_SMALL = 256
_DISTINCT_RELS = frozenset(q.name for q in QUERIES if isinstance(q, Distinct))
_CHUNK = 900

_SQL_TYPES = {Kind.TEXT: sa.Text, Kind.DATE: sa.Date, Kind.NUMBER: sa.Double, Kind.BOOL: sa.Boolean}


def default_store_url() -> str:
    """`ROUNDABOUT_STORE_URL`, else an SQLite file under ROUNDABOUT_HOME."""
    settings = get_settings()
    if settings.store_url:
        return settings.store_url
    settings.home.mkdir(parents=True, exist_ok=True)
    return f"sqlite:///{settings.home / 'store.db'}"


#: What a store call raises when the database fails or refuses: the fast paths run on the driver's own
#: cursor, so its errors (a lost connection, a deadlock) arrive unwrapped.
STORE_ERRORS: tuple[type[Exception], ...] = (sa.exc.SQLAlchemyError, sqlite3.Error, psycopg.Error)


def _passive_checkpoint(conn: Connection) -> int:
    _busy, frames, _copied = conn.exec_driver_sql("PRAGMA wal_checkpoint(PASSIVE)").one()
    return max(frames, 0)


def _engine(url: str, timeout: float | None = None, autocheckpoint: bool = True) -> Engine:
    """An engine for `url`; with `timeout` (seconds), no connect, pool wait or statement waits longer.

    SQLite: WAL journal. With `autocheckpoint=False` no commit copies the log back into the database (the
    commit that crosses SQLite's 1,000-page mark otherwise does it, ~10 ms, the p99 of a scored line);
    the owner calls `FeatureStore.checkpoint` from the background instead."""
    if url.startswith("sqlite"):
        memory = url in ("sqlite://", "sqlite:///:memory:")
        kwargs: dict[str, Any] = {"connect_args": {"check_same_thread": False}}
        if timeout is not None:
            kwargs["connect_args"]["timeout"] = timeout  # SQLite's wait for a locked database
        if memory:
            kwargs["poolclass"] = StaticPool
        engine = sa.create_engine(url, **kwargs)

        @sa.event.listens_for(engine, "connect")
        def _pragmas(dbapi_conn: Any, _record: Any) -> None:
            cur = dbapi_conn.cursor()
            if not memory:
                cur.execute("PRAGMA journal_mode=WAL")
            cur.execute("PRAGMA synchronous=NORMAL")
            if not autocheckpoint:
                cur.execute("PRAGMA wal_autocheckpoint=0")
            cur.close()

        return engine
    if timeout is None or not url.startswith("postgresql"):
        return sa.create_engine(url, pool_pre_ping=True)
    millis = max(1, int(timeout * 1000))
    connect_args = {
        "connect_timeout": max(1, math.ceil(timeout)),  # libpq counts whole seconds
        "options": f"-c statement_timeout={millis} -c lock_timeout={millis}",
        # A silent network partition: the kernel drops a connection whose sent data stays unacknowledged.
        "tcp_user_timeout": millis,
        "keepalives_idle": max(1, math.ceil(timeout)),
        "keepalives_interval": 1,
        "keepalives_count": 3,
    }
    return sa.create_engine(url, pool_pre_ping=True, pool_timeout=timeout, connect_args=connect_args)


def _cumulative(agg: Aggregate) -> tuple[str, ...]:
    """Measures of `agg` read over all history: kept as a running total per key (`cum_<measure>`, the sum
    over the key's days up to and including the row's day), so such a sum reads one row."""
    return tuple(
        m
        for m in agg.measures
        if any(
            isinstance(q, WindowSum) and q.window is None and q.aggregate == agg.name and q.measure == m
            for q in QUERIES
        )
    )


def _key_strings(cols: Columns, key: tuple[str, ...]) -> list[str | None]:
    parts = [cols[k] for k in key]
    return [
        None if any(p is None for p in values) else _SEP.join(values) for values in zip(*parts, strict=True)
    ]


class _Schema:
    """The store's tables."""

    def __init__(self, extra_columns: Mapping[str, str]) -> None:
        self.meta = sa.MetaData()
        line_columns = [
            sa.Column(
                f.name, _SQL_TYPES[f.kind], primary_key=f.name == "line_id", nullable=f.name != "line_id"
            )
            for f in LINE_FIELDS
        ]
        self.lines = sa.Table(
            "feat_lines",
            self.meta,
            *line_columns,
            sa.Column("day", sa.Integer, nullable=False, index=True),
            sa.Column("extra", sa.Text),
        )
        self.outcomes = sa.Table(
            "feat_outcomes",
            self.meta,
            sa.Column("line_id", sa.Text, primary_key=True),
            sa.Column("inspected_on", sa.Date, nullable=False),
            sa.Column("outcome", sa.Text, nullable=False),
            sa.Column("violation_type", sa.Text),
        )
        self.aggs = {
            agg.name: sa.Table(
                f"feat_agg_{agg.name}",
                self.meta,
                sa.Column("key", sa.Text, primary_key=True),
                sa.Column("day", sa.Integer, primary_key=True),
                *(sa.Column(m, sa.Double, nullable=False, server_default="0") for m in agg.measures),
                *(
                    sa.Column(f"cum_{m}", sa.Double, nullable=False, server_default="0")
                    for m in _cumulative(agg)
                ),
            )
            for agg in AGGREGATES
        }
        self.pairs = sa.Table(
            "feat_pairs",
            self.meta,
            sa.Column("rel", sa.Text, primary_key=True),
            sa.Column("key", sa.Text, primary_key=True),
            sa.Column("value", sa.Text, primary_key=True),
            sa.Column("first_day", sa.Integer, nullable=False),
            sa.Index("ix_feat_pairs_first", "rel", "key", "first_day"),
        )
        # Per `Distinct` query: how many (key, value) pairs were first seen on each day, and the running
        # total over the key's days up to that one, so a distinct count is one index seek.
        self.distinct = sa.Table(
            "feat_distinct",
            self.meta,
            sa.Column("rel", sa.Text, primary_key=True),
            sa.Column("key", sa.Text, primary_key=True),
            sa.Column("day", sa.Integer, primary_key=True),
            sa.Column("n", sa.Double, nullable=False),
            sa.Column("cum", sa.Double, nullable=False),
        )


class FeatureStore:
    """Lines seen so far plus per-(key, day) aggregates; computes the features of incoming lines."""

    def __init__(
        self,
        url: str | None = None,
        artifacts: FeatureArtifacts | None = None,
        rules: FormatRules | None = None,
        cache_size: int = 50_000,
        timeout: float | None = None,
        autocheckpoint: bool = True,
    ) -> None:
        self.url = url or default_store_url()
        self.engine = _engine(self.url, timeout, autocheckpoint)
        self.artifacts = artifacts
        self.extra_columns = artifacts.extra_columns if artifacts is not None else {}
        self.rules = rules or FormatRules()
        self.validator = RecordValidator(self.rules, self.extra_columns)
        self.schema = _Schema(self.extra_columns)
        self.cache_size = cache_size
        self._cache: OrderedDict[tuple[str, str], dict[int, tuple[Any, ...]]] = OrderedDict()
        self._statements = self._build_statements()
        self._part_names = list(self._statements)
        self._part_index = {name: i for i, name in enumerate(self._part_names)}
        self._unions: dict[tuple[str, ...], tuple[str, list[str] | None, dict[str, Any]]] = {}
        self._writes = self._build_write_statements()
        self._compiled_writes: dict[str, CompiledStatement] = {}

    # schema --------------------------------------------------------------------------------------------
    def create_schema(self) -> None:
        """Create the tables if they do not exist (idempotent). A store made before the distinct-count
        table existed gets it filled from its pairs."""
        had_distinct = sa.inspect(self.engine).has_table(self.schema.distinct.name)
        self.schema.meta.create_all(self.engine)
        if not had_distinct:
            with self.engine.begin() as conn:
                self._fill_distinct(conn)

    def _fill_distinct(self, conn: Connection) -> None:
        p, t = self.schema.pairs, self.schema.distinct
        per_day = (
            sa.select(p.c.rel, p.c.key, p.c.first_day.label("day"), sa.func.count().label("n"))
            .where(p.c.rel.in_(sorted(_DISTINCT_RELS)))
            .group_by(p.c.rel, p.c.key, p.c.first_day)
            .subquery()
        )
        running = sa.func.sum(per_day.c.n).over(
            partition_by=(per_day.c.rel, per_day.c.key), order_by=per_day.c.day
        )
        rows = sa.select(per_day.c.rel, per_day.c.key, per_day.c.day, per_day.c.n, running)
        conn.execute(t.insert().from_select(["rel", "key", "day", "n", "cum"], rows))

    def dispose(self) -> None:
        self.engine.dispose()

    def analyze(self) -> None:
        """Refresh PostgreSQL's planner statistics of the store's tables; call it after a bulk load.

        Without them (autovacuum samples a table only a minute or more after it grew) PostgreSQL plans the
        per-line feature query for empty tables, and re-plans it on every call: on a store just loaded
        with 100,000 lines it took 2.9 ms a line against 1.3 ms after `ANALYZE`. SQLite needs nothing: its
        lookups all go by primary key."""
        if self.engine.dialect.name != "postgresql":
            return
        names = ", ".join(self.engine.dialect.identifier_preparer.quote(t) for t in self.schema.meta.tables)
        with self.engine.begin() as conn:
            conn.exec_driver_sql(f"ANALYZE {names}")

    def checkpoint(self, exclusive: bool = False) -> int:
        """Copy SQLite's write-ahead log back into the database without blocking readers or writers, and
        return the log's length in frames (0 on other databases, and once a writer has started it over).
        For stores opened with `autocheckpoint=False`: call it periodically from a background thread, or
        the log grows without bound.

        A checkpoint overlapped by a write leaves that write's frames behind, and the log is started over
        only once it has all been copied. `exclusive` holds off other connections' writers meanwhile (an
        immediate transaction on a second connection takes the write lock, which a passive checkpoint does
        not need): with several worker processes, keeping this process's own writers away is not enough.
        """
        if self.engine.dialect.name != "sqlite" or self.engine.url.database in (None, "", ":memory:"):
            return 0
        with self.engine.connect() as conn:
            if not exclusive:
                return _passive_checkpoint(conn)
            holder = self.engine.raw_connection()
            try:
                holder.cursor().execute("BEGIN IMMEDIATE")  # waits up to the busy timeout for a writer
                try:
                    return _passive_checkpoint(conn)
                finally:
                    holder.cursor().execute("ROLLBACK")
            finally:
                holder.close()

    def _insert(self, table: sa.Table) -> Any:
        dialect = self.engine.dialect.name
        if dialect == "postgresql":
            return postgresql.insert(table)
        if dialect == "sqlite":
            return sqlite.insert(table)
        raise NotImplementedError(f"the feature store supports SQLite and PostgreSQL, not {dialect}")

    def _build_write_statements(self) -> dict[str, Any]:
        """Upserts and id lookups, built once (building SQLAlchemy statements per call costs more than
        running them)."""
        out: dict[str, Any] = {}
        out["lines"] = self._insert(self.schema.lines).on_conflict_do_nothing(index_elements=["line_id"])
        out["outcomes"] = self._insert(self.schema.outcomes).on_conflict_do_nothing(
            index_elements=["line_id"]
        )
        ids = sa.bindparam("ids", expanding=True)
        out["known_lines"] = sa.select(self.schema.lines.c.line_id).where(
            self.schema.lines.c.line_id.in_(ids)
        )
        one = sa.bindparam("id", type_=sa.Text)
        out["known_line"] = sa.select(self.schema.lines.c.line_id).where(self.schema.lines.c.line_id == one)
        o = self.schema.outcomes
        out["pending_outcome"] = sa.select(o).where(o.c.line_id == one)
        out["known_outcomes"] = sa.select(o.c.line_id).where(o.c.line_id.in_(ids))
        out["pending_outcomes"] = sa.select(o).where(o.c.line_id.in_(ids))
        k, d = sa.bindparam("k", type_=sa.Text), sa.bindparam("d", type_=sa.Integer)
        for agg in AGGREGATES:
            t = self.schema.aggs[agg.name]
            x = {m: sa.bindparam(f"x_{m}", type_=sa.Double) for m in agg.measures}
            cumulative = _cumulative(agg)
            values: dict[str, Any] = {"key": k, "day": d, **x}
            for m in cumulative:
                values[f"cum_{m}"] = sa.func.coalesce(self._total_before(t, f"cum_{m}", k, d), 0.0) + x[m]
            stmt = self._insert(t).values(values)
            set_ = {m: t.c[m] + stmt.excluded[m] for m in agg.measures}
            set_.update({f"cum_{m}": t.c[f"cum_{m}"] + stmt.excluded[m] for m in cumulative})
            out[f"agg:{agg.name}"] = stmt.on_conflict_do_update(index_elements=["key", "day"], set_=set_)
            if cumulative:
                # the running totals of the key's later days include the added sums too
                out[f"later:{agg.name}"] = (
                    sa.update(t)
                    .where(t.c.key == k, t.c.day > d)
                    .values({f"cum_{m}": t.c[f"cum_{m}"] + x[m] for m in cumulative})
                )
        p = self.schema.pairs
        stmt = self._insert(p)
        earlier = sa.case(
            (stmt.excluded.first_day < p.c.first_day, stmt.excluded.first_day), else_=p.c.first_day
        )
        t = self.schema.distinct
        r, x = sa.bindparam("r", type_=sa.Text), sa.bindparam("x", type_=sa.Double)
        ins = self._insert(t).values(
            rel=r, key=k, day=d, n=x, cum=sa.func.coalesce(self._total_before(t, "cum", k, d, rel=r), 0.0) + x
        )
        out["distinct"] = ins.on_conflict_do_update(
            index_elements=["rel", "key", "day"],
            set_={"n": t.c.n + ins.excluded.n, "cum": t.c.cum + ins.excluded.n},
        )
        out["distinct_later"] = (
            sa.update(t).where(t.c.rel == r, t.c.key == k, t.c.day > d).values(cum=t.c.cum + x)
        )
        v = sa.bindparam("v", type_=sa.Text)
        out["pair_first"] = sa.select(p.c.first_day).where(p.c.rel == r, p.c.key == k, p.c.value == v)
        out["pairs"] = stmt.on_conflict_do_update(
            index_elements=["rel", "key", "value"], set_={"first_day": earlier}
        )
        return out

    def _statement(self, name: str) -> CompiledStatement:
        compiled = self._compiled_writes.get(name)
        if compiled is None:
            compiled = CompiledStatement(self._writes[name], self.engine.dialect)
            self._compiled_writes[name] = compiled
        return compiled

    def _run(self, conn: Connection, name: str, rows: list[dict[str, Any]]) -> None:
        """Execute the write statement `name` for `rows` straight on the DB-API cursor (compiled once)."""
        self._statement(name).execute(conn, rows)

    @staticmethod
    def _total_before(t: sa.Table, column: str, k: Any, d: Any, rel: Any = None) -> Any:
        """The running total `column` of key `k` (and `rel`, for `distinct`) on its last day before `d`
        (NULL if none): one index seek."""
        a = t.alias()
        match = [a.c.key == k, a.c.day < d]
        if rel is not None:
            match.append(a.c.rel == rel)
        return sa.select(a.c[column]).where(*match).order_by(a.c.day.desc()).limit(1).scalar_subquery()

    # queries -------------------------------------------------------------------------------------------
    def _build_statements(self) -> dict[str, tuple[sa.Select[Any], list[Any], tuple[str, ...]]]:
        """Per aggregate, one SELECT of all its queries for a (key, day); per distinct count, one SELECT.

        Each selects `part` (its position) and then its values cast to double, padded with NULLs to a common
        width, so that the parts a line needs run as one UNION ALL statement (one round trip)."""
        d = sa.bindparam("d", type_=sa.Integer)
        parts: list[tuple[str, list[Any], Any, tuple[str, ...]]] = []
        for agg in AGGREGATES:
            t = self.schema.aggs[agg.name]
            queries = [q for q in QUERIES if not isinstance(q, Distinct) and q.aggregate == agg.name]
            if queries:
                parts.append((agg.name, queries, t, agg.key))
        p = self.schema.pairs
        for q in QUERIES:
            if isinstance(q, Distinct):
                parts.append((q.name, [q], p, q.key))
        width = max(len(queries) for _, queries, _, _ in parts)
        out: dict[str, tuple[sa.Select[Any], list[Any], tuple[str, ...]]] = {}
        for i, (name, queries, t, key_cols) in enumerate(parts):
            k = sa.bindparam(f"k{i}", type_=sa.Text)
            if t is p:
                # the running total of the key's last day with first-seen pairs before D (0 if none)
                before = self._total_before(self.schema.distinct, "cum", k, d, rel=name)
                count = sa.cast(sa.func.coalesce(before, 0.0), sa.Double)
                stmt = sa.select(sa.literal_column(str(i)).label("part"), count)
            else:
                stmt = self._aggregate_select(i, t, queries, k, d)
            pad = [sa.cast(sa.null(), sa.Double)] * (width - len(queries))
            out[name] = (stmt.add_columns(*pad) if pad else stmt, queries, key_cols)
        return out

    def _aggregate_select(self, i: int, t: sa.Table, queries: list[Any], k: Any, d: Any) -> Any:
        """All queries of one aggregate for key `k` on day `d`: windowed ones scan only the rows of the
        widest window (`D - w <= day < D`); all-history sums read the running total of the last row before
        D; first days read the key's first day (kept in `pairs`)."""
        p = self.schema.pairs
        exprs: list[Any] = []
        spans: list[int] = []
        for q in queries:
            m = t.c[q.measure]
            if isinstance(q, WindowSum) and q.window is None:
                exprs.append(self._total_before(t, f"cum_{q.measure}", k, d))
            elif isinstance(q, WindowSum):
                exprs.append(sa.func.sum(sa.case((t.c.day >= d - q.window, m), else_=0.0)))
                spans.append(q.window)
            elif isinstance(q, LastDay):
                exprs.append(sa.func.max(sa.case(((m > 0) & (t.c.day >= d - q.lookback), t.c.day))))
                spans.append(q.lookback)
            elif isinstance(q, FirstDay):
                # kept by `_apply_lines` for stage-0 line aggregates, from per-line measures that are >= 0
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

    def _union(self, names: tuple[str, ...]) -> tuple[str, list[str] | None, dict[str, Any]]:
        """The UNION ALL of the named parts, compiled once per combination for the engine's dialect: its
        SQL text, the order of its parameters (None for a driver taking them by name) and its constants."""
        compiled = self._unions.get(names)
        if compiled is None:
            selects = [self._statements[n][0] for n in names]
            stmt = selects[0] if len(selects) == 1 else sa.union_all(*selects)
            c = stmt.compile(dialect=query_dialect(self.engine.dialect))
            given = {"d", *(f"k{self._part_index[n]}" for n in names)}  # bound per call: int and str
            if given & set(c._bind_processors):
                raise NotImplementedError("the feature query's parameters need conversion by SQLAlchemy")
            constants = {n: v for n, v in c.params.items() if n not in given}
            for n, process in c._bind_processors.items():
                constants[n] = process(constants[n])
            order = list(c.positiontup) if c.positiontup is not None else None
            compiled = (str(c), order, constants)
            self._unions[names] = compiled
        return compiled

    def _cache_put(self, name: str, key: str, day: int, row: tuple[Any, ...]) -> None:
        if self.cache_size <= 0:
            return
        self._cache.setdefault((name, key), {})[day] = row
        self._cache.move_to_end((name, key))
        while len(self._cache) > self.cache_size:
            self._cache.popitem(last=False)

    def _cached_rows(
        self, keys: dict[str, str | None], day: int, cached: bool
    ) -> tuple[dict[str, tuple[Any, ...]], tuple[str, ...]]:
        """A line's rows of every part found in the cache, and the names of the parts still to read."""
        rows: dict[str, tuple[Any, ...]] = {}
        missing: list[str] = []
        for name, key in keys.items():
            if key is None:
                continue
            entry = self._cache.get((name, key)) if cached else None
            if entry is not None and day in entry:
                self._cache.move_to_end((name, key))
                rows[name] = entry[day]
            else:
                missing.append(name)
        return rows, tuple(missing)

    def _union_params(
        self,
        union: tuple[str, list[str] | None, dict[str, Any]],
        names: tuple[str, ...],
        keys: dict[str, str | None],
        day: int,
    ) -> Any:
        """The parameters of `union` (`_union(names)`) for one line, as its driver takes them."""
        _, order, constants = union
        params: dict[str, Any] = {**constants, "d": day}
        for name in names:
            params[f"k{self._part_index[name]}"] = keys[name]
        return [params[p] for p in order] if order is not None else params

    def _keep_rows(
        self,
        fetched: Sequence[Sequence[Any]],
        keys: dict[str, str | None],
        day: int,
        cached: bool,
        rows: dict[str, tuple[Any, ...]],
    ) -> None:
        for row in fetched:
            name = self._part_names[int(row[0])]
            rows[name] = tuple(row[1:])
            if cached:
                self._cache_put(name, keys[name], day, rows[name])  # type: ignore[arg-type]

    def _line_rows(
        self, conn: Connection, keys: dict[str, str | None], day: int, cached: bool
    ) -> dict[str, tuple[Any, ...]]:
        """Rows of every part for one line: from the cache where possible, the rest in one statement."""
        rows, missing = self._cached_rows(keys, day, cached)
        if missing:
            # straight on the DB-API cursor: the statement is compiled once, and this is the hot path
            cursor = raw_cursor(conn)
            try:
                union = self._union(missing)
                cursor.execute(union[0], self._union_params(union, missing, keys, day))
                fetched = cursor.fetchall()
            finally:
                cursor.close()
            self._keep_rows(fetched, keys, day, cached, rows)
        return rows

    def _many_line_rows(
        self, conn: Connection, keys: list[dict[str, str | None]], days: list[int], cached: bool
    ) -> list[dict[str, tuple[Any, ...]]]:
        """`_line_rows` of many lines, with no writes between them. On psycopg the statements of lines
        that need the same parts go in one `executemany` (pipelined: one wait, not one per line)."""
        if not is_psycopg(conn.dialect):
            return [self._line_rows(conn, k, d, cached) for k, d in zip(keys, days, strict=True)]
        out, by_names = [], defaultdict(list)
        for i, (k, d) in enumerate(zip(keys, days, strict=True)):
            rows, missing = self._cached_rows(k, d, cached)
            out.append(rows)
            if missing:
                by_names[missing].append(i)
        for names, lines in by_names.items():
            union = self._union(names)
            params = [self._union_params(union, names, keys[i], days[i]) for i in lines]
            for i, fetched in zip(lines, fetch_each(raw_cursor(conn), union[0], params), strict=True):
                self._keep_rows(fetched, keys[i], days[i], cached, out[i])
        return out

    def _query_results(
        self,
        conn: Connection,
        cols: Columns,
        cached: bool = True,
        after_each: Callable[[int], None] | None = None,
    ) -> dict[str, np.ndarray]:
        """Every query of `QUERIES` for every line of `cols` (one statement per line at most), calling
        `after_each(i)` once line i has been read (each line is then read after the one before it was
        handled; without it the lines are read together)."""
        n = len(cols["day"])
        results = {q.name: np.full(n, np.nan) for q in QUERIES}
        days = cols["day"].tolist()
        keys = {name: _key_strings(cols, key_cols) for name, (_, _, key_cols) in self._statements.items()}
        line_keys = [{name: k[i] for name, k in keys.items()} for i in range(n)]

        def fill(i: int, rows: dict[str, tuple[Any, ...]]) -> None:
            for name, row in rows.items():
                for q, value in zip(self._statements[name][1], row, strict=False):
                    if value is None:
                        value = np.nan if isinstance(q, LastDay | FirstDay) else 0.0
                    results[q.name][i] = value

        if after_each is None:
            for i, rows in enumerate(self._many_line_rows(conn, line_keys, days, cached)):
                fill(i, rows)
            return results
        for i in range(n):
            fill(i, self._line_rows(conn, line_keys[i], days[i], cached))
            after_each(i)
        return results

    def _features(
        self, conn: Connection, cols: Columns, after_each: Callable[[int], None] | None = None
    ) -> dict[str, np.ndarray]:
        artifacts = self._require_artifacts()
        feats = stateless_features(cols, artifacts)
        results = self._query_results(conn, cols, after_each=after_each)
        feats.update(finalize(cols, results, artifacts.prior_violation_rate, PRIOR_WEIGHT))
        feats.update(extra_features(cols, artifacts))
        return feats

    def features_for_line(self, record: Mapping[str, Any]) -> dict[str, float]:
        """Features of one incoming line, as of its date (the store is not changed)."""
        self._require_artifacts()
        cols = self.columns([self.validate_line(record)])
        with self.engine.connect() as conn:
            return self.line_features(conn, cols)

    def validate_line(self, record: Mapping[str, Any], row: int | None = None) -> dict[str, Any]:
        """The line checked and typed (for `columns`); raises `InvalidRecordError` naming the field (and
        `row`, its 1-based position in a batch)."""
        return self.validator.line(record, row=row)

    def columns(self, typed: Sequence[dict[str, Any]]) -> Columns:
        """The column arrays of lines checked by `validate_line`: what `line_features` and `add_columns`
        take, built once when a line is both scored and added."""
        return columns_from_records(typed, self.extra_columns)

    @contextmanager
    def transaction(self) -> Iterator[Connection]:
        """One transaction on one pooled connection, so that a line's features, its addition and the
        caller's own rows (the audit trail) commit together or not at all."""
        with self.engine.begin() as conn:
            yield conn

    def line_features(self, conn: Connection, cols: Columns) -> dict[str, float]:
        """Features of one line (`columns` of it), as of its date, read on `conn`."""
        feats = self._features(conn, cols)
        return {name: float(feats[name][0]) for name in self.feature_names}

    def features_then_add(self, conn: Connection, cols: Columns) -> list[dict[str, float]]:
        """Features of lines (`columns` of them) taken one after the other on `conn`: each line's history
        is read as of its date, then the line is added, so each sees the lines before it exactly as
        separate calls would. One feature dict per line. The history is read line by line; the features
        that need no history are computed for all the lines at once."""

        def add(i: int) -> None:
            self.add_columns(conn, {name: values[i : i + 1] for name, values in cols.items()})

        feats = self._features(conn, cols, after_each=add)
        names = self.feature_names
        return [{name: float(feats[name][i]) for name in names} for i in range(len(cols["day"]))]

    def features_for(self, records: pd.DataFrame | Sequence[Mapping[str, Any]]) -> pd.DataFrame:
        """Features of several incoming lines (rows in input order, indexed by line_id)."""
        typed = self._typed_lines(records)
        with self.engine.connect() as conn:
            return self.lines_features(conn, typed)

    def lines_features(self, conn: Connection, typed: Sequence[dict[str, Any]]) -> pd.DataFrame:
        """Features of lines checked by `validate_line`, read on `conn` (rows in order, by line_id)."""
        feats = self._features(conn, columns_from_records(typed, self.extra_columns))
        index = pd.Index([r["line_id"] for r in typed], name="line_id", dtype=object)
        return pd.DataFrame(
            {n: np.asarray(feats[n], dtype="float64") for n in self.feature_names}, index=index
        )

    @property
    def feature_names(self) -> list[str]:
        return feature_names(self._require_artifacts())

    def _require_artifacts(self) -> FeatureArtifacts:
        if self.artifacts is None:
            raise ValueError("this FeatureStore has no FeatureArtifacts; pass artifacts= to compute features")
        return self.artifacts

    # writing -------------------------------------------------------------------------------------------
    def _typed_lines(self, lines: pd.DataFrame | Sequence[Mapping[str, Any]]) -> list[dict[str, Any]]:
        if isinstance(lines, pd.DataFrame):
            lines = lines.to_dict("records")
        return [self.validate_line(r, row=i + 1) for i, r in enumerate(lines)]

    def _validated_frame(self, frame: pd.DataFrame) -> tuple[pd.DataFrame, Columns]:
        result = validate_lines(frame, self.rules, extra_columns=self.extra_columns)
        if len(result.rejects):
            first = result.rejects.iloc[0]
            raise InvalidRecordError(
                str(first["field"]),
                f"{first['reason']} ({len(result.rejects)} problem(s) in total)",
                first["value"],
                int(first["source_row"]),
            )
        return result.valid, columns_from_frame(result.valid, self.extra_columns, all_fields=True)

    def add_lines(self, lines: pd.DataFrame | Sequence[Mapping[str, Any]]) -> int:
        """Add lines (validated; all or nothing); returns how many were new. Known line_ids are skipped."""
        if isinstance(lines, pd.DataFrame) and len(lines) > _SMALL:
            _, cols = self._validated_frame(lines)
        else:
            typed = self._typed_lines(lines)
            ids = [r["line_id"] for r in typed]
            if len(set(ids)) != len(ids):
                dup = next(i for i in ids if ids.count(i) > 1)
                raise InvalidRecordError("line_id", "duplicate line_id in one call", dup)
            cols = columns_from_records(typed, self.extra_columns)
        if len(cols["day"]) == 0:
            return 0
        with self.engine.begin() as conn:
            return self.add_columns(conn, cols)

    def add_columns(self, conn: Connection, cols: Columns) -> int:
        """Add lines (`columns` of distinct checked lines) in the caller's transaction; returns how many
        were new. Known line_ids are skipped."""
        touched: set[tuple[str, str]] = set()
        new = self._new_ids(conn, cols["line_id"])
        if not new.any():
            return 0
        cols = {name: values[new] for name, values in cols.items()}
        # One line (the serving path) is written and read back through compiled statements only, which
        # psycopg's pipeline mode takes; SQLAlchemy's own execute does not (it wants a result at once).
        with pipeline(conn) if len(cols["day"]) == 1 else nullcontext():
            self._insert_lines(conn, cols)
            self._apply_lines(conn, cols, touched)
        self._apply_outcomes_of_new_lines(conn, cols, touched)
        self._invalidate(touched)
        return int(new.sum())

    def _new_ids(self, conn: Connection, ids: np.ndarray, statement: str = "known_lines") -> np.ndarray:
        id_list = ids.tolist()
        if len(id_list) == 1 and statement == "known_lines":
            return np.array([not self._statement("known_line").fetchall(conn, {"id": id_list[0]})])
        known: set[str] = set()
        for i in range(0, len(id_list), _CHUNK):
            known.update(conn.execute(self._writes[statement], {"ids": id_list[i : i + _CHUNK]}).scalars())
        return np.array([i not in known for i in id_list], dtype=bool)

    def _insert_lines(self, conn: Connection, cols: Columns) -> None:
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
        if self.extra_columns:
            extra = {name: cols[f"extra:{name}"].tolist() for name in self.extra_columns}
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

    def _upsert_aggregate(
        self,
        conn: Connection,
        agg: Aggregate,
        keys: list[str | None],
        days: np.ndarray,
        values: dict[str, np.ndarray],
    ) -> set[tuple[str, str]]:
        rows = _group_sums(keys, days, values, agg.measures)
        if not rows:
            return set()
        params = [{"k": r["key"], "d": r["day"], **{f"x_{m}": r[m] for m in agg.measures}} for r in rows]
        # Later days' running totals first (rows added by this call do not exist yet), then the upserts in
        # (key, day) order, each reading the total of the key's previous row.
        if f"later:{agg.name}" in self._writes:
            self._run(conn, f"later:{agg.name}", params)
        self._run(conn, f"agg:{agg.name}", params)
        return {(agg.name, r["key"]) for r in rows}

    def _apply_lines(self, conn: Connection, cols: Columns, touched: set[tuple[str, str]]) -> None:
        """Fold new lines into the stage-0 aggregates and pairs, then the derived stage-1 aggregates."""
        days = cols["day"]
        pairs: list[dict[str, Any]] = []
        for agg in AGGREGATES:
            if agg.source == "lines" and agg.stage == 0:
                keys = _key_strings(cols, agg.key)
                contributions = agg.contributions(cols, {})
                touched |= self._upsert_aggregate(conn, agg, keys, days, contributions)
                for q in QUERIES:
                    if isinstance(q, FirstDay) and q.aggregate == agg.name:
                        # the key's first day with a positive measure, as a pair with the empty value
                        values = np.where(contributions[q.measure] > 0, "", None).tolist()
                        touched |= _first_pairs(pairs, q.name, keys, values, days, agg.name)
        for q in QUERIES:
            if isinstance(q, Distinct):
                keys = _key_strings(cols, q.key)
                touched |= _first_pairs(pairs, q.name, keys, cols[q.value].tolist(), days, q.name)
        if pairs:
            self._count_new_pairs(conn, [r for r in pairs if r["rel"] in _DISTINCT_RELS])
            self._run(conn, "pairs", pairs)
        exports = np.flatnonzero(cols["ru_by_export"] == 1.0)
        if len(exports):
            sub = {name: values[exports] for name, values in cols.items()}
            stage0 = {"last_import_day": self._last_import_days(conn, sub)}
            for agg in AGGREGATES:
                if agg.stage == 1:
                    keys = _key_strings(sub, agg.key)
                    touched |= self._upsert_aggregate(
                        conn, agg, keys, sub["day"], agg.contributions(sub, stage0)
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
        """The stored first day of each (rel, key, value) of `rows` that is in `pairs` already."""
        found: dict[tuple[str, str, str], int] = {}
        if len(rows) <= _SMALL:
            params = [{"r": r["rel"], "k": r["key"], "v": r["value"]} for r in rows]
            for r, hit in zip(rows, self._statement("pair_first").fetch_each(conn, params), strict=True):
                if hit:
                    found[(r["rel"], r["key"], r["value"])] = int(hit[0][0])
            return found
        p = self.schema.pairs
        by_rel: dict[str, list[str]] = defaultdict(list)
        for rel, key in {(r["rel"], r["key"]) for r in rows}:
            by_rel[rel].append(key)
        for rel, keys in by_rel.items():
            keys.sort()
            for i in range(0, len(keys), _CHUNK):
                query = sa.select(p.c.key, p.c.value, p.c.first_day).where(
                    p.c.rel == rel, p.c.key.in_(keys[i : i + _CHUNK])
                )
                for key, value, first_day in conn.execute(query):
                    found[(rel, key, value)] = int(first_day)
        return found

    def _last_import_days(self, conn: Connection, cols: Columns) -> np.ndarray:
        """The `last_import_day` query for the given lines, read inside the writing transaction."""
        query = next(q for q in QUERIES if q.name == "last_import_day")
        assert isinstance(query, LastDay)
        if len(cols["day"]) <= _SMALL:
            return self._query_results(conn, cols, cached=False)[query.name]
        t = self.schema.aggs[query.aggregate]
        stored = pd.DataFrame(
            conn.execute(sa.select(t.c.key, t.c.day).where(t.c[query.measure] > 0)).all(),
            columns=["key", "day"],
        )
        keys = _key_strings(cols, AGGREGATES_BY_NAME[query.aggregate].key)
        codes, uniques = pd.factorize(pd.Series(keys, dtype=object), use_na_sentinel=True)
        stored_codes = pd.Index(uniques).get_indexer(stored["key"].to_numpy(dtype=object))
        table = DayTable(
            stored_codes.astype("int64"), stored["day"].to_numpy(dtype="int64"), {"m": np.ones(len(stored))}
        )
        found = table.last_day("m", codes.astype("int64"), cols["day"], query.lookback)
        return np.where(codes >= 0, found, np.nan)

    # outcomes ------------------------------------------------------------------------------------------
    def add_outcomes(self, outcomes: pd.DataFrame | Sequence[Mapping[str, Any]]) -> int:
        """Add inspection outcomes (all or nothing); returns how many were new. Known line_ids are skipped.

        An outcome counts from its `inspected_on` date, for the declarant and trader of its line; an
        outcome whose line is not in the store yet is kept and counted when the line arrives.
        """
        typed = self._typed_outcomes(outcomes)
        if not typed:
            return 0
        touched: set[tuple[str, str]] = set()
        with self.engine.begin() as conn:
            ids = np.array([r["line_id"] for r in typed], dtype=object)
            already = ~self._new_ids(conn, ids, "known_outcomes")
            fresh = [r for r, seen in zip(typed, already, strict=True) if not seen]
            if not fresh:
                return 0
            conn.execute(self._writes["outcomes"], fresh)
            self._apply_outcomes(conn, fresh, touched)
        self._invalidate(touched)
        return len(fresh)

    def _typed_outcomes(self, outcomes: pd.DataFrame | Sequence[Mapping[str, Any]]) -> list[dict[str, Any]]:
        if isinstance(outcomes, pd.DataFrame) and len(outcomes) > _SMALL:
            result = validate_inspections(outcomes, self.rules)
            if len(result.rejects):
                first = result.rejects.iloc[0]
                raise InvalidRecordError(
                    str(first["field"]), str(first["reason"]), first["value"], int(first["source_row"])
                )
            frame = result.valid
            return [
                {
                    "line_id": lid,
                    "inspected_on": ts.date(),
                    "outcome": out,
                    "violation_type": None if pd.isna(vt) else vt,
                }
                for lid, ts, out, vt in zip(
                    frame["line_id"],
                    frame["inspected_on"],
                    frame["outcome"],
                    frame["violation_type"],
                    strict=True,
                )
            ]
        if isinstance(outcomes, pd.DataFrame):
            outcomes = outcomes.to_dict("records")
        typed = [self.validator.outcome(r, row=i + 1) for i, r in enumerate(outcomes)]
        ids = [r["line_id"] for r in typed]
        if len(set(ids)) != len(ids):
            raise InvalidRecordError("line_id", "duplicate line_id in one call")
        return typed

    def _apply_outcomes(
        self, conn: Connection, outcomes: list[dict[str, Any]], touched: set[tuple[str, str]]
    ) -> None:
        """Fold outcomes whose lines are in the store into the outcome aggregates."""
        lines = self.schema.lines
        key_cols = sorted({k for agg in AGGREGATES if agg.source == "outcomes" for k in agg.key})
        by_id = {r["line_id"]: r for r in outcomes}
        found: dict[str, dict[str, Any]] = {}
        ids = list(by_id)
        for i in range(0, len(ids), _CHUNK):
            stmt = sa.select(lines.c.line_id, *(lines.c[k] for k in key_cols)).where(
                lines.c.line_id.in_(ids[i : i + _CHUNK])
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
                keys = _key_strings(rows, agg.key)
                touched |= self._upsert_aggregate(conn, agg, keys, rows["day"], agg.contributions(rows, {}))

    def _apply_outcomes_of_new_lines(
        self, conn: Connection, cols: Columns, touched: set[tuple[str, str]]
    ) -> None:
        ids = cols["line_id"].tolist()
        pending: list[dict[str, Any]] = []
        if len(ids) == 1:
            found = self._statement("pending_outcome").fetchall(conn, {"id": ids[0]})
            for line_id, inspected_on, outcome, violation_type in found:
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
            ids = []
        for i in range(0, len(ids), _CHUNK):
            rows = conn.execute(self._writes["pending_outcomes"], {"ids": ids[i : i + _CHUNK]}).mappings()
            pending.extend(dict(r) for r in rows)
        if pending:
            self._apply_outcomes(conn, pending, touched)

    # cache ---------------------------------------------------------------------------------------------
    def _invalidate(self, touched: set[tuple[str, str]]) -> None:
        for entry in touched:
            self._cache.pop(entry, None)

    def clear_cache(self) -> None:
        self._cache.clear()

    # reading back --------------------------------------------------------------------------------------
    def line_count(self) -> int:
        with self.engine.connect() as conn:
            return int(conn.execute(sa.select(sa.func.count()).select_from(self.schema.lines)).scalar_one())

    def read_lines(self) -> pd.DataFrame:
        """Every stored line as a canonical frame (ordered by date, then line_id), e.g. to train from."""
        t = self.schema.lines
        with self.engine.connect() as conn:
            frame = pd.read_sql(sa.select(t).order_by(t.c.day, t.c.line_id), conn)
        frame["date"] = pd.to_datetime(frame["date"]).astype("datetime64[ns]")
        extra = frame.pop("extra")
        frame = frame.drop(columns="day")
        if self.extra_columns:
            parsed = [json.loads(x) if isinstance(x, str) else {} for x in extra]
            for name in self.extra_columns:
                frame[name] = [p.get(name) for p in parsed]
        return frame

    def read_outcomes(self) -> pd.DataFrame:
        """Every stored inspection outcome as a canonical frame (ordered by line_id)."""
        t = self.schema.outcomes
        with self.engine.connect() as conn:
            frame = pd.read_sql(sa.select(t).order_by(t.c.line_id), conn)
        frame["inspected_on"] = pd.to_datetime(frame["inspected_on"]).astype("datetime64[ns]")
        return frame

    def to_canonical(self) -> CanonicalData:
        """The store's lines and outcomes as a canonical data set, to train from what serving has seen."""
        return CanonicalData(self.read_lines(), self.read_outcomes(), None, dict(self.extra_columns))


def _first_pairs(
    out: list[dict[str, Any]],
    rel: str,
    keys: list[str | None],
    values: list[str | None],
    days: np.ndarray,
    part: str,
) -> set[tuple[str, str]]:
    """Append to `out` the `pairs` rows of the first day each (key, value) is seen under `rel`; returns
    the touched (part, key)s."""
    first: dict[tuple[str, str], int] = {}
    for key, value, day in zip(keys, values, days.tolist(), strict=True):
        if key is None or value is None:
            continue
        if (key, value) not in first or day < first[(key, value)]:
            first[(key, value)] = day
    out.extend({"rel": rel, "key": k, "value": v, "first_day": d} for (k, v), d in first.items())
    return {(part, k) for k, _ in first}


def _group_sums(
    keys: list[str | None], days: np.ndarray, values: dict[str, np.ndarray], measures: tuple[str, ...]
) -> list[dict[str, Any]]:
    """Per-(key, day) sums of the measures, rows in (key, day) order; missing keys are skipped."""
    if len(keys) > _SMALL:
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
