"""Fuzz every endpoint of a running service from its own OpenAPI (Schemathesis), with and without keys.

    python bench/fuzz_api.py --examples 1000 [--workdir /tmp/roundabout-reliability]

Starts `roundabout serve` on a fresh SQLite store, then for each key setting (none, an admin key, a
score-only key) sends at least `--examples` generated requests to every operation: half schema-valid, half
schema-invalid; operations without inputs are repeated under random key variants. Every answer is checked
for no 5xx and for conformance to the documented status codes, content types, headers and body schemas.
Prints a table per operation and exits non-zero on any failure.
"""

import argparse
import time
from collections import Counter
from pathlib import Path

from reliability_common import DEFAULT_WORKDIR, registry

from tests.support.fuzzing import fuzz
from tests.support.server import KEYS, load_world_list, sample, secrets_in, start_server, stop_server


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--examples", type=int, default=1000, help="requests per operation and key setting")
    parser.add_argument("--workdir", type=Path, default=DEFAULT_WORKDIR)
    parser.add_argument("--seed", type=int, default=0)
    args = parser.parse_args()
    reg = registry(args.workdir)
    run_dir = args.workdir / f"fuzz-{int(time.time())}"
    run_dir.mkdir(parents=True)
    store_url = f"sqlite:///{run_dir / 'store.db'}"
    load_world_list(reg, store_url)  # POST /v1/screen answers from the start
    server = start_server(reg, store_url, run_dir / "server.log")
    failures = 0
    try:
        rss0 = sample(server.process.pid).rss_mb
        print(f"{'keys':8} {'operation':32} {'requests':>8} {'5xx':>4} {'fail':>4}  statuses")
        began = time.monotonic()
        totals: Counter[int] = Counter()
        for who in (None, "admin", "scorer"):
            headers = {"X-API-Key": KEYS[who][0]} if who else None
            for r in fuzz(server.url, args.examples, headers, seed=args.seed):
                totals.update(r.statuses)
                failures += r.server_errors + len(r.failures) + (r.requests < args.examples)
                codes = " ".join(f"{k}:{v}" for k, v in sorted(r.statuses.items()))
                fails = len(r.failures)
                print(
                    f"{who or 'none':8} {r.label:32} {r.requests:8d} {r.server_errors:4d} {fails:4d}  {codes}"
                )
                for f in r.failures:
                    print("    ", f.replace("\n", " ")[:400])
        seconds = time.monotonic() - began
        rss1 = sample(server.process.pid).rss_mb
        leaked = secrets_in(server.log.read_text())
        failures += bool(leaked)
        print(
            f"\ntotal requests {sum(totals.values())} in {seconds:.0f} s; "
            f"statuses {dict(sorted(totals.items()))}"
        )
        print(f"server RSS {rss0:.0f} -> {rss1:.0f} MB; keys in server log: {leaked or 'none'}")
        print("RESULT:", "held" if failures == 0 else f"{failures} problems")
    finally:
        stop_server(server)
    return 0 if failures == 0 else 1


if __name__ == "__main__":
    raise SystemExit(main())
