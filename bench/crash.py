"""Crash consistency: SIGKILL the server repeatedly while a client scores lines and posts their outcomes.

    python bench/crash.py --outcomes 5000 --kills 5 [--stores sqlite,postgres] [--pg-url URL]

For each store, 4 client threads score `--outcomes` distinct lines one by one and post one outcome per
line, retrying any failed attempt (a 2xx is the acknowledgement); the server process is killed with
SIGKILL `--kills` times, spread over the run, and restarted. Afterwards the store tables are read
directly: every acknowledged line must be in feat_lines exactly once, its acknowledged request's decision
in decisions exactly once, every acknowledged outcome in feat_outcomes exactly once.
"""

import argparse
import time
from pathlib import Path

from reliability_common import DEFAULT_WORKDIR, registry

from tests.support.faults import crash_run
from tests.support.postgres import fresh_postgres_database


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--outcomes", type=int, default=5000)
    parser.add_argument("--kills", type=int, default=5)
    parser.add_argument("--clients", type=int, default=4)
    parser.add_argument("--stores", default="sqlite,postgres")
    parser.add_argument("--workdir", type=Path, default=DEFAULT_WORKDIR)
    args = parser.parse_args()
    reg = registry(args.workdir)
    ok = True
    for store in args.stores.split(","):
        run_dir = args.workdir / f"crash-{store}-{int(time.time())}"
        run_dir.mkdir(parents=True)
        pg = fresh_postgres_database() if store == "postgres" else None
        url = next(pg) if pg else f"sqlite:///{run_dir / 'store.db'}"
        try:
            report = crash_run(reg, url, run_dir, args.outcomes, args.kills, args.clients, log=print)
        finally:
            if pg:
                next(pg, None)  # drops the database
        ok &= report.held
        restarts = ", ".join(f"{s:.1f}" for s in report.restarts_s)
        print(
            f"{store}: {report.lines_acked} lines and {report.outcomes_acked} outcomes acknowledged in "
            f"{report.seconds:.0f} s; {report.kills} SIGKILLs (restarts {restarts} s); "
            f"{report.failed_attempts} failed attempts retried\n"
            f"  lines missing {report.lines_missing}, duplicated {report.lines_duplicated}; "
            f"decisions of acknowledged requests missing or doubled {report.decisions_missing}; "
            f"outcomes missing {report.outcomes_missing}, duplicated {report.outcomes_duplicated}; "
            f"unexpected answers {report.client_errors or 'none'}: {'held' if report.held else 'BROKEN'}",
            flush=True,
        )
    print("RESULT:", "held" if ok else "broken")
    return 0 if ok else 1


if __name__ == "__main__":
    raise SystemExit(main())
