"""A real registry made by training a small world, and a real server (`roundabout serve` in its own
process), with the keys the tests call it with. Shared by the serving and reliability tests and the long
runs in `bench/`."""

import json
import math
import os
import shutil
import socket
import subprocess
import sys
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx
import psutil

from roundabout.serving.keys import hash_key

KEYS = {
    "scorer": ("k-scorer-0123456789abcdefghijklmnopqrstuvwxyz", ["score"]),
    "inspector": ("k-inspector-0123456789abcdefghijklmnopqrstuvw", ["feedback"]),
    "admin": ("k-admin-0123456789abcdefghijklmnopqrstuvwxyz01", ["score", "feedback", "admin"]),
    "analyst": ("k-analyst-0123456789abcdefghijklmnopqrstuvwx", ["analyst"]),
}


@dataclass
class Registry:
    """An MLflow tracking store holding a trained `roundabout` model with a champion."""

    tracking_uri: str
    data_dir: Path
    home: Path


#: Where the registry's data folder holds the simulated world's sanctions list.
WORLD_LIST = "sanctions/targets.simple.csv"


def build_registry(root: Path) -> Registry:
    """Simulate 20,000 lines into `root/data`, load the world's sanctions list into the registry home's
    store, and train them into a fresh registry under `root` (the model reads the party features)."""
    from roundabout.data.io import write_folder
    from roundabout.simulation import SimulationConfig
    from roundabout.simulation.parties.publish import write_targets
    from roundabout.simulation.world import simulate_world

    data_dir = root / "data"
    world = simulate_world(SimulationConfig(n_lines=20_000, seed=11))
    write_folder(world.data, data_dir)
    write_targets(world.sanctions, data_dir / WORLD_LIST)
    tracking_uri = f"sqlite:///{root / 'mlflow.db'}"
    env = {**os.environ, "MLFLOW_TRACKING_URI": tracking_uri, "ROUNDABOUT_HOME": str(root / "home")}
    load = [sys.executable, "-m", "roundabout.cli", "lists", "load", "--format", "opensanctions"]
    loaded = subprocess.run(
        [*load, "--path", str(data_dir / WORLD_LIST), "--name", "simulated"],
        env=env,
        cwd=root,
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert loaded.returncode == 0, loaded.stdout + loaded.stderr
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


def load_world_list(registry: Registry, store_url: str) -> int:
    """Store the registry world's sanctions list in the store at `store_url` (as `simulated`); its version."""
    from roundabout.parties.formats import read_list
    from roundabout.store import ServiceStore

    store = ServiceStore.open(store_url)
    try:
        store.migrate()
        parsed = read_list("opensanctions", registry.data_dir / WORLD_LIST)
        return store.sanction_lists.save("simulated", "opensanctions", parsed, "world")[0]
    finally:
        store.dispose()


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


def registry_at(root: Path) -> Registry:
    """The registry under `root`, trained there first if it is not there yet (bench scripts reuse it)."""
    registry = Registry(f"sqlite:///{root / 'mlflow.db'}", root / "data", root / "home")
    if (root / "mlflow.db").exists() and (root / "data" / WORLD_LIST).exists():
        return registry
    shutil.rmtree(root, ignore_errors=True)  # none yet, or one made before the world published its list
    root.mkdir(parents=True)
    return build_registry(root)


def world_lines(registry: Registry, n: int | None = None, seed: int = 0) -> list[dict[str, Any]]:
    """Lines of the simulated world as JSON bodies of the API (ISO dates, null for missing)."""
    from roundabout.data.io import read_folder

    lines = read_folder(registry.data_dir).lines
    if n is not None:
        lines = lines.sample(n=min(n, len(lines)), random_state=seed)
    lines = lines.assign(date=lines["date"].dt.strftime("%Y-%m-%d")).astype(object)
    return [{k: (None if isinstance(v, float) and math.isnan(v) else v) for k, v in row.items()}
            for row in lines.to_dict("records")]  # fmt: skip


# ---- process watching ------------------------------------------------------------------------------------
@dataclass
class Sample:
    """One look at the server process."""

    at: float
    rss_mb: float
    fds: int
    connections: int


def sample(pid: int) -> Sample:
    """Resident memory, open file descriptors and open inet connections of `pid`."""
    proc = psutil.Process(pid)
    return Sample(
        time.monotonic(),
        proc.memory_info().rss / 2**20,
        proc.num_fds(),
        len(proc.net_connections(kind="inet")),
    )


def secrets_in(text: str) -> list[str]:
    """Which configured API keys appear in `text` (must be none, anywhere)."""
    return [who for who, (key, _scopes) in KEYS.items() if key in text]
