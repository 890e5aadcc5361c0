"""Creating and upgrading the store's schema: Alembic migrations run in place, on SQLite and PostgreSQL.

`migrate` brings any store to the latest revision: a new database gets every table; a production store is
upgraded where it stands, keeping its data (a PostgreSQL store is never rebuilt). Stores made before the
schema was versioned carry no revision: what tables they hold says where they stand, they are stamped so,
and upgraded from there. Several processes starting at once (API workers) migrate one after the other:
the first takes the migration lock, the others then find the schema current.
"""

from pathlib import Path

import sqlalchemy as sa
from alembic import command
from alembic.config import Config
from alembic.runtime.migration import MigrationContext
from alembic.script import ScriptDirectory
from sqlalchemy.engine import Connection

from roundabout.store.backends import Backend

MIGRATIONS = Path(__file__).parent / "migrations"


def alembic_config(conn: Connection | None = None) -> Config:
    """Alembic's configuration for the store's migrations, on `conn` (no alembic.ini needed)."""
    config = Config()
    config.set_main_option("script_location", str(MIGRATIONS))
    if conn is not None:
        config.attributes["connection"] = conn
    return config


def head_revision() -> str:
    """The latest revision the code knows."""
    head = ScriptDirectory.from_config(alembic_config()).get_current_head()
    assert head is not None, "the store has migrations"
    return head


def current_revision(backend: Backend) -> str | None:
    """The revision the store stands at (None: not versioned, or empty)."""
    with backend.connect() as conn:
        return MigrationContext.configure(conn).get_current_revision()


def _unversioned_revision(conn: Connection) -> str | None:
    """Where a store made before versioning stands, from the tables it holds (None: an empty database)."""
    tables = set(sa.inspect(conn).get_table_names())
    if "feat_lines" not in tables:
        return None
    return "0002" if "feat_distinct" in tables else "0001"


def migrate(backend: Backend, revision: str = "head") -> None:
    """Upgrade the store to `revision` (default: the latest) in one transaction; a no-op when it is there."""
    with backend.transaction() as conn:
        backend.lock_for_migration(conn)
        config = alembic_config(conn)
        if MigrationContext.configure(conn).get_current_revision() is None:
            found = _unversioned_revision(conn)
            if found is not None:
                command.stamp(config, found)
        command.upgrade(config, revision)
