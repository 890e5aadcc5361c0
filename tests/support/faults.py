"""Faults the reliability tests inject: a cuttable TCP proxy in front of PostgreSQL, SIGKILLs of a
server under load (`crash_run`), and bad model versions in the registry."""

import contextlib
import math
import os
import random
import signal
import socket
import subprocess
import threading
import time
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import httpx
import sqlalchemy as sa

from tests.support.server import KEYS, Registry, Server, free_port, start_server, world_lines

PG_HOST, PG_PORT = "127.0.0.1", 5432


class TcpProxy:
    """Forwards 127.0.0.1:<port> to PostgreSQL; `cut()` drops every connection and refuses new ones,
    `blackhole()` accepts new connections and never answers, `restore()` forwards again."""

    def __init__(self, target: tuple[str, int] = (PG_HOST, PG_PORT)) -> None:
        self.target = target
        self.port = free_port()
        self.mode = "forward"
        self._lock = threading.Lock()
        self._open: list[socket.socket] = []
        self._listener: socket.socket | None = None
        self._listen()

    @property
    def url_netloc(self) -> str:
        return f"127.0.0.1:{self.port}"

    def _listen(self) -> None:
        listener = socket.socket()
        listener.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        listener.bind(("127.0.0.1", self.port))
        listener.listen(64)
        self._listener = listener
        threading.Thread(target=self._accept, args=(listener,), daemon=True).start()

    def _accept(self, listener: socket.socket) -> None:
        while True:
            try:
                client, _ = listener.accept()
            except OSError:
                return
            with self._lock:
                self._open.append(client)
                if self.mode == "blackhole":
                    continue  # held open, never answered
            try:
                upstream = socket.create_connection(self.target, timeout=5)
            except OSError:
                client.close()
                continue
            with self._lock:
                self._open.append(upstream)
            for a, b in ((client, upstream), (upstream, client)):
                threading.Thread(target=self._pipe, args=(a, b), daemon=True).start()

    @staticmethod
    def _pipe(src: socket.socket, dst: socket.socket) -> None:
        try:
            while data := src.recv(65536):
                dst.sendall(data)
        except OSError:
            pass
        finally:
            for s in (src, dst):
                with contextlib.suppress(OSError):
                    s.shutdown(socket.SHUT_RDWR)

    def _drop_all(self) -> None:
        with self._lock:
            sockets, self._open = self._open, []
        for s in sockets:
            with contextlib.suppress(OSError):
                s.shutdown(socket.SHUT_RDWR)
            s.close()

    def _stop_listening(self) -> None:
        if self._listener is not None:
            with contextlib.suppress(OSError):
                self._listener.shutdown(socket.SHUT_RDWR)  # wakes the thread blocked in accept()
            self._listener.close()
            self._listener = None

    def cut(self) -> None:
        """The database is gone: live connections reset, new ones refused."""
        self.mode = "cut"
        self._stop_listening()
        self._drop_all()

    def blackhole(self) -> None:
        """The database host stops answering: live connections drop, new ones hang after connect."""
        self.cut()
        self.mode = "blackhole"
        self._listen()

    def restore(self) -> None:
        """The database is back."""
        self._stop_listening()
        self._drop_all()
        self.mode = "forward"
        self._listen()

    def close(self) -> None:
        self.cut()


def via_proxy(store_url: str, proxy: TcpProxy) -> str:
    """`store_url` with its host and port replaced by the proxy's."""
    return store_url.replace(f"{PG_HOST}:{PG_PORT}", proxy.url_netloc)


# ---- crash consistency -----------------------------------------------------------------------------------
@dataclass
class CrashReport:
    """Acknowledged writes against what the store holds after the kills."""

    store: str
    lines_acked: int
    outcomes_acked: int
    kills: int
    restarts_s: list[float]
    failed_attempts: int
    lines_missing: int
    lines_duplicated: int
    decisions_missing: int
    outcomes_missing: int
    outcomes_duplicated: int
    seconds: float
    client_errors: list[str] = field(default_factory=list)

    @property
    def held(self) -> bool:
        return not (
            self.client_errors
            or self.lines_missing
            or self.lines_duplicated
            or self.decisions_missing
            or self.outcomes_missing
            or self.outcomes_duplicated
        )


def crash_run(
    registry: Registry,
    store_url: str,
    workdir: Path,
    outcomes: int,
    kills: int,
    clients: int = 4,
    log: Callable[[str], None] = lambda _m: None,
) -> CrashReport:
    """Score `outcomes` lines and post one outcome for each, from `clients` threads, while the server is
    SIGKILLed `kills` times at random moments and restarted; then read the store tables directly.

    A write counts as acknowledged only when the client got a 2xx; a failed attempt is retried (the API
    is idempotent on line id), as a customs system would.
    """
    lines = world_lines(registry, outcomes, seed=7)
    for i, line in enumerate(lines):
        line["line_id"] = f"crash-{i:06d}/{line['line_id']}"[:128]
    server_box: dict[str, Server] = {}
    up = threading.Event()
    stop = threading.Event()
    acked_lines: dict[str, str] = {}  # line id -> request id of the acknowledged score
    acked_outcomes: set[str] = set()
    failed = Counter[str]()
    lock = threading.Lock()

    def start() -> None:
        server_box["s"] = start_server(registry, store_url, workdir / f"server-{len(restarts)}.log")
        up.set()

    def call(client: httpx.Client, path: str, body: dict[str, Any]) -> httpx.Response:
        while True:
            up.wait()
            try:
                response = client.post(server_box["s"].url + path, json=body)
            except httpx.TransportError:
                with lock:
                    failed["transport"] += 1
                time.sleep(0.05)
                continue
            if response.status_code < 300:
                return response
            with lock:
                failed[str(response.status_code)] += 1
            assert response.status_code == 503, response.text  # only "retry later" is acceptable
            time.sleep(0.05)

    client_errors: list[str] = []

    def worker(part: list[dict[str, Any]]) -> None:
        try:
            send_all(part)
        except Exception as exc:  # an answer other than 2xx or 503: the run is broken, say so
            client_errors.append(f"{type(exc).__name__}: {exc}")

    def send_all(part: list[dict[str, Any]]) -> None:
        headers = {"X-API-Key": KEYS["admin"][0]}
        with httpx.Client(headers=headers, timeout=30) as client:
            for line in part:
                answer = call(client, "/v1/score", {"lines": [line], "explain": False})
                with lock:
                    acked_lines[line["line_id"]] = answer.json()["request_id"]
                outcome = {"line_id": line["line_id"], "inspected_on": line["date"], "outcome": "clean"}
                call(client, "/v1/feedback", {"outcomes": [outcome]})
                with lock:
                    acked_outcomes.add(line["line_id"])

    restarts: list[float] = []
    began = time.monotonic()
    start()
    threads = [threading.Thread(target=worker, args=(lines[i::clients],)) for i in range(clients)]
    for t in threads:
        t.start()
    rng = random.Random(3)
    done_kills = 0
    try:
        while done_kills < kills and any(t.is_alive() for t in threads):
            # spread the kills over the run: wait until the next share of outcomes is acknowledged
            target = len(lines) * (done_kills + 1) / (kills + 1) + rng.randint(-20, 20)
            while len(acked_outcomes) < target and any(t.is_alive() for t in threads):
                time.sleep(0.01)
            if not any(t.is_alive() for t in threads):
                break
            up.clear()
            os.kill(server_box["s"].process.pid, signal.SIGKILL)
            server_box["s"].process.wait()
            done_kills += 1
            t0 = time.monotonic()
            start()
            restarts.append(time.monotonic() - t0)
            log(f"kill {done_kills}: {len(acked_outcomes)} outcomes acked, restart {restarts[-1]:.1f} s")
        for t in threads:
            t.join()
    finally:
        stop.set()
        server = server_box["s"]
        server.process.terminate()
        with contextlib.suppress(subprocess.TimeoutExpired):
            server.process.wait(timeout=20)
    seconds = time.monotonic() - began

    engine = sa.create_engine(store_url)
    with engine.connect() as conn:
        stored_lines = Counter(r[0] for r in conn.execute(sa.text("SELECT line_id FROM feat_lines")))
        stored_outcomes = Counter(r[0] for r in conn.execute(sa.text("SELECT line_id FROM feat_outcomes")))
        decisions = Counter(
            (r[0], r[1]) for r in conn.execute(sa.text("SELECT line_id, request_id FROM decisions"))
        )
    engine.dispose()
    return CrashReport(
        store=store_url.split(":", 1)[0],
        lines_acked=len(acked_lines),
        outcomes_acked=len(acked_outcomes),
        kills=done_kills,
        restarts_s=restarts,
        failed_attempts=sum(failed.values()),
        lines_missing=sum(1 for lid in acked_lines if stored_lines[lid] == 0),
        lines_duplicated=sum(1 for lid in acked_lines if stored_lines[lid] > 1),
        decisions_missing=sum(1 for lid, rid in acked_lines.items() if decisions[(lid, rid)] != 1),
        outcomes_missing=sum(1 for lid in acked_outcomes if stored_outcomes[lid] == 0),
        outcomes_duplicated=sum(1 for lid in acked_outcomes if stored_outcomes[lid] > 1),
        seconds=seconds,
        client_errors=client_errors,
    )


# ---- bad model versions ----------------------------------------------------------------------------------
BAD_KINDS = ("corrupt", "features", "nan")


def register_bad_version(tracking_uri: str, kind: str, workdir: Path) -> str:
    """Register a broken copy of version 1 and return its version number.

    `corrupt`: the LightGBM and other text files overwritten; `features`: a base feature renamed to one
    the features code does not compute (classifier inputs stay consistent, so it loads); `nan`: fusion
    weights set to NaN, so every risk score is NaN.
    """
    import json

    import mlflow
    from mlflow import MlflowClient

    from roundabout.models.persistence import MODEL_FILE

    mlflow.set_tracking_uri(tracking_uri)
    client = MlflowClient(tracking_uri)
    v1 = client.get_model_version("roundabout", "1")
    folder = workdir / f"bad-{kind}"
    mlflow.artifacts.download_artifacts(artifact_uri="models:/roundabout/1", dst_path=str(folder))
    model_json = next(folder.rglob(MODEL_FILE))
    if kind == "corrupt":
        for data_file in folder.rglob("*.txt"):
            data_file.write_text("corrupt")
    else:
        body = json.loads(model_json.read_text())
        if kind == "features":
            old = body["base_features"][0]
            body["base_features"][0] = "no_such_feature"
            body["feature_names"] = ["no_such_feature" if f == old else f for f in body["feature_names"]]
            if body.get("classifier_base") is not None:
                body["classifier_base"] = [
                    "no_such_feature" if f == old else f for f in body["classifier_base"]
                ]
        elif kind == "nan":
            body["fusion"] = {k: (math.nan if isinstance(v, float) else v) for k, v in body["fusion"].items()}
        else:
            raise ValueError(kind)
        model_json.write_text(json.dumps(body))
    model_dir = next(p.parent for p in folder.rglob("MLmodel"))
    return str(client.create_model_version("roundabout", str(model_dir), run_id=v1.run_id).version)
