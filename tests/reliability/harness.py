"""What the reliability tests and the long runs in `bench/` share: a registry, real lines, process
watching, the OpenAPI fuzzer, a cuttable TCP proxy, the crash-and-restart driver and the paced load driver.

Everything drives a real `roundabout serve` process over loopback (started by `tests.serving.conftest`),
so the figures are those of the service as deployed, not of an in-process test client.
"""

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
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import httpx
import psutil
import sqlalchemy as sa

from tests.serving.conftest import KEYS, Registry, Server, build_registry, free_port, start_server

PG_HOST, PG_PORT = "127.0.0.1", 5432


def registry_at(root: Path) -> Registry:
    """The registry under `root`, trained there first if it is not there yet (bench scripts reuse it)."""
    registry = Registry(f"sqlite:///{root / 'mlflow.db'}", root / "data", root / "home")
    if (root / "mlflow.db").exists() and (root / "data").exists():
        return registry
    root.mkdir(parents=True, exist_ok=True)
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


# ---- fuzzing from the OpenAPI ----------------------------------------------------------------------------
@dataclass
class OperationReport:
    """What the fuzzer sent to one operation and what came back."""

    label: str
    requests: int = 0
    statuses: Counter[int] = field(default_factory=Counter)
    server_errors: int = 0
    failures: list[str] = field(default_factory=list)


def fuzz(
    url: str, examples: int, headers: dict[str, str] | None = None, seed: int = 0
) -> list[OperationReport]:
    """Schemathesis over every operation of the server's own `/openapi.json`.

    Half the examples are schema-valid (positive), half schema-invalid (negative). Each answer is checked:
    no 5xx, a documented status code, a documented content type, a body and headers that match the
    documented schema. Failures are recorded, not raised, so the counts are complete.
    """
    import schemathesis
    from schemathesis.checks import not_a_server_error
    from schemathesis.specs.openapi import checks as oc

    checks = [
        not_a_server_error,
        oc.status_code_conformance,
        oc.content_type_conformance,
        oc.response_schema_conformance,
        oc.response_headers_conformance,
    ]
    schema = schemathesis.openapi.from_url(f"{url}/openapi.json")
    reports = []
    with httpx.Client(timeout=60) as _probe:  # fail fast if the server is not up
        _probe.get(f"{url}/healthz").raise_for_status()
    for result in schema.get_all_operations():
        operation = result.ok()
        report = OperationReport(operation.label)
        seen: list[Any] = []
        for mode in (schemathesis.GenerationMode.POSITIVE, schemathesis.GenerationMode.NEGATIVE):
            count = examples // 2 + (examples % 2 if mode is schemathesis.GenerationMode.POSITIVE else 0)
            random.seed(seed)
            strategy = operation.as_strategy(generation_mode=mode)
            _generated(strategy, count, _sender(url, headers or {}, checks, report), seen)
        # An operation whose input space ran out (no parameters) is topped up with the cases seen, each
        # under a random key variant: none, garbage, or one of the real keys.
        rng = random.Random(seed)
        variants = [{}, {"X-API-Key": "not-a-key"}, *({"X-API-Key": k} for k, _s in KEYS.values())]
        send = _sender(url, headers or {}, checks, report)
        while seen and report.requests < examples:
            send(rng.choice(seen), rng.choice(variants))
        reports.append(report)
    return reports


def _sender(
    url: str, headers: dict[str, str], checks: list[Any], report: OperationReport
) -> Callable[[Any, dict[str, str] | None], None]:
    """A function that sends one case and records the answer and the checks' verdict in `report`."""

    def send(case: Any, override: dict[str, str] | None = None) -> None:
        sent = {**headers, **(override or {})}
        response = case.call(base_url=url, headers=sent, timeout=60)
        report.requests += 1
        report.statuses[response.status_code] += 1
        report.server_errors += response.status_code >= 500
        try:
            case.validate_response(response, checks=checks, headers=sent)
        except (Exception, BaseExceptionGroup) as exc:  # a check failed: keep the first few
            if len(report.failures) < 5:
                report.failures.append(f"{case.method} {case.formatted_path}: {str(exc)[:600]}")

    return send


def _generated(strategy: Any, count: int, send: Callable[[Any], None], seen: list[Any]) -> None:
    """Send up to `count` cases Hypothesis draws from `strategy` (fewer if the input space runs out)."""
    from hypothesis import HealthCheck, Phase, Verbosity, given, settings
    from hypothesis.errors import Unsatisfiable

    @settings(
        max_examples=count,
        deadline=None,
        database=None,
        phases=[Phase.explicit, Phase.generate],
        suppress_health_check=list(HealthCheck),
        verbosity=Verbosity.quiet,
    )
    @given(case=strategy)
    def run(case: Any) -> None:
        if len(seen) < 64:
            seen.append(case)
        send(case)

    with contextlib.suppress(Unsatisfiable):  # no schema-invalid input exists for this operation
        run()


# ---- a TCP proxy whose link to PostgreSQL can be cut -----------------------------------------------------
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


# ---- paced load ------------------------------------------------------------------------------------------
@dataclass
class LoadReport:
    """Latencies and failures of a paced single-line run, with the server watched along the way."""

    rate: float
    seconds: float
    sent: int
    errors: Counter[str]
    latencies_ms: list[float]
    samples: list[Sample]

    def quantile(self, q: float) -> float:
        ordered = sorted(self.latencies_ms)
        return ordered[min(len(ordered) - 1, int(q * len(ordered)))] if ordered else math.nan


def single_lines(registry: Registry, tag: str) -> Iterator[dict[str, Any]]:
    """Endless distinct single-line bodies: the world's lines, renamed on every pass."""
    lines = world_lines(registry)
    for lap in range(10**9):
        for line in lines:
            yield {"lines": [{**line, "line_id": f"{tag}{lap}-{line['line_id']}"[:128]}], "explain": True}


def max_throughput(url: str, bodies: Iterator[dict[str, Any]], seconds: float, clients: int = 4) -> float:
    """Closed loop: `clients` threads send back to back; answers per second."""
    stop = time.monotonic() + seconds
    counts = [0] * clients
    lock = threading.Lock()

    def run(i: int) -> None:
        with httpx.Client(base_url=url, headers={"X-API-Key": KEYS["scorer"][0]}, timeout=30) as c:
            while time.monotonic() < stop:
                with lock:
                    body = next(bodies)
                if c.post("/v1/score", json=body).status_code == 200:
                    counts[i] += 1

    threads = [threading.Thread(target=run, args=(i,)) for i in range(clients)]
    began = time.monotonic()
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    return sum(counts) / (time.monotonic() - began)


def paced_load(
    url: str,
    pid: int,
    bodies: Iterator[dict[str, Any]],
    rate: float,
    seconds: float,
    sample_every: float = 5.0,
    clients: int = 4,
) -> LoadReport:
    """Open loop at a constant `rate` of single-line calls for `seconds` (each call is due at its slot,
    whatever happened to the ones before, so a slow server shows as latency, not as a lower rate)."""
    latencies: list[float] = []
    errors = Counter[str]()
    samples = [sample(pid)]
    lock = threading.Lock()
    total = int(rate * seconds)
    next_slot = iter(range(total))

    clock = [0.0]  # the start, set by the barrier before any client is released
    ready = threading.Barrier(clients + 1, action=lambda: clock.__setitem__(0, time.monotonic()))

    def run() -> None:
        with httpx.Client(base_url=url, headers={"X-API-Key": KEYS["scorer"][0]}, timeout=30) as c:
            c.get("/healthz")  # open the keep-alive connection before the clock starts
            ready.wait()
            while True:
                with lock:
                    slot = next(next_slot, None)
                    body = next(bodies)
                if slot is None:
                    return
                due = clock[0] + slot / rate
                if (wait := due - time.monotonic()) > 0:
                    time.sleep(wait)
                t0 = time.perf_counter()
                try:
                    response = c.post("/v1/score", json=body)
                    ok = response.status_code == 200
                    why = str(response.status_code)
                except httpx.TransportError as exc:
                    ok, why = False, type(exc).__name__
                elapsed = (time.perf_counter() - t0) * 1000
                with lock:
                    latencies.append(elapsed)
                    if not ok:
                        errors[why] += 1

    threads = [threading.Thread(target=run, daemon=True) for _ in range(clients)]
    for t in threads:
        t.start()
    ready.wait()
    while any(t.is_alive() for t in threads):
        time.sleep(min(sample_every, 0.5))
        if time.monotonic() - samples[-1].at >= sample_every:
            samples.append(sample(pid))
    samples.append(sample(pid))
    return LoadReport(rate, time.monotonic() - clock[0], total, errors, latencies, samples)


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

    from roundabout.models.risk_model import MODEL_FILE

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
        elif kind == "nan":
            body["fusion"] = {k: (math.nan if isinstance(v, float) else v) for k, v in body["fusion"].items()}
        else:
            raise ValueError(kind)
        model_json.write_text(json.dumps(body))
    model_dir = next(p.parent for p in folder.rglob("MLmodel"))
    return str(client.create_model_version("roundabout", str(model_dir), run_id=v1.run_id).version)


def score_latency_counts(url: str, le: str = "0.025") -> tuple[float, float]:
    """From the server's own histogram: (/v1/score answers within `le` seconds, all /v1/score answers).

    Server-side time excludes the load generator, which shares the two cores and whose threads wait on
    the GIL; the difference between two readings covers the calls in between.
    """
    within = total = 0.0
    for row in httpx.get(f"{url}/metrics", timeout=30).text.splitlines():
        if row.startswith("roundabout_request_seconds_bucket") and 'endpoint="/v1/score"' in row:
            if f'le="{le}"' in row:
                within = float(row.rsplit(" ", 1)[1])
        elif row.startswith("roundabout_request_seconds_count") and 'endpoint="/v1/score"' in row:
            total = float(row.rsplit(" ", 1)[1])
    return within, total
