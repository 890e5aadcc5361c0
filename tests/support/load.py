"""Load drivers of the soak test and `bench/soak.py`: real lines at a paced rate, the service's own latency
histogram, the top throughput."""

import math
import threading
import time
from collections import Counter
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

import httpx

from tests.support.server import KEYS, Registry, Sample, sample, world_lines


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
