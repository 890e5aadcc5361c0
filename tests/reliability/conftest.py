"""One SQLite-backed server shared by the reliability tests that only read or add their own lines."""

from collections.abc import Iterator

import pytest

from tests.support.server import Registry, Server, load_world_list, start_server, stop_server


@pytest.fixture(scope="package")
def shared_server(registry: Registry, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Server]:
    tmp = tmp_path_factory.mktemp("reliability-server")
    store_url = f"sqlite:///{tmp / 'store.db'}"
    load_world_list(registry, store_url)  # screening answers from the start
    running = start_server(registry, store_url, tmp / "server.log")
    try:
        yield running
    finally:
        stop_server(running)
