"""SQLAlchemy statements compiled once and run straight on the DB-API cursor.

The online path runs a handful of fixed statements per scored line. Through `Connection.execute` each
costs tens of microseconds of SQLAlchemy bookkeeping (cache key, execution context, result wrapping),
more than SQLite takes to run it; compiled once per dialect, a statement costs its driver call and the
bind processors of its parameters (e.g. dates to ISO strings on SQLite).

On PostgreSQL (psycopg) two more round-trip and parsing costs go:
- psycopg parses a `%(name)s` query on every call when it is longer than 4,096 characters or has more than
  50 parameters (it caches only smaller ones). The feature query is longer, so it is compiled with `$n`
  placeholders and run on a `psycopg.RawCursor`, which sends it as it is (`raw_cursor`, `query_dialect`).
- Writes wait for no answer: in psycopg's pipeline mode (`pipeline`) they are sent back to back, and the
  connection waits only when a result is read (or at the end of the block), so a line's dozen writes cost
  about one round trip instead of one each. An error still ends the transaction.
"""

from collections.abc import Mapping, Sequence
from contextlib import AbstractContextManager, nullcontext
from typing import Any

import psycopg
from sqlalchemy.dialects.postgresql import psycopg as pg_psycopg
from sqlalchemy.engine import Connection, Dialect


class CompiledStatement:
    """One statement compiled for one dialect: its SQL text, parameter order and bind processors."""

    def __init__(self, statement: Any, dialect: Dialect) -> None:
        compiled = statement.compile(dialect=dialect)
        self.sql = str(compiled)
        self.processors = dict(compiled._bind_processors)
        self.constants = {
            n: self.processors[n](v) if n in self.processors else v for n, v in compiled.params.items()
        }
        # positional drivers (sqlite3) take a list in this order; named ones (psycopg) take the dict
        self.order = list(compiled.positiontup) if compiled.positiontup is not None else None

    def parameters(self, row: Mapping[str, Any]) -> Any:
        processors = self.processors
        values = {**self.constants, **{n: processors[n](v) if n in processors else v for n, v in row.items()}}
        return [values[n] for n in self.order] if self.order is not None else values

    def execute(self, conn: Connection, rows: Sequence[Mapping[str, Any]]) -> None:
        """Run for each row (one `executemany` for several)."""
        params = [self.parameters(r) for r in rows]
        cursor = conn.connection.cursor()
        try:
            if len(params) == 1:
                cursor.execute(self.sql, params[0])
            else:
                cursor.executemany(self.sql, params)
        finally:
            cursor.close()

    def fetchall(self, conn: Connection, row: Mapping[str, Any]) -> list[tuple[Any, ...]]:
        """Run once and return the result rows as tuples."""
        cursor = conn.connection.cursor()
        try:
            cursor.execute(self.sql, self.parameters(row))
            return [tuple(r) for r in cursor.fetchall()]
        finally:
            cursor.close()

    def fetch_each(self, conn: Connection, rows: Sequence[Mapping[str, Any]]) -> list[list[tuple[Any, ...]]]:
        """Run for each row and return each run's result rows; on psycopg all runs are sent before the
        first answer is awaited (one wait, not one per row)."""
        if not is_psycopg(conn.dialect) or len(rows) < 2:
            return [self.fetchall(conn, row) for row in rows]
        return fetch_each(conn.connection.cursor(), self.sql, [self.parameters(r) for r in rows])


def is_psycopg(dialect: Dialect) -> bool:
    """Whether the driver is psycopg, whose pipeline mode and `RawCursor` the helpers below use."""
    return dialect.name == "postgresql" and dialect.driver == "psycopg"


def fetch_each(cursor: Any, sql: str, params: Sequence[Any]) -> list[list[tuple[Any, ...]]]:
    """Run `sql` once per parameter set on a psycopg `cursor` (then closed), every run sent before the
    first answer is awaited, and return each run's result rows."""
    try:
        cursor.executemany(sql, params, returning=True)
        return [[tuple(r) for r in result.fetchall()] for result in cursor.results()]
    finally:
        cursor.close()


def query_dialect(dialect: Dialect) -> Dialect:
    """The dialect to compile a long, hot query for: on psycopg with `$n` placeholders (for `raw_cursor`)."""
    return pg_psycopg.dialect(paramstyle="numeric_dollar") if is_psycopg(dialect) else dialect


def raw_cursor(conn: Connection) -> Any:
    """A DB-API cursor for a query compiled for `query_dialect(conn.dialect)`."""
    if is_psycopg(conn.dialect):
        return psycopg.RawCursor(conn.connection.dbapi_connection)  # type: ignore[arg-type]
    return conn.connection.cursor()


def pipeline(conn: Connection) -> AbstractContextManager[Any]:
    """psycopg's pipeline mode on `conn` for the block (nothing elsewhere)."""
    if is_psycopg(conn.dialect):
        return conn.connection.dbapi_connection.pipeline()  # type: ignore[union-attr]
    return nullcontext()
