"""A running server (its own process) screens against a list loaded with `roundabout lists load` while it
runs, then against the next version, without a restart; its metrics count the pickups."""

import os
import subprocess
import sys
import time
from pathlib import Path

import pytest

from tests.support.server import WORLD_LIST, Registry, Server, start_server, stop_server

pytestmark = pytest.mark.slow
FIXTURE = Path(__file__).resolve().parents[1] / "parties" / "fixtures" / "targets.simple.csv"


def _load(registry: Registry, store_url: str, path: Path) -> None:
    env = {**os.environ, "ROUNDABOUT_HOME": str(registry.home), "ROUNDABOUT_STORE_URL": store_url}
    command = [sys.executable, "-m", "roundabout.cli", "lists", "load", "--format", "opensanctions"]
    command += ["--path", str(path), "--name", "watchlist"]
    done = subprocess.run(command, env=env, capture_output=True, text=True, timeout=300)
    assert done.returncode == 0, done.stdout + done.stderr


def _screened_version(server: Server) -> int | None:
    with server.client("scorer") as client:
        answer = client.post("/v1/screen", json={"names": [{"name": "Tekhnosfera Ural OOO"}]})
    if answer.status_code == 503:
        return None
    assert answer.status_code == 200, answer.text
    return answer.json()["lists"][0]["version"]


def _wait_for(server: Server, version: int) -> None:
    deadline = time.monotonic() + 60
    while _screened_version(server) != version:
        assert time.monotonic() < deadline, f"list version {version} not picked up"
        time.sleep(0.2)


def test_lists_loaded_while_the_server_runs_are_picked_up(registry: Registry, tmp_path: Path) -> None:
    store_url = f"sqlite:///{tmp_path / 'store.db'}"
    server = start_server(
        registry, store_url, tmp_path / "server.log", ROUNDABOUT_LISTS_RELOAD_INTERVAL_SECONDS="0.3"
    )
    try:
        assert _screened_version(server) is None  # 503: no list yet
        _load(registry, store_url, registry.data_dir / WORLD_LIST)
        _wait_for(server, 1)
        _load(registry, store_url, FIXTURE)  # another content under the same name: version 2
        _wait_for(server, 2)
        with server.client("scorer") as client:
            found = client.post(
                "/v1/screen", json={"names": [{"name": "Tekhnosfera Ural OOO", "country": "RU"}]}
            )
            assert found.json()["results"][0]["matches"][0]["entry_id"] == "NK-Fx7TekhnosferaUral01"
            metrics = client.get("/metrics").text
        assert 'roundabout_list_reloads_total{result="swapped"} 2.0' in metrics
    finally:
        stop_server(server)
