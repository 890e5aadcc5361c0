"""SQLAlchemy statements compiled once and run straight on the DB-API cursor.

The store runs a handful of fixed statements per scored line. Through `Connection.execute` each costs tens
of microseconds of SQLAlchemy bookkeeping (cache key, execution context, result wrapping), more than SQLite
takes to run it; compiled once per dialect, a statement costs its driver call and the bind processors of
its parameters (e.g. dates to ISO strings on SQLite).
"""

from collections.abc import Mapping, Sequence
from typing import Any

from sqlalchemy.engine import Connection

from roundabout.store.backends import Backend


class CompiledStatement:
    """One statement compiled for one backend: its SQL text, parameter order and bind processors.

    `query=True` compiles it for the backend's `query_dialect` (a long, hot read: on PostgreSQL with `$n`
    placeholders, sent as it is)."""

    def __init__(self, statement: Any, backend: Backend, query: bool = False) -> None:
        compiled = statement.compile(dialect=backend.query_dialect() if query else backend.engine.dialect)
        self.backend, self.query = backend, query
        self.sql = str(compiled)
        self.processors = dict(compiled._bind_processors)
        self.constants = {
            n: self.processors[n](v) if n in self.processors else v for n, v in compiled.params.items()
        }
        # positional drivers (sqlite3, RawCursor) take a list in this order; named ones take the dict
        self.order = list(compiled.positiontup) if compiled.positiontup is not None else None

    def parameters(self, row: Mapping[str, Any]) -> Any:
        processors = self.processors
        values = {**self.constants, **{n: processors[n](v) if n in processors else v for n, v in row.items()}}
        return [values[n] for n in self.order] if self.order is not None else values

    def execute(self, conn: Connection, rows: Sequence[Mapping[str, Any]]) -> None:
        """Run for each row (one `executemany` for several)."""
        params = [self.parameters(r) for r in rows]
        cursor = self.backend.cursor(conn, self.query)
        try:
            if len(params) == 1:
                cursor.execute(self.sql, params[0])
            else:
                cursor.executemany(self.sql, params)
        finally:
            cursor.close()

    def fetchall(self, conn: Connection, row: Mapping[str, Any]) -> list[tuple[Any, ...]]:
        """Run once and return the result rows as tuples."""
        cursor = self.backend.cursor(conn, self.query)
        try:
            cursor.execute(self.sql, self.parameters(row))
            return [tuple(r) for r in cursor.fetchall()]
        finally:
            cursor.close()

    def fetch_each(self, conn: Connection, rows: Sequence[Mapping[str, Any]]) -> list[list[tuple[Any, ...]]]:
        """Run for each row and return each run's result rows (on PostgreSQL all runs are sent before the
        first answer is awaited: one wait, not one per row)."""
        params = [self.parameters(r) for r in rows]
        return self.backend.fetch_each(self.backend.cursor(conn, self.query), self.sql, params)
