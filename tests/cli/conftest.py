"""A small canonical data folder and a free port for the CLI tests."""

import socket
from collections.abc import Iterator
from pathlib import Path

import pytest

from roundabout.data.io import write_folder
from roundabout.simulation import SimulationConfig, simulate


@pytest.fixture(scope="session")
def small_world(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """500 simulated lines: enough for commands that fail before training or scoring."""
    out = tmp_path_factory.mktemp("small_world")
    write_folder(simulate(SimulationConfig(n_lines=500, seed=3)), out)
    return out


@pytest.fixture
def busy_port() -> Iterator[int]:
    """A port something listens on for the length of the test."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        sock.listen()
        yield sock.getsockname()[1]
