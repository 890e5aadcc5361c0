"""Offline scoring throughput (`roundabout score`) against raw LightGBM prediction, in the same run.

    .venv/bin/python bench/bench_score.py [--lines 1000000] [--workdir /tmp/roundabout-bench-score]

Trains a model on a 100,000-line simulated world (once, cached in --workdir), simulates a world of
--lines lines, then times:
- `roundabout score`'s work (`RiskModel.score_data`: point-in-time features, classifier, anomaly detector,
  fusion, channels; no explanations), split into features and scoring;
- the peer: the native LightGBM booster's `predict` on the very same feature matrix (raw prediction,
  no anomaly part, no features);
- the model step's two tree ensembles on their own, on the same matrix: the classifier (the peer's work
  through `RiskModel`) and the anomaly detector (its isolation forest), to show what each costs against
  the peer.
Prints lines per second and the ratio to the peer, the CPU seconds of each step (all threads of the
process: on a shared machine they move less than wall-clock time) and the load average before and after;
figures go into docs/benchmarks.md.
"""

import argparse
import os
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--lines", type=int, default=1_000_000)
    parser.add_argument("--workdir", type=Path, default=Path("/tmp/roundabout-bench-score"))
    args = parser.parse_args()
    args.workdir.mkdir(parents=True, exist_ok=True)
    env = {
        **os.environ,
        "MLFLOW_TRACKING_URI": f"sqlite:///{args.workdir / 'mlflow.db'}",
        "ROUNDABOUT_HOME": str(args.workdir / "home"),
    }
    run = [sys.executable, "-m", "roundabout.cli"]
    train_dir, score_dir = args.workdir / "train", args.workdir / f"world-{args.lines}"
    if not (args.workdir / "mlflow.db").exists():
        subprocess.run([*run, "simulate", "--out", str(train_dir), "--lines", "100000"], env=env, check=True)
        subprocess.run([*run, "train", "--data", str(train_dir)], env=env, check=True)
    if not (score_dir / "lines.parquet").exists():
        subprocess.run(
            [*run, "simulate", "--out", str(score_dir), "--lines", str(args.lines), "--seed", "99"],
            env=env,
            check=True,
        )

    import mlflow

    from roundabout.data.io import read_folder
    from roundabout.models.pyfunc import load_risk_model

    mlflow.set_tracking_uri(env["MLFLOW_TRACKING_URI"])
    model = load_risk_model("models:/roundabout@champion")
    data = read_folder(score_dir)
    n = len(data.lines)

    load_before = os.getloadavg()
    start, cpu = time.perf_counter(), time.process_time()
    features = model.features_of(data)
    X = model.matrix(features, data.lines)
    features_s, features_cpu = time.perf_counter() - start, time.process_time() - cpu
    start, cpu = time.perf_counter(), time.process_time()
    scores = model.score_batch(X, explain=False)
    scoring_s, scoring_cpu = time.perf_counter() - start, time.process_time() - cpu
    total_s = features_s + scoring_s
    assert len(scores.risk_score) == n

    booster = model.classifier.booster
    Xc = model.classifier_part(X)  # the classifier's columns of X, as score_batch gives the booster
    start, cpu = time.perf_counter(), time.process_time()
    booster.predict(Xc, raw_score=True)
    raw_s, raw_cpu = time.perf_counter() - start, time.process_time() - cpu
    start, cpu = time.perf_counter(), time.process_time()
    model.classifier.raw_score(Xc)
    classifier_s, classifier_cpu = time.perf_counter() - start, time.process_time() - cpu
    start, cpu = time.perf_counter(), time.process_time()
    model.anomaly.anomaly_score(X, columns=model.anomaly_columns)
    anomaly_s, anomaly_cpu = time.perf_counter() - start, time.process_time() - cpu
    load_after = os.getloadavg()

    print(
        f"{n:,} lines, {X.shape[1]} model inputs ({Xc.shape[1]} to the classifier), {os.cpu_count()} cores;"
        f" classifier {booster.num_trees()}"
        f" trees, anomaly detector {model.anomaly.n_estimators} trees"
    )
    print("| step | seconds | lines/s | vs raw LightGBM | CPU seconds |")
    print("|---|---:|---:|---:|---:|")
    forest = model.anomaly.n_estimators
    rows = [
        ("score (features + model, no reasons)", total_s, features_cpu + scoring_cpu),
        ("  of which features", features_s, features_cpu),
        ("  of which model (classifier, anomaly, fusion, channels)", scoring_s, scoring_cpu),
        ("peer: raw LightGBM predict on the same matrix", raw_s, raw_cpu),
        ("alone: the classifier (LightGBM, through RiskModel)", classifier_s, classifier_cpu),
        (f"alone: the anomaly detector ({forest} isolation trees)", anomaly_s, anomaly_cpu),
    ]
    for name, seconds, cpu_s in rows:
        print(f"| {name} | {seconds:.2f} | {n / seconds:,.0f} | {seconds / raw_s:.2f}x | {cpu_s:.2f} |")
    print("load average (1, 5, 15 min) before: {:.2f} {:.2f} {:.2f}".format(*load_before))
    print("load average (1, 5, 15 min) after:  {:.2f} {:.2f} {:.2f}".format(*load_after))


if __name__ == "__main__":
    main()
