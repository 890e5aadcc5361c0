"""Batch features in one process (pandas) against a Dask LocalCluster on the same machine, same run.

    .venv/bin/python bench/bench_dask_features.py [--lines 1000000] [--workers 2] [--worker-memory 4GB]
                                                  [--work /tmp/roundabout-bench-dask]

A world of `--lines` simulated lines is written once as month partitions (`roundabout simulate
--partitioned`) into `--work`/world-N and reused. Then, each the real CLI in a subprocess:
(1) `roundabout features` (pandas, in process), which also fits and saves the feature artifacts;
(2) `roundabout features --engine dask --artifacts <those>` on a LocalCluster of `--workers` workers
    limited to `--worker-memory` each.
Wall time around the subprocess (start-up, the cluster's start and the writing included); memory is the
peak of the summed RSS of the command and every process under it (the Dask scheduler and workers), sampled
every 0.2 s with psutil. Every feature of every line of the two outputs is compared (within 1e-9).
Prints a markdown table.
"""

import argparse
import os
import shutil
import subprocess
import threading
import time
from pathlib import Path

import numpy as np
import pandas as pd
import psutil

ROOT = Path(__file__).resolve().parents[1]
CLI = ROOT / ".venv" / "bin" / "roundabout"


def run(cmd: list[str], home: Path) -> dict[str, float]:
    """Run `cmd`; its wall seconds and the peak summed RSS (MB) of its process tree."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("ROUNDABOUT_")}
    home.mkdir(parents=True, exist_ok=True)
    started = time.perf_counter()
    process = subprocess.Popen(cmd, env={**env, "ROUNDABOUT_HOME": str(home)}, cwd=home,
                               stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)  # fmt: skip
    peak = 0.0
    done = threading.Event()

    def sample() -> None:
        nonlocal peak
        root = psutil.Process(process.pid)
        while not done.is_set():
            try:
                total = sum(p.memory_info().rss for p in [root, *root.children(recursive=True)])
                peak = max(peak, total / 2**20)
            except psutil.Error:
                pass
            time.sleep(0.2)

    watcher = threading.Thread(target=sample, daemon=True)
    watcher.start()
    output, _ = process.communicate()
    done.set()
    watcher.join()
    wall = time.perf_counter() - started
    if process.returncode:
        raise SystemExit(f"{' '.join(cmd)} failed ({process.returncode}):\n{output[-3000:]}")
    return {"wall": wall, "peak": peak}


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--lines", type=int, default=1_000_000)
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument("--worker-memory", default="4GB")
    parser.add_argument("--work", type=Path, default=Path("/tmp/roundabout-bench-dask"))
    args = parser.parse_args()
    world = args.work / f"world-{args.lines}"
    if not (world / "lines").is_dir():
        shutil.rmtree(world, ignore_errors=True)
        print(f"simulating {args.lines:,} lines into {world}", flush=True)
        run([str(CLI), "simulate", "--out", str(world), "--lines", str(args.lines), "--partitioned"],
            args.work / "home-sim")  # fmt: skip
    out = args.work / "out"
    shutil.rmtree(out, ignore_errors=True)
    out.mkdir(parents=True)
    print("(1) pandas", flush=True)
    pandas = run(
        [str(CLI), "features", "--data", str(world), "--out", str(out / "pandas.parquet")], out / "h1"
    )
    print("(2) dask", flush=True)
    cmd = [str(CLI), "features", "--data", str(world), "--out", str(out / "dask"), "--engine", "dask",
           "--artifacts", str(out / "pandas_artifacts"), "--workers", str(args.workers),
           "--worker-memory", args.worker_memory]  # fmt: skip
    dask = run(cmd, out / "h2")
    expected, got = pd.read_parquet(out / "pandas.parquet"), pd.read_parquet(out / "dask")
    got = got.loc[expected.index, list(expected.columns)]
    same = np.isclose(expected.to_numpy(), got.to_numpy(), rtol=1e-9, atol=1e-9, equal_nan=True).all()
    n = len(expected)
    print(f"\n{n:,} lines, {len(expected.columns)} features; every value the same within 1e-9: {same}\n")
    print("| engine | wall s | lines/s | peak memory MB (all processes) |")
    print("|---|---:|---:|---:|")
    for name, r in (
        ("pandas, one process", pandas),
        (f"dask, LocalCluster {args.workers} x {args.worker_memory}", dask),
    ):
        print(f"| {name} | {r['wall']:.1f} | {n / r['wall']:,.0f} | {r['peak']:,.0f} |")
    print(f"\nDask against pandas, same run: wall {dask['wall'] / pandas['wall']:.2f}x, "
          f"peak memory {dask['peak'] / pandas['peak']:.2f}x")  # fmt: skip


if __name__ == "__main__":
    main()
