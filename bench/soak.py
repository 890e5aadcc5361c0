"""Load and soak on loopback: measure the maximum single-line throughput, then hold 80% of it.

    python bench/soak.py --minutes 10 [--fraction 0.8] [--store sqlite|postgres]

Starts `roundabout serve` (one worker) on a fresh store. Measures the closed-loop maximum of single-line
`POST /v1/score` calls (4 client connections, distinct lines, reasons on) over `--probe-seconds`, then runs
an open loop at `--fraction` of it for `--minutes`, each call due at its own slot. Reports errors, latency
quantiles (client-side, and the share within 25 ms on the server's own histogram), and the server's
resident memory, open file descriptors and inet connections sampled every 10 s; growth is measured from
the end of the first minute (warm-up). The load client is bench/loadgen.py in its own process: it shares
the two cores with the server, and costs a fraction of the CPU per call the httpx threads did.
"""

import argparse
import json
import time
from collections import Counter
from pathlib import Path

import loadgen
from reliability_common import DEFAULT_WORKDIR, registry

from tests.support.load import LoadReport, score_latency_counts
from tests.support.postgres import fresh_postgres_database
from tests.support.server import KEYS, Registry, sample, start_server, stop_server, world_lines

LAP = "~lap~"  # replaced by the load client with the pass number over the world's lines


class SingleLines:
    """The endless distinct single-line bodies of `tests.support.load.single_lines`, for the load
    client: the world's lines with id `{tag}{pass}-{id}`, continued from run to run (`taken`)."""

    def __init__(self, registry: Registry, tag: str) -> None:
        self.templates = []
        for line in world_lines(registry):
            line_id = f"{tag}{LAP}-{line['line_id']}"
            assert len(line_id) - len(LAP) + 6 <= 128, line_id  # the API's limit, up to pass 999,999
            body = json.dumps({"lines": [{**line, "line_id": line_id}], "explain": True})
            assert body.count(LAP) == 1, body
            self.templates.append(body)
        self.taken = 0

    def spec(self, url: str, seconds: float, clients: int, rate: float | None = None) -> dict:
        return {
            "url": f"{url}/v1/score",
            "headers": {"X-API-Key": KEYS["scorer"][0]},
            "bodies": self.templates,
            "lap_marker": LAP,
            "start": self.taken,
            "clients": clients,
            "seconds": seconds,
            "rate": rate,
        }


def max_throughput(url: str, bodies: SingleLines, seconds: float, clients: int = 4) -> float:
    """Closed loop: `clients` connections send back to back; successful answers per second."""
    result = loadgen.run_in_process(bodies.spec(url, seconds, clients))
    bodies.taken += result["sent"]
    return result["ok"] / result["elapsed"]


def paced_load(
    url: str,
    pid: int,
    bodies: SingleLines,
    rate: float,
    seconds: float,
    sample_every: float = 5.0,
    clients: int = 4,
) -> LoadReport:
    """Open loop at a constant `rate` of single-line calls for `seconds` (each call is due at its slot,
    whatever happened to the ones before, so a slow server shows as latency, not as a lower rate), at
    most `clients` in flight; the server process is sampled every `sample_every` s meanwhile."""
    samples = [sample(pid)]
    load = loadgen.Load(bodies.spec(url, seconds, clients, rate))
    while load.running():
        time.sleep(min(sample_every, 0.5))
        if time.monotonic() - samples[-1].at >= sample_every:
            samples.append(sample(pid))
    samples.append(sample(pid))
    result = load.result()
    bodies.taken += result["sent"]
    errors = Counter[str](result["error_kinds"])  # status code (non-2xx) or exception name -> count
    for s in result["error_samples"]:
        print(f"  error: {s}")
    latencies_ms = [t * 1000 for t in result["latencies"]]
    return LoadReport(rate, result["elapsed"], result["sent"], errors, latencies_ms, samples)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--minutes", type=float, default=10)
    parser.add_argument("--fraction", type=float, default=0.8)
    parser.add_argument("--probe-seconds", type=float, default=30)
    parser.add_argument("--store", choices=["sqlite", "postgres"], default="sqlite")
    parser.add_argument("--workdir", type=Path, default=DEFAULT_WORKDIR)
    args = parser.parse_args()
    reg = registry(args.workdir)
    run_dir = args.workdir / f"soak-{int(time.time())}"
    run_dir.mkdir(parents=True)
    pg = fresh_postgres_database() if args.store == "postgres" else None
    url = next(pg) if pg else f"sqlite:///{run_dir / 'store.db'}"
    server = start_server(reg, url, run_dir / "server.log")
    try:
        bodies = SingleLines(reg, "soak-")
        peak = max_throughput(server.url, bodies, args.probe_seconds)
        rate = args.fraction * peak
        print(f"maximum single-line throughput {peak:.1f}/s; soak at {rate:.1f}/s for {args.minutes} min")
        warm = paced_load(server.url, server.process.pid, bodies, rate, 60, sample_every=10)
        within0, total0 = score_latency_counts(server.url)
        report = paced_load(server.url, server.process.pid, bodies, rate, args.minutes * 60 - 60, 10)
        within1, total1 = score_latency_counts(server.url)
        errors = sum(report.errors.values()) + sum(warm.errors.values())
        share = (within1 - within0) / max(1.0, total1 - total0)
        first, last = report.samples[0], report.samples[-1]
        rss_peak = max(s.rss_mb for s in report.samples)
        growth = (last.rss_mb - first.rss_mb) / first.rss_mb
        print(
            f"calls {report.sent + warm.sent} ({warm.sent} in the warm-up minute), errors {errors} "
            f"{dict(report.errors + warm.errors)}"
        )
        print(
            "client latency ms (after warm-up): "
            + ", ".join(f"p{int(q * 100)} {report.quantile(q):.1f}" for q in (0.5, 0.9, 0.99))
            + f", max {max(report.latencies_ms):.1f}"
        )
        print(f"server-side: {share:.2%} of calls within 25 ms")
        print(
            f"RSS after warm-up {first.rss_mb:.0f} MB, end {last.rss_mb:.0f} MB, peak {rss_peak:.0f} MB "
            f"(growth {growth:+.1%}); fds {first.fds} -> {last.fds}; connections {first.connections} -> "
            f"{last.connections}"
        )
        for s in report.samples[:: max(1, len(report.samples) // 12)]:
            print(
                f"  t={s.at - report.samples[0].at:5.0f} s rss {s.rss_mb:6.1f} MB "
                f"fds {s.fds} conns {s.connections}"
            )
        held = (
            errors == 0
            and growth < 0.10
            and last.fds <= first.fds + 2
            and last.connections <= first.connections + 2
        )
        print(
            f"RESULT: errors/memory/fds/connections {'held' if held else 'BROKEN'}; "
            f"p99 within 25 ms: {'held' if share >= 0.99 else 'NOT held'}"
        )
        return 0 if held else 1
    finally:
        stop_server(server)
        if pg:
            next(pg, None)


if __name__ == "__main__":
    raise SystemExit(main())
