"""Training in one process (pandas) against training with `--engine dask` on the same machine.

    .venv/bin/python bench/bench_dask_train.py [--lines 1000000] [--copies 1] [--workers 2]
                                               [--worker-memory 4GB] [--pandas-max-lines 4000000]

The history is the `--lines` world of `bench_dask_features.py` (reused from `--work`), or `--copies` K
copies of it. Each the real CLI in a subprocess, into one fresh registry, with no search budget:
(1) `roundabout train` (in process; skipped above `--pandas-max-lines`);
(2) `roundabout train --engine dask` on a LocalCluster of `--workers` workers of `--worker-memory`.
Wall time and the peak summed RSS of the command's process tree as in `bench_dask_features.py`, and the
holdout's average precision against outcomes and against the simulation's ground truth that each run
printed (the Dask run's holdout is a uniform draw when the history has more lines than `--draw-lines`).
"""

import re
import shutil
import sys
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent))
from bench_dask_features import CLI, dask_bench_parser, history_of, run


def pr_auc(output: str) -> list[str]:
    """The model's holdout PR-AUC against outcomes, weighted outcomes and ground truth, as printed ("-"
    where the command printed no such table: a history without ground truth)."""
    found = []
    for title in ("against inspection outcomes", "weighted by inverse propensity", "against ground truth"):
        at = output.find(title)
        value = re.search(r"│ PR-AUC\s+│\s+([0-9.]+)", output[at:]) if at >= 0 else None
        found.append(value.group(1) if value else "-")
    return found


def main() -> None:
    parser = dask_bench_parser(__doc__)
    parser.add_argument("--pandas-max-lines", type=int, default=4_000_000)
    args = parser.parse_args()
    data = history_of(args)
    n = args.lines * args.copies
    home = args.work / "train-home"
    shutil.rmtree(home, ignore_errors=True)
    train = [str(CLI), "train", "--data", str(data), "--budget", "0"]
    rows: list[tuple[str, dict[str, Any]]] = []
    if n <= args.pandas_max_lines:
        print("(1) pandas", flush=True)
        rows.append(("pandas, one process", run(train, home)))
    print("(2) dask", flush=True)
    dask = ["--engine", "dask", "--workers", str(args.workers), "--worker-memory", args.worker_memory]
    rows.append((f"dask, LocalCluster {args.workers} x {args.worker_memory}", run([*train, *dask], home)))
    print(f"\n{n:,} lines\n")
    print("| engine | wall s | peak memory MB (all processes) | PR-AUC: outcomes / weighted / truth |")
    print("|---|---:|---:|---|")
    for name, r in rows:
        print(f"| {name} | {r['wall']:.1f} | {r['peak']:,.0f} | {' / '.join(pr_auc(r['output']))} |")


if __name__ == "__main__":
    main()
