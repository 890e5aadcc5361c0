"""Frames in and out of the store's tables, many rows per statement, on each database its fastest way.

PostgreSQL takes rows through `COPY ... FROM STDIN` (CSV written by pandas, sent through psycopg's copy
support): one statement per table however many rows, against one round trip per few hundred rows for an
`INSERT`. SQLite, in process, takes them through the driver's `executemany`. Staging tables are temporary
tables of the loading connection (invisible to every other connection, never written to the write-ahead
log on PostgreSQL), so the rows a merge looks up or updates are joined in SQL rather than listed.
"""

import csv
import io
import itertools
from typing import Any

import numpy as np
import pandas as pd
import sqlalchemy as sa
from psycopg.copy import QueuedLibpqWriter
from sqlalchemy.engine import Connection

from roundabout.store.backends import Backend

#: Rows per CSV block sent to COPY (bounds the text held in memory at once).
COPY_BLOCK = 50_000
#: The text a missing value is written as in COPY's CSV (quoted, and named in FORCE_NULL).
_NULL = "\\N"
_names = itertools.count()


def _python_column(values: pd.Series) -> list[Any]:
    """A column as Python values for a DB-API driver: missing as None, numpy scalars as Python's."""
    if values.dtype.kind == "f":
        array = values.to_numpy()
        return np.where(np.isnan(array), None, array).tolist()
    if values.dtype.kind in "iub":
        return values.tolist()
    array = values.to_numpy(dtype=object)
    return np.where(pd.isna(array), None, array).tolist()


class TableIO:
    """Bulk inserts, staging tables, set-wise updates and reads of one backend's tables."""

    def __init__(self, backend: Backend) -> None:
        self.backend = backend
        self.postgres = backend.dialect_name == "postgresql"

    def insert(self, conn: Connection, table: sa.Table, frame: pd.DataFrame) -> None:
        """Insert every row of `frame` (columns named as `table`'s) into `table`, in the caller's
        transaction; the rows must be new (no conflict handling)."""
        if frame.empty:
            return
        names = list(frame.columns)
        if self.postgres:
            self._copy(conn, table, frame)
            return
        quote = self.backend.engine.dialect.identifier_preparer.quote
        sql = (
            f"INSERT INTO {quote(table.name)} ({', '.join(quote(n) for n in names)}) "
            f"VALUES ({', '.join('?' for _ in names)})"
        )
        rows = zip(*(_python_column(frame[n]) for n in names), strict=True)
        cursor = conn.connection.dbapi_connection.cursor()  # type: ignore[union-attr]
        try:
            cursor.executemany(sql, rows)
        finally:
            cursor.close()

    def _copy(self, conn: Connection, table: sa.Table, frame: pd.DataFrame) -> None:
        quote = self.backend.engine.dialect.identifier_preparer.quote
        names = ", ".join(quote(n) for n in frame.columns)
        options = f"FORMAT csv, NULL '{_NULL}', FORCE_NULL ({names})"
        sql = f"COPY {quote(table.name)} ({names}) FROM STDIN ({options})"
        cursor = conn.connection.dbapi_connection.cursor()  # type: ignore[union-attr]
        try:
            # a thread sends each block while the next is formatted
            with cursor.copy(sql, writer=QueuedLibpqWriter(cursor)) as copy:
                for start in range(0, len(frame), COPY_BLOCK):
                    block = frame.iloc[start : start + COPY_BLOCK]
                    text = io.StringIO()
                    block.to_csv(text, header=False, index=False, na_rep=_NULL, quoting=csv.QUOTE_NONNUMERIC)
                    copy.write(text.getvalue())
        finally:
            cursor.close()

    def stage(self, conn: Connection, frame: pd.DataFrame, types: dict[str, Any]) -> sa.Table:
        """A temporary table of the loading connection holding `frame` (columns typed by `types`); drop it
        with `drop` when done."""
        table = sa.Table(
            f"bulk_stage_{next(_names)}",
            sa.MetaData(),
            *(sa.Column(name, types[name]) for name in frame.columns),
            prefixes=["TEMPORARY"],
        )
        table.create(conn)
        self.insert(conn, table, frame)
        if self.postgres:
            # a temporary table is never analysed by autovacuum: without statistics, joins on it are planned
            # for an empty table
            conn.exec_driver_sql(f"ANALYZE {table.name}")
        return table

    def drop(self, conn: Connection, table: sa.Table) -> None:
        table.drop(conn)

    def read(self, conn: Connection, query: Any) -> pd.DataFrame:
        """The rows of a SELECT as a frame (text columns as objects, numbers as floats or integers), read on
        the driver's cursor: a frame of Python rows costs less than SQLAlchemy's rows."""
        compiled = query.compile(dialect=conn.dialect)
        params: Any = compiled.params
        if compiled.positiontup is not None:
            params = [compiled.params[name] for name in compiled.positiontup]
        cursor = conn.connection.dbapi_connection.cursor()  # type: ignore[union-attr]
        try:
            cursor.execute(str(compiled), params)
            rows = cursor.fetchall()
        finally:
            cursor.close()
        selected = list(getattr(query, "selected_columns", None) or query.exported_columns)
        columns = list(zip(*rows, strict=True)) if rows else [() for _ in selected]
        return pd.DataFrame(
            {
                c.key: pd.Series(values, dtype=object if isinstance(c.type, sa.String | sa.Date) else None)
                for values, c in zip(columns, selected, strict=True)
            }
        )

    def is_empty(self, conn: Connection, table: sa.Table) -> bool:
        return conn.execute(sa.select(sa.literal(1)).select_from(table).limit(1)).first() is None

    def update(
        self,
        conn: Connection,
        table: sa.Table,
        frame: pd.DataFrame,
        match: list[str],
        types: dict[str, Any],
    ) -> None:
        """Set the other columns of `frame` on the rows of `table` matching its `match` columns."""
        if frame.empty:
            return
        staged = self.stage(conn, frame, types)
        conn.execute(
            sa.update(table)
            .where(*(table.c[c] == staged.c[c] for c in match))
            .values({c: staged.c[c] for c in frame.columns if c not in match})
        )
        self.drop(conn, staged)
