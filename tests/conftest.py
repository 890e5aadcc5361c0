"""Fixtures shared by the whole suite: an isolated settings home, throwaway PostgreSQL databases and a
trained registry."""

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from tests.support.postgres import fresh_postgres_database

#: Fixtures that need the PostgreSQL server.
_POSTGRES_FIXTURES = frozenset({"postgres_url", "postgres_store_url"})


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    """Mark every test that needs PostgreSQL `postgres` (a PostgreSQL fixture, or a fixture parametrized
    with "postgres"), so `-m "not postgres"` (`make test-fast`) runs where no server is."""
    for item in items:
        params = getattr(getattr(item, "callspec", None), "params", {})
        needs = _POSTGRES_FIXTURES & set(getattr(item, "fixturenames", ())) or "postgres" in params.values()
        if needs and item.get_closest_marker("postgres") is None:
            item.add_marker(pytest.mark.postgres)


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


@pytest.fixture(scope="session")
def registry(tmp_path_factory: pytest.TempPathFactory) -> Any:
    """A registry holding a model trained on a small simulated world (once per session; tests/serving
    and tests/reliability share it)."""
    from tests.support.server import build_registry

    return build_registry(tmp_path_factory.mktemp("registry"))


@pytest.fixture(scope="session")
def postgres_store_url() -> Iterator[str]:
    """A throwaway PostgreSQL database for the servers of this session."""
    yield from fresh_postgres_database()
