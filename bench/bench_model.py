"""Single-line and batch cost of the risk model, beside peers measured in the same run.

Trains the model (no MLflow) on a simulated world, then times on holdout lines:
- one line: `RiskModel.score_one` with and without explanations, its parts (LightGBM's single-row fast
  path for the raw score and the contributions, the exported forest on one row), and the peers:
  scikit-learn's `IsolationForest.score_samples` on one row and LightGBM's `Booster.predict` on one row;
- a batch: `RiskModel.score_batch` with and without explanations, the pyfunc `predict` on lines plus
  store features, and the peers: raw `Booster.predict` and scikit-learn's `score_samples` on the same rows.

Usage: .venv/bin/python bench/bench_model.py [--lines 100000] [--seed 7] [--repeat 2000]
"""

import argparse
import platform
import statistics
import time
from collections.abc import Callable
from datetime import date

from roundabout.models.pyfunc import FEATURE_PREFIX, predict_frame
from roundabout.simulation import SimulationConfig, simulate
from roundabout.training.config import TrainConfig
from roundabout.training.fit import fit_risk_model
from roundabout.training.split import split_data


def per_call(fn: Callable[[int], object], n: int) -> tuple[float, float]:
    """Median and p99 of the wall time of n calls, in microseconds."""
    times = []
    for i in range(n):
        t = time.perf_counter()
        fn(i)
        times.append((time.perf_counter() - t) * 1e6)
    times.sort()
    return statistics.median(times), times[int(0.99 * (len(times) - 1))]


def once(fn: Callable[[], object], repeat: int = 3) -> float:
    best = float("inf")
    for _ in range(repeat):
        t = time.perf_counter()
        fn()
        best = min(best, time.perf_counter() - t)
    return best


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--lines", type=int, default=100_000)
    parser.add_argument("--seed", type=int, default=7)
    parser.add_argument("--repeat", type=int, default=2000)
    args = parser.parse_args()

    world = simulate(SimulationConfig(n_lines=args.lines, seed=args.seed))
    split = split_data(world, TrainConfig().split)
    fitted = fit_risk_model(split, TrainConfig())
    model = fitted.model
    lines = world.lines[split.holdout].reset_index(drop=True)
    features = fitted.features[split.holdout]
    X = model.matrix(features, lines)
    F = features.to_numpy(dtype="float64")
    records = lines.to_dict("records")
    n = min(args.repeat, len(X))
    booster = model.classifier.booster
    forest = model.anomaly.forest_
    A = X[:, model.anomaly_columns]
    A32 = model.anomaly.impute(A)

    single = {
        "RiskModel.score_one (no reasons)": per_call(
            lambda i: model.score_one(F[i], records[i], explain=False), n
        ),
        "RiskModel.score_one (with reasons)": per_call(lambda i: model.score_one(F[i], records[i]), n),
        "  part: classifier raw score, LightGBM single-row fast path": per_call(
            lambda i: model.classifier.raw_score_one(X[i]), n
        ),
        "  part: classifier contributions, LightGBM single-row fast path": per_call(
            lambda i: model.classifier.contributions_one(X[i]), n
        ),
        "  part: exported IsolationForest, 1 row": per_call(
            lambda i: model.anomaly.anomaly_score_one(A[i]), n
        ),
        "peer: sklearn IsolationForest.score_samples, 1 row": per_call(
            lambda i: forest.score_samples(A32[i : i + 1]), min(n, 300)
        ),
        "peer: LightGBM Booster.predict, 1 row, default threads": per_call(
            lambda i: booster.predict(X[i : i + 1], raw_score=True), n
        ),
        "peer: LightGBM Booster.predict, 1 row, num_threads=1": per_call(
            lambda i: booster.predict(X[i : i + 1], raw_score=True, num_threads=1), n
        ),
        "peer: LightGBM Booster.predict, contributions, 1 row, num_threads=1": per_call(
            lambda i: booster.predict(X[i : i + 1], pred_contrib=True, num_threads=1), n
        ),
    }
    frame = lines.copy()
    for name in model.base_features:
        frame[FEATURE_PREFIX + name] = features[name].to_numpy()
    rows = len(X)
    batch = {
        "RiskModel.score_batch (no reasons)": once(lambda: model.score_batch(X)),
        "RiskModel.score_batch (with reasons)": once(lambda: model.score_batch(X, explain=True), 1),
        "pyfunc predict (lines + store features, with reasons)": once(lambda: predict_frame(model, frame), 1),
        "  part: exported IsolationForest": once(lambda: model.anomaly.anomaly_score(A)),
        "peer: LightGBM Booster.predict (raw)": once(lambda: booster.predict(X, raw_score=True)),
        "peer: sklearn IsolationForest.score_samples": once(lambda: forest.score_samples(A32)),
    }

    print(f"Machine: {platform.machine()}, Python {platform.python_version()}, date {date.today()}")
    forest_text = f"forest {len(forest.estimators_)} trees on {len(model.anomaly_columns)} inputs"
    print(
        f"Model: {booster.num_trees()} trees, {len(model.feature_names)} inputs; {forest_text}; "
        f"{args.lines:,} lines\n"
    )
    print("| one line | median (µs) | p99 (µs) |\n|---|---:|---:|")
    for name, (med, p99) in single.items():
        print(f"| {name} | {med:,.0f} | {p99:,.0f} |")
    print(f"\n| batch of {rows:,} lines | seconds | lines/s |\n|---|---:|---:|")
    for name, secs in batch.items():
        print(f"| {name} | {secs:.3f} | {rows / secs:,.0f} |")


if __name__ == "__main__":
    main()
