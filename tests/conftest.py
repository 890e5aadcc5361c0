"""Fixtures shared by the whole suite: a throwaway PostgreSQL database and an isolated settings home."""

import os
import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import sqlalchemy as sa

#: Server the suite uses for the PostgreSQL path (trust auth on this machine and in CI).
PG_ADMIN_URL = os.environ.get(
    "ROUNDABOUT_TEST_PG_URL", "postgresql+psycopg://postgres@127.0.0.1:5432/postgres"
)


@pytest.fixture(autouse=True)
def _isolated_home(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    """Each test gets its own ROUNDABOUT_HOME, fresh settings and no MLFLOW_TRACKING_URI (a test that
    wants a tracking store sets it, or builds an MlflowService), so nothing leaks between tests."""
    from roundabout.settings import get_settings

    monkeypatch.setenv("ROUNDABOUT_HOME", str(tmp_path / "home"))
    monkeypatch.delenv("MLFLOW_TRACKING_URI", raising=False)
    get_settings.cache_clear()
    yield
    get_settings.cache_clear()


@pytest.fixture
def postgres_url() -> Iterator[str]:
    """A URL to a fresh, empty PostgreSQL database, dropped after the test.

    The suite requires the server: a missing server is a failure, not a skip, because the PostgreSQL path
    is the production path.
    """
    yield from fresh_postgres_database()


def fresh_postgres_database() -> Iterator[str]:
    """Create a uniquely named database, yield its URL, drop it afterwards."""
    admin = sa.create_engine(PG_ADMIN_URL, isolation_level="AUTOCOMMIT")
    name = f"roundabout_test_{uuid.uuid4().hex[:12]}"
    with admin.connect() as conn:
        conn.execute(sa.text(f'CREATE DATABASE "{name}"'))
    url = PG_ADMIN_URL.rsplit("/", 1)[0] + f"/{name}"
    try:
        yield url
    finally:
        with admin.connect() as conn:
            conn.execute(sa.text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        admin.dispose()


@pytest.fixture(scope="session")
def registry(tmp_path_factory: pytest.TempPathFactory) -> Any:
    """A registry holding a model trained on a small simulated world (once per session; tests/serving
    and tests/reliability share it)."""
    from tests.serving.conftest import build_registry

    return build_registry(tmp_path_factory.mktemp("registry"))


@pytest.fixture(scope="session")
def postgres_store_url() -> Iterator[str]:
    """A throwaway PostgreSQL database for the servers of this session."""
    yield from fresh_postgres_database()
