"""Scoring a whole history in one process (pandas) against a Dask LocalCluster on the same machine.

    .venv/bin/python bench/bench_dask_score.py [--lines 1000000] [--copies 10] [--train-lines 200000]
                                               [--workers 2] [--worker-memory 4GB]

A model is trained once (`roundabout train --budget 0`) on a simulated world of `--train-lines` lines into
a registry under `--work`; the history scored is the `--lines` world of `bench_dask_features.py` (reused
from `--work`), and with `--copies K` K copies of it. Then, each the real CLI in a subprocess:
(1) `roundabout score` (pandas, in process) of the `--lines` world, and `roundabout score --engine dask` of
    the same world: the lines/s of both paths on the same lines, and every score compared;
(2) `roundabout score --engine dask` of the K copies (skipped when K is 1), where only the Dask path runs
    (the pandas path's peak is measured in (1) and grows with the lines).
Wall time and the peak summed RSS of the command's process tree as in `bench_dask_features.py`.
"""

import shutil
import sys
from pathlib import Path

import numpy as np
import pandas as pd

sys.path.insert(0, str(Path(__file__).resolve().parent))
from bench_dask_features import CLI, copies_of, dask_bench_parser, run, simulated_world


def main() -> None:
    parser = dask_bench_parser(__doc__, copies=10)
    parser.add_argument("--train-lines", type=int, default=200_000)
    args = parser.parse_args()
    registry = args.work / "registry"
    home = registry / "home"
    train_world = args.work / f"train-world-{args.train_lines}"
    if not (registry / "trained").exists():
        shutil.rmtree(registry, ignore_errors=True)
        print(f"training a model on {args.train_lines:,} lines", flush=True)
        simulate = [str(CLI), "simulate", "--out", str(train_world), "--seed", "7"]
        run([*simulate, "--lines", str(args.train_lines)], home)
        run([str(CLI), "train", "--data", str(train_world), "--budget", "0"], home)
        (registry / "trained").touch()
    world = simulated_world(args.work, args.lines)
    out = args.work / "scores"
    shutil.rmtree(out, ignore_errors=True)
    out.mkdir(parents=True)
    model = ["--model", "models:/roundabout@champion"]
    dask = ["--engine", "dask", "--workers", str(args.workers), "--worker-memory", args.worker_memory]
    label = f"dask, LocalCluster {args.workers} x {args.worker_memory}"
    rows: list[tuple[str, int, dict[str, float]]] = []
    print("(1) pandas and dask on the world", flush=True)
    plain = run([str(CLI), "score", *model, "--data", str(world), "--out", str(out / "p.parquet")], home)
    rows.append(("pandas, one process", args.lines, plain))
    on_dask = run([str(CLI), "score", *model, "--data", str(world), "--out", str(out / "d"), *dask], home)
    rows.append((label, args.lines, on_dask))
    expected = pd.read_parquet(out / "p.parquet").set_index("line_id").sort_index()
    got = pd.read_parquet(out / "d").set_index("line_id").sort_index()
    same = got.index.equals(expected.index) and np.allclose(
        got["risk_score"], expected["risk_score"], rtol=1e-9, atol=1e-12
    ) and (got["channel"].astype(str) == expected["channel"].astype(str)).all()  # fmt: skip
    print(f"\n{args.lines:,} lines: every risk score and channel the same: {same}\n", flush=True)
    if args.copies > 1:
        data = copies_of(world, args.copies, args.work)
        print(f"(2) dask on {args.copies} copies", flush=True)
        many = run([str(CLI), "score", *model, "--data", str(data), "--out", str(out / "dk"), *dask], home)
        scored = len(pd.read_parquet(out / "dk", columns=["line_id"]))
        rows.append((label, args.lines * args.copies, many))
        print(f"{args.lines * args.copies:,} lines; the Dask output holds {scored:,} rows\n")
    print("| engine | lines | wall s | lines/s | peak memory MB (all processes) |")
    print("|---|---:|---:|---:|---:|")
    for name, n, r in rows:
        print(f"| {name} | {n:,} | {r['wall']:.1f} | {n / r['wall']:,.0f} | {r['peak']:,.0f} |")
    ratio = on_dask["wall"] / plain["wall"], on_dask["peak"] / plain["peak"]
    print(f"\nDask against pandas on {args.lines:,} lines, same run: ", end="")
    print(f"wall {ratio[0]:.2f}x, peak memory {ratio[1]:.2f}x")


if __name__ == "__main__":
    main()
