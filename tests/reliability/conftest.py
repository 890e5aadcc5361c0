"""One SQLite-backed server shared by the reliability tests that only read or add their own lines."""

from collections.abc import Iterator

import pytest

from tests.support.server import Registry, Server, start_server, stop_server


@pytest.fixture(scope="package")
def shared_server(registry: Registry, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Server]:
    tmp = tmp_path_factory.mktemp("reliability-server")
    running = start_server(registry, f"sqlite:///{tmp / 'store.db'}", tmp / "server.log")
    try:
        yield running
    finally:
        stop_server(running)
