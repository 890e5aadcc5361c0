"""Batch features in one process (pandas) against a Dask LocalCluster on the same machine, same run.

    .venv/bin/python bench/bench_dask_features.py [--lines 1000000] [--workers 2] [--worker-memory 4GB]
                                                  [--work /tmp/roundabout-bench-dask]

A world of `--lines` simulated lines is written once as month partitions (`roundabout simulate
--partitioned`) into `--work`/world-N and reused; with `--copies K` the history is K copies of it (ids
prefixed `cK-`, traders and counterparties shared, so every key has K times the lines), written as K part
files per month into `--work`/world-N-xK. Then, each the real CLI in a subprocess:
(1) `roundabout features` (pandas, in process), which also fits and saves the feature artifacts (skipped
    above `--pandas-max-lines`, which this machine's memory cannot take; the artifacts are then fitted on
    the one world first);
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
from typing import Any

import numpy as np
import pandas as pd
import psutil
import pyarrow.parquet as pq

ROOT = Path(__file__).resolve().parents[1]
CLI = ROOT / ".venv" / "bin" / "roundabout"


def run(cmd: list[str], home: Path) -> dict[str, Any]:
    """Run `cmd`; its wall seconds, the peak summed RSS (MB) of its process tree and its output."""
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
    return {"wall": wall, "peak": peak, "output": output}


def compose(world: Path, copies: int, out: Path) -> None:
    """`copies` copies of the folder `world` as one partitioned folder `out` (ids prefixed)."""
    from roundabout.data.dataset import PARTITION, by_month, write_part
    from roundabout.data.io import INSPECTIONS_SCHEMA, lines_schema, read_folder, to_arrow, write_table

    data = read_folder(world)
    schema = lines_schema(data.extra_columns)
    outcomes = []
    for k in range(copies):
        lines = data.lines.assign(
            line_id=f"c{k}-" + data.lines["line_id"], document_id=f"c{k}-" + data.lines["document_id"]
        )
        for month, rows in by_month(to_arrow(lines, schema)):
            write_part(rows, out / "lines" / f"{PARTITION}={month}" / f"part-{k}.parquet")
        outcomes.append(data.inspections.assign(line_id=f"c{k}-" + data.inspections["line_id"]))
    write_table(pd.concat(outcomes, ignore_index=True), INSPECTIONS_SCHEMA, out / "inspections.parquet")
    shutil.copy(world / "manifest.json", out / "manifest.json")


def simulated_world(work: Path, lines: int) -> Path:
    """The partitioned world of `lines` simulated lines under `work` (simulated once, then reused)."""
    world = work / f"world-{lines}"
    if not (world / "lines").is_dir():
        shutil.rmtree(world, ignore_errors=True)
        print(f"simulating {lines:,} lines into {world}", flush=True)
        run([str(CLI), "simulate", "--out", str(world), "--lines", str(lines), "--partitioned"],
            work / "home-sim")  # fmt: skip
    return world


def copies_of(world: Path, copies: int, work: Path) -> Path:
    """`copies` copies of `world` as one history under `work` (composed once, then reused)."""
    data = work / f"{world.name}-x{copies}"
    if not (data / "inspections.parquet").exists():
        shutil.rmtree(data, ignore_errors=True)
        print(f"composing {copies} copies into {data}", flush=True)
        compose(world, copies, data)
    return data


def dask_bench_parser(doc: str | None, copies: int = 1) -> argparse.ArgumentParser:
    """The options the Dask benchmarks share: the world, its copies, the cluster, the work folder."""
    parser = argparse.ArgumentParser(description=doc, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--lines", type=int, default=1_000_000)
    parser.add_argument(
        "--copies", type=int, default=copies, help="the history is this many copies of the world"
    )
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument("--worker-memory", default="4GB")
    parser.add_argument("--work", type=Path, default=Path("/tmp/roundabout-bench-dask"))
    return parser


def history_of(args: argparse.Namespace) -> Path:
    """The history the options name: the world of `--lines`, or `--copies` copies of it."""
    world = simulated_world(args.work, args.lines)
    return copies_of(world, args.copies, args.work) if args.copies > 1 else world


def main() -> None:
    parser = dask_bench_parser(__doc__)
    parser.add_argument("--pandas-max-lines", type=int, default=4_000_000)
    args = parser.parse_args()
    data = history_of(args)
    world = simulated_world(args.work, args.lines)
    n = args.lines * args.copies
    out = args.work / "out"
    shutil.rmtree(out, ignore_errors=True)
    out.mkdir(parents=True)
    runs: dict[str, dict[str, Any]] = {}
    if n <= args.pandas_max_lines:
        print("(1) pandas", flush=True)
        cmd = [str(CLI), "features", "--data", str(data), "--out", str(out / "pandas.parquet")]
        runs["pandas, one process"] = run(cmd, out / "h1")
    else:
        print(
            f"(1) pandas skipped above {args.pandas_max_lines:,} lines; artifacts from the world", flush=True
        )
        run([str(CLI), "features", "--data", str(world), "--out", str(out / "pandas.parquet")], out / "h1")
    print("(2) dask", flush=True)
    cmd = [str(CLI), "features", "--data", str(data), "--out", str(out / "dask"), "--engine", "dask",
           "--artifacts", str(out / "pandas_artifacts"), "--workers", str(args.workers),
           "--worker-memory", args.worker_memory]  # fmt: skip
    runs[f"dask, LocalCluster {args.workers} x {args.worker_memory}"] = run(cmd, out / "h2")
    if "pandas, one process" in runs:
        expected, got = pd.read_parquet(out / "pandas.parquet"), pd.read_parquet(out / "dask")
        got = got.loc[expected.index, list(expected.columns)]
        same = np.isclose(expected.to_numpy(), got.to_numpy(), rtol=1e-9, atol=1e-9, equal_nan=True).all()
        print(f"\n{n:,} lines, {len(expected.columns)} features; every value the same within 1e-9: {same}\n")
    else:
        rows = sum(pq.ParquetFile(f).metadata.num_rows for f in (out / "dask").glob("*.parquet"))
        print(f"\n{n:,} lines; the Dask output holds {rows:,} rows\n")
    print("| engine | lines | wall s | lines/s | peak memory MB (all processes) |")
    print("|---|---:|---:|---:|---:|")
    for label, r in runs.items():
        print(f"| {label} | {n:,} | {r['wall']:.1f} | {n / r['wall']:,.0f} | {r['peak']:,.0f} |")
    if len(runs) == 2:
        pandas, dask = runs.values()
        print(f"\nDask against pandas, same run: wall {dask['wall'] / pandas['wall']:.2f}x, "
              f"peak memory {dask['peak'] / pandas['peak']:.2f}x")  # fmt: skip


if __name__ == "__main__":
    main()
