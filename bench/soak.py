"""Load and soak on loopback: measure the maximum single-line throughput, then hold 80% of it.

    python bench/soak.py --minutes 10 [--fraction 0.8] [--store sqlite|postgres]

Starts `roundabout serve` (one worker) on a fresh store. Measures the closed-loop maximum of single-line
`POST /v1/score` calls (4 client threads, distinct lines, reasons on) over `--probe-seconds`, then runs an
open loop at `--fraction` of it for `--minutes`, each call due at its own slot. Reports errors, latency
quantiles (client-side, and the share within 25 ms on the server's own histogram), and the server's
resident memory, open file descriptors and inet connections sampled every 10 s; growth is measured from
the end of the first minute (warm-up).
"""

import argparse
import time
from pathlib import Path

from reliability_common import DEFAULT_WORKDIR, registry

from tests.conftest import fresh_postgres_database
from tests.reliability.harness import max_throughput, paced_load, score_latency_counts, single_lines
from tests.serving.conftest import start_server, stop_server


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
        bodies = single_lines(reg, "soak-")
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
