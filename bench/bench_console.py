"""The analyst console's pages on a big store: queue and line page latency through a real server.

    .venv/bin/python bench/bench_console.py --url sqlite:////tmp/roundabout-bench-monitor-1000000-7/store.db
                                            [--requests 300] [--seed 1]

The store is one with a decision on every line, as `bench/bench_monitor.py` loads it (1,000,000 lines of
the 1M-line world: `bench_monitor.py --lines 1000000 --seed 7` leaves it under /tmp, or `--url` a
PostgreSQL copy). `roundabout serve` (one worker, monitor off, no model needed for these pages) is started
on it with an analyst key; the benchmark signs in through the form like a browser and then, closed loop,
one request at a time:
- the queue (`/console/queue?day=D&channel=...`) of `--requests` random days (red and yellow, red only,
  filtered by office, page 2), and
- the line page (`/console/lines/<id>`) of `--requests` random red or yellow lines,
beside a peer in the same run: `GET /v1/decisions/<id>` of the same lines (the JSON API's read of a line's
decisions and outcome) and `/healthz` (the floor of one HTTP round trip). Reports p50/p95/p99 in ms and the
ratio to the peer. Targets (issue): queue p95 <= 300 ms, line p95 <= 150 ms.
"""

import argparse
import json
import os
import platform
import random
import re
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import httpx
import numpy as np
import sqlalchemy as sa

from roundabout.serving.keys import hash_key, new_key


def start(url: str, key: str, admin: str, workdir: Path) -> tuple[subprocess.Popen, str]:
    port = 8000 + random.randint(100, 800)
    keys = [
        {"id": "analyst", "sha256": hash_key(key), "scopes": ["analyst"]},
        {"id": "admin", "sha256": hash_key(admin), "scopes": ["admin"]},
    ]
    env = {
        **os.environ,
        "ROUNDABOUT_HOME": str(workdir / "home"),
        "MLFLOW_TRACKING_URI": f"sqlite:///{workdir / 'mlflow.db'}",
        "ROUNDABOUT_STORE_URL": url,
        "ROUNDABOUT_API_KEYS": json.dumps(keys),
        "ROUNDABOUT_MONITOR_INTERVAL_SECONDS": "0",
        "ROUNDABOUT_RELOAD_INTERVAL_SECONDS": "3600",
    }
    log = (workdir / "server.log").open("wb")
    command = [sys.executable, "-m", "roundabout.cli", "serve", "--port", str(port)]
    process = subprocess.Popen(command, env=env, stdout=log, stderr=subprocess.STDOUT)
    base = f"http://127.0.0.1:{port}"
    for _ in range(600):  # the first start migrates the store (an index over every line)
        try:
            if httpx.get(f"{base}/healthz", timeout=2).status_code == 200:
                return process, base
        except httpx.TransportError:
            time.sleep(0.5)
    process.kill()
    raise SystemExit(f"server not up: {(workdir / 'server.log').read_text()[-2000:]}")


def sign_in(base: str, key: str) -> httpx.Client:
    client = httpx.Client(base_url=base, timeout=60)
    form = client.get("/console/signin").text
    token = re.search(r'name="csrf" value="([^"]+)"', form).group(1)  # type: ignore[union-attr]
    answer = client.post("/console/signin", data={"key": key, "csrf": token})
    if answer.status_code != 303:
        raise SystemExit(f"sign-in failed: {answer.status_code} {answer.text[:300]}")
    return client


def timed(client: httpx.Client, paths: list[str], headers: dict[str, str] | None = None) -> np.ndarray:
    out = []
    for path in paths:
        t0 = time.perf_counter()
        answer = client.get(path, headers=headers)
        out.append((time.perf_counter() - t0) * 1000)
        if answer.status_code != 200:
            raise SystemExit(f"{path}: {answer.status_code} {answer.text[:300]}")
    return np.asarray(out)


def row(name: str, ms: np.ndarray, peer: np.ndarray | None = None) -> str:
    p50, p95, p99 = np.percentile(ms, [50, 95, 99])
    ratio = f"{p95 / np.percentile(peer, 95):.1f}" if peer is not None else ""
    return f"| {name} | {len(ms)} | {p50:.1f} | {p95:.1f} | {p99:.1f} | {ratio} |"


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--url", required=True, help="store URL (a store loaded by bench_monitor.py)")
    parser.add_argument("--requests", type=int, default=300)
    parser.add_argument("--seed", type=int, default=1)
    args = parser.parse_args()
    random.seed(args.seed)
    engine = sa.create_engine(args.url)
    with engine.connect() as conn:
        lines = conn.execute(sa.text("SELECT count(*) FROM feat_lines")).scalar_one()
        days = [r[0] for r in conn.execute(sa.text("SELECT DISTINCT day FROM feat_lines"))]
        offices = [
            r[0] for r in conn.execute(sa.text("SELECT DISTINCT customs_office FROM feat_lines LIMIT 50"))
        ]
        flagged = [
            r[0]
            for r in conn.execute(
                sa.text("SELECT line_id FROM decisions WHERE channel IN ('red', 'yellow') LIMIT 20000")
            )
        ]
    engine.dispose()
    epoch = np.datetime64("1970-01-01")
    dates = [str(epoch + np.timedelta64(int(d), "D")) for d in days]
    queue = []
    for i in range(args.requests):
        day = random.choice(dates)
        kind = i % 4
        query = [
            f"day={day}",
            "channel=both",
            "channel=red",
            f"channel=both&office={random.choice(offices)}",
        ][kind]
        queue.append(f"/console/queue?day={day}&{query}" if kind else f"/console/queue?{query}&page=2")
    picked = random.sample(flagged, min(args.requests, len(flagged)))
    quoted = [httpx.URL(f"/console/lines/{line_id}").raw_path.decode() for line_id in picked]
    key, admin = new_key(), new_key()
    with tempfile.TemporaryDirectory() as folder:
        process, base = start(args.url, key, admin, Path(folder))
        try:
            client = sign_in(base, key)
            timed(client, queue[:20] + quoted[:20])  # warm-up: caches, the planner, the templates
            queue_ms = timed(client, queue)
            line_ms = timed(client, quoted)
            api = httpx.Client(base_url=base, timeout=60)
            peer_ms = timed(api, [f"/v1/decisions/{i}" for i in picked], {"X-API-Key": admin})
            floor_ms = timed(api, ["/healthz"] * args.requests)
        finally:
            process.terminate()
            process.wait(timeout=30)
    cores = len(os.sched_getaffinity(0))
    print(f"# console pages, {time.strftime('%Y-%m-%d')}, {platform.machine()}, {cores} cores")
    print(f"store: {args.url.split('://')[0]}, {lines:,} lines, {len(dates):,} days")
    print("| request | n | p50 ms | p95 ms | p99 ms | p95 / API peer |")
    print("|---|---|---|---|---|---|")
    print(row("queue page", queue_ms, peer_ms))
    print(row("line page", line_ms, peer_ms))
    print(row("peer: GET /v1/decisions/{line_id}", peer_ms))
    print(row("floor: GET /healthz", floor_ms))


if __name__ == "__main__":
    main()
