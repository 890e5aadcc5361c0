"""Benchmark of the synthetic world: wall time and peak memory of `simulate` + writing the folder.

Each measurement runs in its own subprocess so its peak RSS (ru_maxrss) is its own. Peers in the same run
give ratios that travel across machines: writing the very same canonical folder again (IO alone), and numpy
drawing as many random rows of the same width (the floor for any generator). Prints a markdown table.

    .venv/bin/python bench/bench_simulate.py --lines 1000000
"""

import argparse
import json
import os
import platform
import resource
import subprocess
import sys
import tempfile
import time
from datetime import date
from pathlib import Path

N_COLUMNS = 24  # canonical line fields


def _simulate(n: int, seed: int, out: str) -> dict[str, float]:
    from roundabout.data.io import write_folder
    from roundabout.simulation import SimulationConfig, simulate

    t0 = time.perf_counter()
    world = simulate(SimulationConfig(n_lines=n, seed=seed))
    t1 = time.perf_counter()
    write_folder(world, Path(out))
    t2 = time.perf_counter()
    return {"seconds": t2 - t0, "generate_s": t1 - t0, "write_s": t2 - t1}


def _rewrite(n: int, seed: int, out: str) -> dict[str, float]:
    from roundabout.data.io import read_folder, write_folder

    world = read_folder(Path(out))
    t0 = time.perf_counter()
    write_folder(world, Path(out) / "again")
    return {"seconds": time.perf_counter() - t0}


def _numpy(n: int, seed: int, out: str) -> dict[str, float]:
    import numpy as np

    t0 = time.perf_counter()
    rng = np.random.default_rng(seed)
    rows = rng.random((n, N_COLUMNS))
    return {"seconds": time.perf_counter() - t0, "checksum": float(rows[:, 0].sum())}


_TASKS = {"simulate": _simulate, "rewrite": _rewrite, "numpy": _numpy}


def _child(task: str, n: int, seed: int, out: str) -> None:
    result = _TASKS[task](n, seed, out)
    result["peak_rss_mb"] = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024  # kB on Linux
    print(json.dumps(result))


def _run(task: str, n: int, seed: int, out: str) -> dict[str, float]:
    cmd = [sys.executable, __file__, "--child", task, "--lines", str(n), "--seed", str(seed), "--out", out]
    proc = subprocess.run(cmd, check=True, capture_output=True, text=True)
    return json.loads(proc.stdout.strip().splitlines()[-1])


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--lines", type=int, default=1_000_000)
    parser.add_argument("--seed", type=int, default=7)
    parser.add_argument("--out", default=None, help=argparse.SUPPRESS)
    parser.add_argument("--child", choices=list(_TASKS), help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.child:
        _child(args.child, args.lines, args.seed, args.out)
        return
    with tempfile.TemporaryDirectory() as tmp:
        out = str(Path(tmp) / "world")
        sim = _run("simulate", args.lines, args.seed, out)
        rewrite = _run("rewrite", args.lines, args.seed, out)
        rand = _run("numpy", args.lines, args.seed, out)
        size_mb = sum(p.stat().st_size for p in Path(out).glob("*.parquet")) / 1e6
    n = args.lines
    cpu = platform.processor() or platform.machine()
    print(f"# simulate benchmark, {date.today()}, {cpu}, {os.cpu_count()} cores")
    print(f"command: `.venv/bin/python bench/bench_simulate.py --lines {n} --seed {args.seed}`\n")
    print("| measurement | wall time (s) | lines/s | peak RSS (MB) | vs simulate |")
    print("|---|---:|---:|---:|---:|")
    for name, r in (
        ("simulate + write folder", sim),
        ("  of which generation", {"seconds": sim["generate_s"]}),
        ("  of which writing Parquet", {"seconds": sim["write_s"]}),
        ("peer: rewrite the same folder (IO only)", rewrite),
        (f"peer: numpy random {n:,} x {N_COLUMNS}", rand),
    ):
        rss = f"{r['peak_rss_mb']:,.0f}" if "peak_rss_mb" in r else ""
        ratio = sim["seconds"] / r["seconds"]
        print(f"| {name} | {r['seconds']:.2f} | {n / r['seconds']:,.0f} | {rss} | {ratio:.1f}x |")
    print(f"\nlines: {n:,}; Parquet files: {size_mb:.0f} MB")


if __name__ == "__main__":
    main()
