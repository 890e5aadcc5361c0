"""The databases the service store runs on, one module each behind `base.Backend`, chosen by the URL."""

from roundabout.errors import ConfigError
from roundabout.store.backends.base import STORE_ERRORS, Backend
from roundabout.store.backends.postgres import PostgresBackend
from roundabout.store.backends.sqlite import SqliteBackend

BACKENDS: tuple[type[Backend], ...] = (SqliteBackend, PostgresBackend)


def open_backend(url: str, timeout: float | None = None, autocheckpoint: bool = True) -> Backend:
    """The backend of a SQLAlchemy URL (`sqlite:///...`, `postgresql+psycopg://...`).

    `timeout` (seconds): the longest any connect or statement waits; `autocheckpoint=False` (SQLite): the
    owner folds the write-ahead log back itself (`Backend.checkpoint`)."""
    scheme = url.split(":", 1)[0].split("+", 1)[0]
    for backend in BACKENDS:
        if backend.dialect_name == scheme:
            return backend.open(url, timeout, autocheckpoint)
    raise ConfigError(f"store URL {url.split('@')[-1]!r}: the store runs on SQLite or PostgreSQL")


__all__ = ["BACKENDS", "STORE_ERRORS", "Backend", "PostgresBackend", "SqliteBackend", "open_backend"]
