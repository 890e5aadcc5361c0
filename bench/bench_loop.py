"""The loop simulation of the default world: wall time, where it goes, and what it finds, beside a peer in the
same run: one `roundabout train` of the deployment's full history (what a single retraining costs), so the
loop's time reads as a number of trainings.

    .venv/bin/python bench/bench_loop.py [--lines 150000 --periods 12 --seed 7 --out bench/results/loop.json]

Runs `roundabout.loop.run.run_loop` with the default policies (greedy; uniform 2, 5, 10%; anomaly 5%; the
5% policies without inverse-propensity weighting) into a private MLflow store, writes the summary, the
per-period table, the per-retraining precision checks and the curves (PNG) beside `--out`, and the figures
(with the machine, the commit and the seconds per stage) to `--out`.
"""

import argparse
import json
import os
import platform
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from roundabout.loop.config import LoopConfig
from roundabout.loop.report import summary, write
from roundabout.loop.run import run_loop, train_config
from roundabout.models.mlflow_service import MlflowService


def _commit() -> str:
    try:
        return subprocess.run(
            ["git", "rev-parse", "--short", "HEAD"], capture_output=True, text=True
        ).stdout.strip()
    except OSError:
        return "unknown"


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--lines", type=int, default=150_000)
    parser.add_argument("--periods", type=int, default=12)
    parser.add_argument("--seed", type=int, default=7)
    parser.add_argument("--out", type=Path, default=Path("bench/results/loop.json"))
    args = parser.parse_args()
    config = LoopConfig(lines=args.lines, periods=args.periods, seed=args.seed)
    stage_seconds: dict[str, float] = {}
    with tempfile.TemporaryDirectory() as tmp:
        work = Path(tmp)
        service = MlflowService(f"sqlite:///{work / 'mlflow.db'}", work / "mlartifacts")
        last = [time.perf_counter(), ""]

        def progress(stage: str) -> None:
            now = time.perf_counter()
            if last[1]:
                kind = "retrain" if "retrain" in str(last[1]) else str(last[1]).split(":")[-1].strip()
                kind = "period" if kind.startswith("period") else kind
                stage_seconds[kind] = stage_seconds.get(kind, 0.0) + now - float(last[0])
            last[0], last[1] = now, stage
            print(f"{stage}", file=sys.stderr, flush=True)

        start = time.perf_counter()
        result = run_loop(config, work / "loop", service, progress)
        total = time.perf_counter() - start
        progress("end")
        paths = write(result, args.out.parent / "loop")

        # the peer: one training on the whole history up to the last period, through the same code
        import pandas as pd

        from roundabout.data.io import CanonicalData, write_folder
        from roundabout.loop.config import PolicySpec
        from roundabout.simulation.world import simulate_world
        from roundabout.training.train import train

        world = simulate_world(config.world())
        cut = pd.Timestamp(config.deploy_start) + pd.DateOffset(months=config.periods - 1)
        keep = (world.data.lines["date"] < cut).to_numpy()
        data = CanonicalData(
            world.data.lines[keep],
            world.data.inspections[world.data.inspections["line_id"].isin(world.data.lines["line_id"][keep])],
        )
        write_folder(data, work / "peer", {"source": "bench"})
        peer_config = train_config(
            config, PolicySpec(name="peer", exploration_rate=0.05), cut, pd.Timedelta(days=31)
        )
        t = time.perf_counter()
        train(work / "peer", service, peer_config, register="peer")
        peer = time.perf_counter() - t

    retrains = len(result.retrains) + 1
    table = summary(result)
    body = {
        "machine": {
            "cpus": os.cpu_count(),
            "platform": platform.platform(),
            "python": platform.python_version(),
        },
        "commit": _commit(),
        "config": config.model_dump(mode="json"),
        "seconds": {"total": total, **{k: round(v, 1) for k, v in stage_seconds.items()}},
        "trainings": retrains,
        "peer_train_seconds": peer,
        "total_over_peer": total / peer,
        "summary": json.loads(table.reset_index().to_json(orient="records")),
        "files": {k: str(v) for k, v in paths.items()},
    }
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(json.dumps(body, indent=1, default=str))
    print(table.to_string())
    print(
        f"total {total:.0f} s for {retrains} trainings and {len(result.periods)} policy-periods; "
        f"one training of the full history {peer:.1f} s (the loop = {total / peer:.1f} of them)"
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())
