"""What the store needs from a database, behind one interface; each dialect's module says how it does it.

The store's hot statements are compiled once and run straight on the DB-API cursor (through
`Connection.execute` each would cost tens of microseconds of SQLAlchemy bookkeeping, more than SQLite takes
to run it), so the differences between drivers meet here: how a long query is compiled and sent, whether
statements can be sent without waiting for each answer, how the planner learns the tables' sizes, and how
a write-ahead log is folded back. The base class gives the plain behaviour; `sqlite.py` and `postgres.py`
override what their database does differently.
"""

import sqlite3
from collections.abc import Iterator, Sequence
from contextlib import AbstractContextManager, contextmanager, nullcontext
from typing import Any, ClassVar, Self

import psycopg
import sqlalchemy as sa
from sqlalchemy.engine import Connection, Dialect, Engine

#: What a store call raises when the database fails or refuses: the fast paths run on the driver's own
#: cursor, so its errors (a lost connection, a deadlock) arrive unwrapped.
STORE_ERRORS: tuple[type[Exception], ...] = (sa.exc.SQLAlchemyError, sqlite3.Error, psycopg.Error)


class Backend:
    """One database the store runs on: its engine and the dialect-specific parts of running statements."""

    #: The SQLAlchemy dialect name this backend serves (`sqlite`, `postgresql`).
    dialect_name: ClassVar[str] = ""

    def __init__(self, engine: Engine) -> None:
        self.engine = engine

    @classmethod
    def open(cls, url: str, timeout: float | None = None, autocheckpoint: bool = True) -> Self:
        """A backend on a new engine for `url` (see `roundabout.store.backends.open_backend`)."""
        raise NotImplementedError

    @property
    def url(self) -> str:
        return self.engine.url.render_as_string(hide_password=True)

    # connections -------------------------------------------------------------------------------------
    @contextmanager
    def transaction(self) -> Iterator[Connection]:
        """One transaction on one pooled connection: committed at the end of the block, rolled back on
        an error."""
        with self.engine.begin() as conn:
            yield conn

    def connect(self) -> AbstractContextManager[Connection]:
        """A pooled connection for reads (no transaction is committed)."""
        return self.engine.connect()

    def dispose(self) -> None:
        self.engine.dispose()

    # statements --------------------------------------------------------------------------------------
    def insert(self, table: sa.Table) -> Any:
        """An INSERT that can take `on_conflict_do_nothing` / `on_conflict_do_update` (an upsert)."""
        raise NotImplementedError

    def query_dialect(self) -> Dialect:
        """The dialect a long, hot query is compiled for (run it on `query_cursor`)."""
        return self.engine.dialect

    def cursor(self, conn: Connection, query: bool = False) -> Any:
        """A DB-API cursor on `conn` for statements compiled for the engine's dialect, or (`query`) for
        `query_dialect`."""
        return conn.connection.cursor()

    def fetch_each(self, cursor: Any, sql: str, params: Sequence[Any]) -> list[list[tuple[Any, ...]]]:
        """Run `sql` once per parameter set on `cursor` (then closed); each run's result rows."""
        try:
            out = []
            for p in params:
                cursor.execute(sql, p)
                out.append([tuple(r) for r in cursor.fetchall()])
            return out
        finally:
            cursor.close()

    def pipeline(self, conn: Connection) -> AbstractContextManager[Any]:
        """Within the block, writes may be sent without waiting for each answer (where the driver can)."""
        return nullcontext()

    # upkeep ------------------------------------------------------------------------------------------
    def lock_for_migration(self, conn: Connection) -> None:
        """Hold off other processes migrating the same database until `conn`'s transaction ends."""

    def lock_for_load(self, conn: Connection, tables: Sequence[str]) -> None:
        """Hold off other writers of `tables` (taken in the order given) until `conn`'s transaction ends;
        readers go on."""

    def analyze(self, tables: Sequence[str]) -> None:
        """Refresh the planner's statistics of `tables` (after a bulk load)."""

    def checkpoint(self, exclusive: bool = False) -> int:
        """Fold a write-ahead log back into the database; the log's length in frames (0: nothing to do)."""
        return 0

    def rolled_back_by_conflict(self, exc: BaseException) -> bool:
        """Whether `exc` is the database breaking a deadlock or a serialisation conflict by rolling the
        transaction back (nothing was stored; the same work may simply be tried again)."""
        return False
