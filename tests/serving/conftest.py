"""The server fixture of the serving tests: one real server per test module and store kind."""

from collections.abc import Iterator

import pytest

from tests.support.server import Registry, Server, start_server, stop_server


@pytest.fixture(scope="module", params=["sqlite", "postgres"])
def server(
    request: pytest.FixtureRequest, registry: Registry, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[Server]:
    """A server per test module and store kind (tests use their own line ids): SQLite or PostgreSQL."""
    tmp_path = tmp_path_factory.mktemp(f"server-{request.param}")
    if request.param == "sqlite":
        store_url = f"sqlite:///{tmp_path / 'store.db'}"
    else:
        store_url = request.getfixturevalue("postgres_store_url")
    running = start_server(registry, store_url, tmp_path / "server.log")
    try:
        yield running
    finally:
        stop_server(running)
