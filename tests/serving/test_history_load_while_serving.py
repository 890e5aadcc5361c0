"""History loaded into the store of a running server (`roundabout backfill`, its own process): every
scoring call made meanwhile is answered 200, and the store ends with the whole history, the lines scored,
and a trail that verifies."""

import os
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest
import sqlalchemy as sa

from tests.support.postgres import fresh_postgres_database
from tests.support.server import Registry, start_server, stop_server, world_lines

pytestmark = pytest.mark.slow


@pytest.fixture(params=["sqlite", pytest.param("postgres", marks=pytest.mark.postgres)])
def store_url(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[str]:
    if request.param == "sqlite":
        yield f"sqlite:///{tmp_path / 'store.db'}"
    else:
        yield from fresh_postgres_database()


def _count(url: str, sql: str) -> int:
    engine = sa.create_engine(url)
    try:
        with engine.connect() as conn:
            return int(conn.exec_driver_sql(sql).scalar_one())
    finally:
        engine.dispose()


def test_the_server_answers_every_call_while_history_loads(
    registry: Registry, store_url: str, tmp_path: Path
) -> None:
    server = start_server(registry, store_url, tmp_path / "server.log")
    env = {**os.environ, "ROUNDABOUT_HOME": str(registry.home), "ROUNDABOUT_STORE_URL": store_url}
    command = [sys.executable, "-m", "roundabout.cli", "backfill", "--data", str(registry.data_dir)]
    bodies = world_lines(registry, n=400, seed=4)
    statuses: list[int] = []
    during = 0
    try:
        loading = subprocess.Popen(
            [*command, "--partition-lines", "2000"], env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT
        )
        with server.client("scorer") as client:
            for i, body in enumerate(bodies):
                body = {**body, "line_id": f"live-{i}"}
                answer = client.post("/v1/score", json={"lines": [body]})
                statuses.append(answer.status_code)
                assert answer.status_code == 200, answer.text
                if loading.poll() is None:
                    during += 1
                elif i > 20:
                    break
        output = loading.communicate(timeout=600)[0].decode()
        assert loading.returncode == 0, output
    finally:
        stop_server(server)
    assert during >= 10, "no call was made while the history loaded"
    history = len(world_lines(registry))
    assert _count(store_url, "SELECT count(*) FROM feat_lines") == history + len(statuses)
    assert _count(store_url, "SELECT count(*) FROM decisions") == len(statuses)
    verified = subprocess.run(
        [sys.executable, "-m", "roundabout.cli", "audit", "verify"],
        env=env,
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert verified.returncode == 0, verified.stdout + verified.stderr
