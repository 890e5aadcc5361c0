"""PostgreSQL goes away while the service runs: 503 with a reason within the store timeout, never 500,
never a hang; when it comes back the same process recovers.

The shared PostgreSQL server is not stopped (other tests use it): the service reaches it through a TCP
proxy in this process that is cut (connections reset, new ones refused) or turned into a black hole
(connections accepted, never answered).
"""

import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from roundabout.serving.schemas import EXAMPLE_LINE
from tests.support.faults import TcpProxy, via_proxy
from tests.support.server import Registry, Server, start_server, stop_server

pytestmark = [pytest.mark.postgres, pytest.mark.slow]
TIMEOUT = 2.0  # ROUNDABOUT_STORE_TIMEOUT_SECONDS for this server
MARGIN = 2.5  # scheduling slack on a loaded 2-core machine


@pytest.fixture
def proxied(registry: Registry, postgres_url: str, tmp_path: Path) -> Iterator[tuple[Server, TcpProxy]]:
    proxy = TcpProxy()
    server = start_server(
        registry,
        via_proxy(postgres_url, proxy),
        tmp_path / "server.log",
        ROUNDABOUT_STORE_TIMEOUT_SECONDS=str(TIMEOUT),
    )
    try:
        yield server, proxy
    finally:
        stop_server(server)
        proxy.close()


def calls(n: int) -> list[tuple[str, str, dict | None]]:
    line = {**EXAMPLE_LINE, "line_id": f"outage-{n}"}
    outcome = {"line_id": "outage-0", "inspected_on": "2024-03-15", "outcome": "clean"}
    return [
        ("POST", "/v1/score", {"lines": [line]}),
        ("POST", "/v1/feedback", {"outcomes": [outcome]}),
        ("GET", "/v1/decisions/outage-0", None),
    ]


def test_store_outage_gives_timely_503_then_recovers(proxied: tuple[Server, TcpProxy]) -> None:
    server, proxy = proxied
    pid = server.process.pid
    with server.client("admin") as client:
        for method, path, body in calls(0):
            assert client.request(method, path, json=body).status_code == 200

        for n, (cut, how) in enumerate([(proxy.cut, "refused"), (proxy.blackhole, "silent")], start=1):
            cut()
            for method, path, body in calls(n):
                began = time.monotonic()
                answer = client.request(method, path, json=body)
                took = time.monotonic() - began
                assert answer.status_code == 503, (how, path, answer.status_code, answer.text)
                assert "store" in answer.json()["detail"] and answer.headers["retry-after"]
                assert took < TIMEOUT + MARGIN, (how, path, took)
            ready = client.get("/readyz")
            assert ready.status_code == 503 and "store unreachable" in ready.json()["reasons"][0]
            assert client.get("/healthz").status_code == 200  # alive, just not ready

            proxy.restore()
            deadline = time.monotonic() + 15
            while client.get("/readyz").status_code != 200:
                assert time.monotonic() < deadline, "no recovery within 15 s"
                time.sleep(0.2)
            for method, path, body in calls(n):
                assert client.request(method, path, json=body).status_code == 200, (how, path)

        metrics = client.get("/metrics").text
    assert server.process.pid == pid and server.process.poll() is None  # no restart
    assert 'status="500"' not in metrics and "roundabout_store_errors_total" in metrics
    assert "Traceback" not in server.log.read_text()
