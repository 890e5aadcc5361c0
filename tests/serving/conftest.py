"""A real registry made by training a small world, and a real server (uvicorn in its own process).

The session-wide `registry` and `postgres_store_url` fixtures live in tests/conftest.py, so the
reliability tests share them.
"""

import json
import os
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import httpx
import pytest

from roundabout.serving.keys import hash_key

KEYS = {
    "scorer": ("k-scorer-0123456789abcdefghijklmnopqrstuvwxyz", ["score"]),
    "inspector": ("k-inspector-0123456789abcdefghijklmnopqrstuvw", ["feedback"]),
    "admin": ("k-admin-0123456789abcdefghijklmnopqrstuvwxyz01", ["score", "feedback", "admin"]),
}


@dataclass
class Registry:
    """An MLflow tracking store holding a trained `roundabout` model with a champion."""

    tracking_uri: str
    data_dir: Path
    home: Path


def build_registry(root: Path) -> Registry:
    """Simulate 20,000 lines into `root/data` and train them into a fresh registry under `root`."""
    from roundabout.data.io import write_folder
    from roundabout.simulation import SimulationConfig, simulate

    data_dir = root / "data"
    write_folder(simulate(SimulationConfig(n_lines=20_000, seed=11)), data_dir)
    tracking_uri = f"sqlite:///{root / 'mlflow.db'}"
    env = {**os.environ, "MLFLOW_TRACKING_URI": tracking_uri, "ROUNDABOUT_HOME": str(root / "home")}
    done = subprocess.run(
        [sys.executable, "-m", "roundabout.cli", "train", "--data", str(data_dir)],
        env=env,
        cwd=root,  # MLflow's default artifact folder (./mlruns) lands beside the database, not in the repo
        capture_output=True,
        text=True,
        timeout=600,
    )
    assert done.returncode == 0, done.stdout + done.stderr
    return Registry(tracking_uri, data_dir, root / "home")


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


@dataclass
class Server:
    """A running service: its base URL, a client per key, the store URL, the process."""

    url: str
    store_url: str
    process: subprocess.Popen[bytes]
    log: Path

    def client(self, who: str | None = None) -> httpx.Client:
        headers = {"X-API-Key": KEYS[who][0]} if who else {}
        return httpx.Client(base_url=self.url, headers=headers, timeout=60)


def start_server(registry: Registry, store_url: str, log: Path, **env_extra: str) -> Server:
    port = free_port()
    keys = [{"id": who, "sha256": hash_key(key), "scopes": scopes} for who, (key, scopes) in KEYS.items()]
    env = {
        **os.environ,
        "MLFLOW_TRACKING_URI": registry.tracking_uri,
        "ROUNDABOUT_HOME": str(registry.home),
        "ROUNDABOUT_STORE_URL": store_url,
        "ROUNDABOUT_API_KEYS": json.dumps(keys),
        "ROUNDABOUT_MAX_BATCH_LINES": "50",
        "ROUNDABOUT_RELOAD_INTERVAL_SECONDS": "3600",
        **env_extra,
    }
    with log.open("wb") as out:
        process = subprocess.Popen(
            [sys.executable, "-m", "roundabout.cli", "serve", "--port", str(port)],
            env=env,
            stdout=out,
            stderr=subprocess.STDOUT,
        )
    server = Server(f"http://127.0.0.1:{port}", store_url, process, log)
    deadline = time.monotonic() + 120
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise AssertionError(f"server exited: {log.read_text()}")
        try:
            if httpx.get(f"{server.url}/readyz", timeout=2).status_code == 200:
                return server
        except httpx.TransportError:
            pass
        time.sleep(0.3)
    process.kill()
    raise AssertionError(f"server not ready in time: {log.read_text()}")


def stop_server(server: Server) -> None:
    server.process.terminate()
    try:
        server.process.wait(timeout=20)
    except subprocess.TimeoutExpired:
        server.process.kill()


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
