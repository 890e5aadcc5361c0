"""The store on SQLite: the embedded default (one file under ROUNDABOUT_HOME), and `sqlite://` in memory.

Write-ahead logging, so readers never wait for the writer. With `autocheckpoint=False` no commit copies the
log back into the database (the commit that crosses SQLite's 1,000-page mark otherwise does it, ~10 ms,
the p99 of a scored line); the owner calls `checkpoint` from the background instead, or the log grows
without bound.
"""

from collections.abc import Sequence
from pathlib import Path
from typing import Any, Self

import sqlalchemy as sa
from sqlalchemy.dialects import sqlite
from sqlalchemy.engine import Connection
from sqlalchemy.pool import StaticPool

from roundabout.store.backends.base import Backend


def _passive_checkpoint(conn: Connection) -> int:
    _busy, frames, _copied = conn.exec_driver_sql("PRAGMA wal_checkpoint(PASSIVE)").one()
    return max(frames, 0)


class SqliteBackend(Backend):
    dialect_name = "sqlite"

    @classmethod
    def open(cls, url: str, timeout: float | None = None, autocheckpoint: bool = True) -> Self:
        """An engine for `url`; with `timeout` (seconds), a locked database is waited for that long."""
        memory = url in ("sqlite://", "sqlite:///:memory:")
        database = sa.engine.make_url(url).database
        if not memory and database:
            Path(database).parent.mkdir(parents=True, exist_ok=True)  # the embedded default's home folder
        kwargs: dict[str, Any] = {"connect_args": {"check_same_thread": False}}
        if timeout is not None:
            kwargs["connect_args"]["timeout"] = timeout  # SQLite's wait for a locked database
        if memory:
            kwargs["poolclass"] = StaticPool  # one connection, or each would see its own empty database
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

        return cls(engine)

    def insert(self, table: sa.Table) -> Any:
        return sqlite.insert(table)

    def lock_for_migration(self, conn: Connection) -> None:
        # The write lock, taken now rather than at the first write: a second worker starting at the same
        # moment waits here, then finds the schema migrated.
        conn.exec_driver_sql("BEGIN IMMEDIATE")

    def lock_for_load(self, conn: Connection, tables: Sequence[str]) -> None:
        # the database's one write lock, taken now: readers go on (write-ahead log), writers wait
        conn.exec_driver_sql("BEGIN IMMEDIATE")

    def checkpoint(self, exclusive: bool = False) -> int:
        """Copy the write-ahead log back into the database without blocking readers or writers, and return
        the log's length in frames (0 in memory, and once a writer has started the log over).

        A checkpoint overlapped by a write leaves that write's frames behind, and the log is started over
        only once it has all been copied. `exclusive` holds off other connections' writers meanwhile (an
        immediate transaction on a second connection takes the write lock, which a passive checkpoint does
        not need): with several worker processes, keeping this process's own writers away is not enough.
        """
        if self.engine.url.database in (None, "", ":memory:"):
            return 0
        with self.engine.connect() as conn:
            if not exclusive:
                return _passive_checkpoint(conn)
            writer = self.engine.raw_connection()
            try:
                writer.cursor().execute("BEGIN IMMEDIATE")  # waits up to the busy timeout for a writer
                try:
                    return _passive_checkpoint(conn)
                finally:
                    writer.cursor().execute("ROLLBACK")
            finally:
                writer.close()
