"""Benchmark of the batch feature path: wall time and peak memory of `build_features` on a simulated history.

    python bench/bench_features.py --lines 1000000 --seed 1 [--data DIR]

Simulates the world into DIR (kept, so a rerun or bench_online.py can reuse it) unless DIR already holds one,
then in this process reads it, fits the artifacts and builds the features. The peer in the same run is a
plain pandas groupby-sum of value by trader over the same frame, so the ratio says how many "simplest
possible passes" over the data the whole feature build costs. Peak RSS is the process's high-water mark
(data + features), read from getrusage.
"""

import argparse
import os
import platform
import resource
import subprocess
import sys
import time
from datetime import date
from pathlib import Path

from roundabout.data.io import read_folder
from roundabout.features import FeatureArtifacts, build_features


def ensure_world(folder: Path, lines: int, seed: int) -> None:
    """Simulate into `folder` with the CLI (a separate process) unless it already holds a world."""
    if (folder / "lines.parquet").exists():
        return
    cmd = [
        sys.executable,
        "-m",
        "roundabout.cli",
        "simulate",
        "--out",
        str(folder),
        "--lines",
        str(lines),
        "--seed",
        str(seed),
    ]
    subprocess.run(cmd, check=True, stdout=subprocess.DEVNULL)


def peak_rss_mb() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--lines", type=int, default=1_000_000)
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument(
        "--data", type=Path, default=None, help="world folder (default /tmp/roundabout-world-N)"
    )
    args = parser.parse_args()
    folder = args.data or Path(f"/tmp/roundabout-world-{args.lines}-{args.seed}")
    ensure_world(folder, args.lines, args.seed)

    t0 = time.perf_counter()
    data = read_folder(folder)
    t_read = time.perf_counter() - t0
    rss_data = peak_rss_mb()

    t0 = time.perf_counter()
    peer = data.lines.groupby("trader_id")["value_usd"].sum()
    t_peer = time.perf_counter() - t0

    t0 = time.perf_counter()
    artifacts = FeatureArtifacts().fit(data.lines, data.inspections, data.extra_columns)
    t_fit = time.perf_counter() - t0

    t0 = time.perf_counter()
    features = build_features(data, artifacts)
    t_build = time.perf_counter() - t0

    n = len(data.lines)
    print(f"# batch features, {date.today()}, {platform.machine()}, {len(os.sched_getaffinity(0))} cores")
    print(f"lines                        {n:,} ({len(data.inspections):,} outcomes, {len(peer):,} traders)")
    print(f"features                     {features.shape[1]}")
    print(f"read parquet                 {t_read:6.2f} s")
    print(f"fit artifacts                {t_fit:6.2f} s")
    print(f"build_features               {t_build:6.2f} s  ({n / t_build:,.0f} lines/s)")
    print(f"fit + build                  {t_fit + t_build:6.2f} s")
    print(f"peer: groupby-sum by trader  {t_peer:6.3f} s  (build / peer = {t_build / t_peer:,.0f}x)")
    print(f"peak RSS after reading data  {rss_data:,.0f} MB")
    print(f"peak RSS overall             {peak_rss_mb():,.0f} MB")
    sys.stdout.flush()


if __name__ == "__main__":
    main()
