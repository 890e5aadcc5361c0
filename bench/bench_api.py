"""API speed against `mlflow models serve` on the same registered model, in the same run.

    .venv/bin/python bench/bench_api.py [--world-lines 100000] [--seconds 20] [--clients 8]
                                        [--workers 1] [--store sqlite|postgres]

1. Simulates a world, trains and registers the model in a private MLflow store (under --workdir), and
   loads the world's history, less the most recent 20,000 lines, into a fresh feature store: SQLite, or
   with `--store postgres` a new database on the local PostgreSQL (dropped afterwards).
2. Starts `roundabout serve` (`--workers`, one by default: the target's setting) and `mlflow models serve
   --env-manager local` (one worker) on loopback ports, both on `models:/roundabout/1`.
3. Single line: `--clients` concurrent clients (bench/loadgen.py: one keep-alive connection each, in
   their own process, the same client for both servers) send one held-out line per request for
   `--seconds`: ours with `explain=true, top_k=5` (features from the store, the line stored, the
   decision audited); MLflow's in its own JSON format (`dataframe_split`) with the store's
   features as `feat_` columns and no explanations. Throughput and latency percentiles of each.
4. Batch: 1,000 held-out lines with explanations in one call (median of 3 calls).
Prints a markdown table; figures go into docs/benchmarks.md.
"""

import argparse
import json
import os
import shutil
import signal
import socket
import statistics
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

import httpx
import loadgen
import numpy as np
import pandas as pd

ROOT = Path(__file__).resolve().parents[1]
KEY = "bench-key-0123456789abcdefghijklmnopqrstuvwxyz"
HELD_OUT = 20_000


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def wait_ready(url: str, process: subprocess.Popen[bytes], seconds: float = 180) -> None:
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise SystemExit(f"server exited before it was ready: {url}")
        try:
            if httpx.get(url, timeout=2).status_code == 200:
                return
        except httpx.TransportError:
            pass
        time.sleep(0.5)
    raise SystemExit(f"not ready in time: {url}")


def json_line(row: dict[str, Any]) -> dict[str, Any]:
    out = {}
    for key, value in row.items():
        if isinstance(value, pd.Timestamp):
            out[key] = value.date().isoformat()
        elif value is None or (isinstance(value, float) and np.isnan(value)):
            out[key] = None
        else:
            out[key] = value
    return out


def prepare(workdir: Path, world_lines: int, env: dict[str, str], store_url: str) -> pd.DataFrame:
    """World, registry and a feature store at `store_url` (empty) holding all but the held-out lines;
    returns the held-out lines."""
    from roundabout.data.io import read_folder

    data_dir = workdir / "data"
    if not (workdir / "mlflow.db").exists():
        run = [sys.executable, "-m", "roundabout.cli"]
        subprocess.run(
            [*run, "simulate", "--out", str(data_dir), "--lines", str(world_lines)], env=env, check=True
        )
        subprocess.run([*run, "train", "--data", str(data_dir)], env=env, check=True)
    data = read_folder(data_dir)
    lines = data.lines.sort_values(["date", "line_id"], kind="stable").reset_index(drop=True)
    history, held_out = lines.iloc[:-HELD_OUT], lines.iloc[-HELD_OUT:]
    from roundabout.data.io import CanonicalData
    from roundabout.data.validation import FormatRules
    from roundabout.store import ServiceStore
    from roundabout.store.backfill import backfill

    store = ServiceStore.open(store_url)
    store.migrate()
    known = data.inspections[data.inspections["line_id"].isin(set(history["line_id"]))]
    backfill(store, CanonicalData(history, known, None, data.extra_columns), FormatRules())  # then ANALYZE
    store.dispose()
    return held_out.reset_index(drop=True)


def mlflow_payloads(
    held_out: pd.DataFrame, store_url: str, env: dict[str, str], n: int
) -> list[dict[str, Any]]:
    """MLflow's own JSON format: one line per request, with the store's features as feat_ columns."""
    import mlflow

    from roundabout.data.records import RecordValidator
    from roundabout.data.schema import LINE_COLUMNS
    from roundabout.data.validation import FormatRules
    from roundabout.models.pyfunc import FEATURE_PREFIX, load_risk_model
    from roundabout.store import ServiceStore

    mlflow.set_tracking_uri(env["MLFLOW_TRACKING_URI"])
    model = load_risk_model("models:/roundabout/1")
    store = ServiceStore.open(store_url)
    sample = held_out.iloc[:n]
    validator = RecordValidator(FormatRules(), model.artifacts.extra_columns)
    with store.backend.connect() as conn:
        matrix = store.features(model.artifacts, model.base_features).read(
            conn, [validator.line(r) for r in sample.to_dict("records")]
        )
    features = pd.DataFrame(matrix, columns=model.base_features)
    store.dispose()
    payloads = []
    columns = [*LINE_COLUMNS, *(FEATURE_PREFIX + f for f in model.base_features)]
    for i in range(n):
        row = json_line(sample.iloc[i][list(LINE_COLUMNS)].to_dict())
        values = [row[c] for c in LINE_COLUMNS]
        values += [None if np.isnan(v) else float(v) for v in features.iloc[i][model.base_features]]
        payloads.append({"dataframe_split": {"columns": columns, "data": [values]}})
    return payloads


def load(
    url: str, headers: dict[str, str], bodies: list[str], clients: int, seconds: float
) -> dict[str, float]:
    """Run the load client (bench/loadgen.py) in its own process; throughput and latency percentiles in ms."""
    spec = {"url": url, "headers": headers, "bodies": bodies, "clients": clients, "seconds": seconds}
    result = loadgen.run_in_process(spec)
    for sample in result["error_samples"]:
        print(f"{url}: {sample}", file=sys.stderr)
    lat = np.array(result["latencies"]) * 1000
    return {
        "requests": result["sent"],
        "errors": result["errors"],
        "rps": result["sent"] / result["elapsed"],
        "p50": float(np.percentile(lat, 50)),
        "p95": float(np.percentile(lat, 95)),
        "p99": float(np.percentile(lat, 99)),
    }


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--world-lines", type=int, default=100_000)
    parser.add_argument("--seconds", type=float, default=20)
    parser.add_argument("--clients", type=int, default=8)
    parser.add_argument("--workers", type=int, default=1, help="worker processes of roundabout serve")
    parser.add_argument("--store", choices=["sqlite", "postgres"], default="sqlite")
    parser.add_argument("--workdir", type=Path, default=Path("/tmp/roundabout-bench-api"))
    args = parser.parse_args()
    args.workdir.mkdir(parents=True, exist_ok=True)
    from roundabout.serving.keys import hash_key

    env = {
        **os.environ,
        "MLFLOW_TRACKING_URI": f"sqlite:///{args.workdir / 'mlflow.db'}",
        "ROUNDABOUT_HOME": str(args.workdir / "home"),
        # `mlflow models serve` runs `uvicorn` by name: the venv's bin must come first.
        "PATH": f"{Path(sys.executable).parent}{os.pathsep}{os.environ.get('PATH', '')}",
    }
    pg = None
    if args.store == "postgres":
        sys.path.insert(0, str(ROOT))  # the suite's throwaway-database helper
        from tests.support.postgres import fresh_postgres_database

        pg = fresh_postgres_database()
    else:
        for suffix in ("", "-wal", "-shm"):
            (args.workdir / f"store.db{suffix}").unlink(missing_ok=True)
    store_url = next(pg) if pg else f"sqlite:///{args.workdir / 'store.db'}"
    held_out = prepare(args.workdir, args.world_lines, env, store_url)
    ours_port, theirs_port = free_port(), free_port()
    keys = [{"id": "bench", "sha256": hash_key(KEY), "scopes": ["score"]}]
    ours_env = {**env, "ROUNDABOUT_STORE_URL": store_url, "ROUNDABOUT_API_KEYS": json.dumps(keys)}
    logs = args.workdir / "logs"
    shutil.rmtree(logs, ignore_errors=True)
    logs.mkdir()
    ours = subprocess.Popen(
        [sys.executable, "-m", "roundabout.cli", "serve", "--port", str(ours_port),
         "--workers", str(args.workers)],
        env=ours_env, stdout=(logs / "ours.log").open("wb"), stderr=subprocess.STDOUT,
    )  # fmt: skip
    theirs = subprocess.Popen(
        [sys.executable, "-m", "mlflow", "models", "serve", "-m", "models:/roundabout/1",
         "--env-manager", "local", "-p", str(theirs_port), "-h", "127.0.0.1", "-w", "1"],
        env=env, stdout=(logs / "mlflow.log").open("wb"), stderr=subprocess.STDOUT,
    )  # fmt: skip
    try:
        wait_ready(f"http://127.0.0.1:{ours_port}/readyz", ours)
        wait_ready(f"http://127.0.0.1:{theirs_port}/ping", theirs)
        rows = [json_line(r) for r in held_out.to_dict("records")]
        single = rows[: HELD_OUT - 3000]
        ours_bodies = [json.dumps({"lines": [r], "explain": True, "top_k": 5}) for r in single]
        theirs_bodies = [json.dumps(p) for p in mlflow_payloads(held_out, store_url, env, 500)]
        probe = httpx.post(f"http://127.0.0.1:{theirs_port}/invocations", content=theirs_bodies[0],
                           headers={"Content-Type": "application/json"}, timeout=30)  # fmt: skip
        if probe.status_code != 200:
            raise SystemExit(f"mlflow serve refused the payload: {probe.status_code} {probe.text[:500]}")
        headers = {"X-API-Key": KEY}
        results = {
            "mlflow models serve": load(
                f"http://127.0.0.1:{theirs_port}/invocations", {}, theirs_bodies, args.clients, args.seconds
            ),
            "roundabout /v1/score": load(
                f"http://127.0.0.1:{ours_port}/v1/score", headers, ours_bodies, args.clients, args.seconds
            ),
        }
        batch_rows = rows[HELD_OUT - 3000 :]
        batch_times = []
        with httpx.Client(headers=headers, timeout=120) as client:
            for i in range(3):
                body = {"lines": batch_rows[i * 1000 : (i + 1) * 1000], "explain": True, "top_k": 5}
                t = time.perf_counter()
                response = client.post(f"http://127.0.0.1:{ours_port}/v1/score", json=body)
                batch_times.append(time.perf_counter() - t)
                if response.status_code != 200:
                    raise SystemExit(f"batch failed: {response.status_code} {response.text[:300]}")
    finally:
        for process in (ours, theirs):
            process.send_signal(signal.SIGTERM)
        for process in (ours, theirs):
            try:
                process.wait(timeout=30)
            except subprocess.TimeoutExpired:
                process.kill()
        if pg is not None:
            pg.close()  # drops the database
    peer = results["mlflow models serve"]["rps"]
    print(
        f"world {args.world_lines:,} lines; {args.clients} concurrent clients; {args.seconds:.0f} s each; "
        f"roundabout: {args.workers} worker(s), {args.store} store"
    )
    print("| server | requests | errors | req/s | p50 ms | p95 ms | p99 ms | throughput vs mlflow |")
    print("|---|---:|---:|---:|---:|---:|---:|---:|")
    for name, r in results.items():
        print(
            f"| {name} | {r['requests']:,} | {r['errors']} | {r['rps']:,.0f} | {r['p50']:.1f} "
            f"| {r['p95']:.1f} | {r['p99']:.1f} | {r['rps'] / peer:.2f}x |"
        )
    print(f"batch of 1,000 lines with explanations: median {statistics.median(batch_times):.2f} s "
          f"(runs: {', '.join(f'{t:.2f}' for t in batch_times)})")  # fmt: skip


if __name__ == "__main__":
    main()
