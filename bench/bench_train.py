"""End-to-end training cost and detection quality against ground truth, model vs rules baseline.

Runs the whole `roundabout train` job (load, features, fit, evaluate, MLflow logging and registration
into a throw-away SQLite store) on a simulated world, prints the time of each stage, and the holdout
precision / recall at inspection rates of 1, 2, 5 and 10% against ground truth for the model and the
rules baseline (the quality targets: recall at 5% at least twice the baseline's, precision at 1% >= 0.8).

Usage: .venv/bin/python bench/bench_train.py [--lines 100000] [--seed 7] [--data DIR] [--weighting none]
(`--data` reuses a simulated folder; otherwise the world is simulated and written first, untimed.)
"""

import argparse
import os
import platform
import tempfile
import time
from datetime import date
from pathlib import Path

from roundabout.data.io import write_folder
from roundabout.simulation import SimulationConfig, simulate


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--lines", type=int, default=100_000)
    parser.add_argument("--seed", type=int, default=7)
    parser.add_argument("--data", type=Path, default=None)
    parser.add_argument(
        "--weighting", choices=["ipw", "none"], default="ipw", help="labels.weighting (the peer: none)"
    )
    args = parser.parse_args()

    with tempfile.TemporaryDirectory() as tmp:
        os.environ["ROUNDABOUT_HOME"] = str(Path(tmp) / "home")
        os.environ.pop("MLFLOW_TRACKING_URI", None)
        data = args.data
        if data is None:
            data = Path(tmp) / "world"
            write_folder(simulate(SimulationConfig(n_lines=args.lines, seed=args.seed)), data)
        from roundabout.models.mlflow_service import MlflowService
        from roundabout.settings import get_settings
        from roundabout.training import TrainConfig, train

        settings = get_settings()
        service = MlflowService(settings.mlflow_tracking_uri, settings.mlflow_artifact_root)
        start = time.perf_counter()
        config = TrainConfig.model_validate({"labels": {"weighting": args.weighting}})
        result = train(data, service, config, experiment="bench")
        total = time.perf_counter() - start

    machine = f"{platform.machine()}, {os.cpu_count()} cores, Python {platform.python_version()}"
    print(f"Machine: {machine}, {date.today()}")
    print(f"Data: {data} ({sum(result.counts.values()) and result.counts}); weighting {args.weighting}\n")
    print("| stage | seconds |\n|---|---:|")
    for stage, secs in result.timings.items():
        print(f"| {stage} | {secs:.1f} |")
    print(f"| **total (train job)** | **{total:.1f}** |\n")
    report = result.report
    if "truth" not in report["model"]:
        return
    print(
        "| inspection rate | model precision | model recall | baseline precision | baseline recall | gain |"
    )
    print("|---|---:|---:|---:|---:|---:|")
    for key, m in report["model"]["truth"]["rates"].items():
        b = report["baseline"]["truth"]["rates"][key]
        gain = m["recall"] / b["recall"] if b["recall"] else float("inf")
        print(f"| {key.removeprefix('at_').replace('pct', '%')} | {m['precision']:.3f} | {m['recall']:.3f} | "
              f"{b['precision']:.3f} | {b['recall']:.3f} | {gain:.1f}x |")  # fmt: skip
    m, b = report["model"]["truth"], report["baseline"]["truth"]
    print(f"\nPR-AUC model {m['pr_auc']:.3f} vs baseline {b['pr_auc']:.3f}; "
          f"ROC-AUC {m['roc_auc']:.3f} vs {b['roc_auc']:.3f}; holdout lines {m['lines']:,}, "
          f"circumvention lines {m['positives']:,}")  # fmt: skip
    print("\n| scheme | lines | recall@1% | recall@5% | recall@10% | baseline recall@5% |")
    print("|---|---:|---:|---:|---:|---:|")
    for name, part in {**m["schemes"], "never inspected": m["never_inspected"]}.items():
        r = part["recall"]
        base = b["schemes"].get(name, b["never_inspected"] if name == "never inspected" else None)
        cells = [f"{r[k]:.2f}" for k in ("at_1pct", "at_5pct", "at_10pct")]
        cells.append(f"{base['recall']['at_5pct'] if base else 0:.2f}")
        print(f"| {name} | {part['positives']:,} | {' | '.join(cells)} |")


if __name__ == "__main__":
    main()
