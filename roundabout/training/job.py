"""The training job behind `roundabout train`: load, split, fit, evaluate, log, register, promote.

One MLflow run holds the parameters (the whole config, flattened), the data fingerprint (content hash of
the data files, row counts and date ranges of each split), the feature list, every metric of the holdout
report (model and rules baseline, against outcomes and, in simulation, ground truth), plots, the model
(pyfunc with signature and input example) registered under the model name, and the promotion comparison.
"""

import hashlib
import json
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import mlflow
import numpy as np
from mlflow.tracking import MlflowClient

from roundabout.data.io import INSPECTIONS_FILE, LINES_FILE, TRUTH_FILE, read_folder
from roundabout.features import FEATURES
from roundabout.models.pyfunc import load_risk_model, log_risk_model
from roundabout.models.risk_model import RiskModel
from roundabout.settings import get_settings
from roundabout.training import plots
from roundabout.training.baseline import RulesBaseline
from roundabout.training.config import TrainConfig
from roundabout.training.evaluate import flatten, full_report, rate_key
from roundabout.training.fit import Fitted, fit_risk_model, holdout_features
from roundabout.training.registry import (
    CHAMPION,
    PromotionDecision,
    apply,
    champion_version,
    decide,
    refused,
    validation_problem,
)
from roundabout.training.split import Split, split_data, split_folders
from roundabout.training.tracking import configure_tracking, ensure_experiment

STAGES = [
    "load",
    "split",
    "features",
    "fit classifier",
    "fit anomaly",
    "calibrate",
    "evaluate",
    "log",
    "register",
]

Mark = Callable[[str], None]


@dataclass
class TrainResult:
    run_id: str
    experiment_id: str
    model: RiskModel
    report: dict[str, Any]
    decision: PromotionDecision | None
    version: str | None
    model_uri: str | None
    timings: dict[str, float] = field(default_factory=dict)
    counts: dict[str, int] = field(default_factory=dict)


class _Clock:
    """Stage marker that also times each stage."""

    def __init__(self, mark: Mark | None) -> None:
        self.mark = mark or (lambda stage: None)
        self.timings: dict[str, float] = {}
        self._stage: str | None = None
        self._t = time.perf_counter()

    def __call__(self, stage: str) -> None:
        self._close()
        self._stage = stage
        self.mark(stage)

    def _close(self) -> None:
        now = time.perf_counter()
        if self._stage is not None:
            self.timings[self._stage] = self.timings.get(self._stage, 0.0) + now - self._t
        self._t = now

    def done(self) -> dict[str, float]:
        self._close()
        self._stage = None
        return self.timings


def load_split(data_dir: Path, config: TrainConfig) -> Split:
    if config.split.kind == "folders":
        assert config.split.valid_data is not None and config.split.holdout_data is not None
        return split_folders(data_dir, config.split.valid_data, config.split.holdout_data)
    return split_data(read_folder(data_dir), config.split)


def fingerprint(folders: list[Path], split: Split) -> dict[str, Any]:
    """Content hash of the data files, row counts and the date range of each split."""
    digest = hashlib.sha256()
    for folder in folders:
        for name in (LINES_FILE, INSPECTIONS_FILE, TRUTH_FILE):
            path = Path(folder) / name
            if path.exists():
                digest.update(name.encode())
                with path.open("rb") as fh:
                    for block in iter(lambda fh=fh: fh.read(1 << 20), b""):
                        digest.update(block)
    data = split.data
    return {
        "content_hash": digest.hexdigest(),
        "lines": len(data.lines),
        "inspections": len(data.inspections),
        "truth": data.truth is not None,
        "extra_columns": data.extra_columns,
        "splits": split.summary(),
    }


def evaluate_holdout(
    split: Split, scores: dict[str, np.ndarray], config: TrainConfig, prob: np.ndarray | None
) -> dict[str, Any]:
    """The holdout report of each scorer (model, baseline, ...) on the same lines."""
    from roundabout.training.split import labels

    hold = split.data.lines[split.holdout]
    return full_report(
        hold["line_id"].to_numpy(dtype=object),
        hold["value_usd"].to_numpy(dtype="float64", na_value=0.0),
        labels(split.data)[split.holdout],
        scores,
        split.data.truth,
        config.evaluation.inspection_rates,
        prob,
        config.evaluation.calibration_bins,
    )


def baseline_scores(split: Split) -> np.ndarray:
    lines = split.data.lines
    baseline = RulesBaseline().fit(lines[split.train])
    return baseline.score(lines[split.holdout], history=lines)


def promotion_value(report: dict[str, Any], config: TrainConfig) -> float:
    against = config.promotion.against
    if against not in report:
        raise ValueError(f"promotion against {against!r}: the data has no {against}")
    return float(report[against]["rates"][rate_key(config.promotion.rate)][config.promotion.metric])


def train(
    data_dir: Path,
    config: TrainConfig | None = None,
    experiment: str | None = None,
    register: str | None = None,
    mark: Mark | None = None,
) -> TrainResult:
    """Run the whole job; `mark(stage)` is called at the start of each stage (Rich progress in the CLI)."""
    config = config or TrainConfig()
    experiment = experiment or config.experiment
    name = register or config.registered_model or get_settings().registered_model
    clock = _Clock(mark)

    clock("load")
    split = load_split(Path(data_dir), config)
    clock("split")
    folders = [Path(data_dir)]
    if config.split.kind == "folders":
        folders += [Path(config.split.valid_data), Path(config.split.holdout_data)]  # type: ignore[arg-type]
    finger = fingerprint(folders, split)
    if config.promotion.against == "truth" and split.data.truth is None:
        raise ValueError("promotion.against is 'truth' but the data has no ground truth")

    fitted = fit_risk_model(split, config, clock)
    model = fitted.model
    clock("evaluate")
    base = baseline_scores(split)
    report = evaluate_holdout(
        split, {"model": fitted.holdout_risk, "baseline": base}, config, fitted.holdout_risk
    )

    clock("log")
    configure_tracking()
    experiment_id = ensure_experiment(experiment)
    with mlflow.start_run(experiment_id=experiment_id) as run:
        _log_run(run.info.run_id, config, data_dir, finger, fitted, report, split)
        model_info = None
        if config.log_model:
            example = split.data.lines[split.holdout].head(3)
            model_info = log_risk_model(model, example, "model", registered_model_name=name)

        clock("register")
        decision: PromotionDecision | None = None
        version: str | None = None
        if model_info is not None and model_info.registered_model_version is not None:
            version = str(model_info.registered_model_version)
            decision = _promote(name, version, report["model"], split, fitted, config)
            mlflow.log_dict(decision.to_dict(), "promotion.json")
            mlflow.set_tags({"promotion.alias": decision.alias, "promotion.reason": decision.reason})
            mlflow.log_metric("promotion.new_value", decision.new_value)
            if decision.champion_value is not None:
                mlflow.log_metric("promotion.champion_value", decision.champion_value)
        timings = clock.done()
        mlflow.log_metrics({f"time.{k.replace(' ', '_')}_s": v for k, v in timings.items()})
    return TrainResult(
        run.info.run_id,
        experiment_id,
        model,
        report,
        decision,
        version,
        model_info.model_uri if model_info else None,
        timings,
        fitted.counts,
    )


def _promote(
    name: str, version: str, new_report: dict[str, Any], split: Split, fitted: Fitted, config: TrainConfig
) -> PromotionDecision:
    client = MlflowClient()
    metric = f"{config.promotion.against}.{config.promotion.metric}@{config.promotion.rate:g}"
    new_value = promotion_value(new_report, config)
    current = champion_version(client, name)
    champion_value: float | None = None
    if current is not None and current != version:
        try:
            champion = load_risk_model(f"models:/{name}@{CHAMPION}")
            feats = holdout_features(champion, split, fitted.features, fitted.model.artifacts.content_hash)
            hold_lines = split.data.lines[split.holdout]
            risk = champion.score_batch(champion.matrix(feats, hold_lines)).risk_score
            champion_report = evaluate_holdout(split, {"model": risk}, config, None)["model"]
            champion_value = promotion_value(champion_report, config)
        except Exception as exc:  # a champion that cannot be loaded or scored cannot stay in service
            why = f"champion unusable: {exc}"
            decision = PromotionDecision(metric, new_value, current, None, True, CHAMPION, why)
            return _gated(client, name, version, decision, split, fitted)
    decision = decide(metric, new_value, current if champion_value is not None else None, champion_value,
                      config.promotion.min_gain)  # fmt: skip
    return _gated(client, name, version, decision, split, fitted)


def _gated(
    client: MlflowClient, name: str, version: str, decision: PromotionDecision, split: Split, fitted: Fitted
) -> PromotionDecision:
    """Apply `decision`, unless it would make the version champion and the version fails validation."""
    if decision.promoted:
        problem = _registered_version_problem(name, version, split, fitted)
        if problem is not None:
            decision = refused(decision.metric, decision.new_value, decision.champion_version, problem)
    apply(client, name, version, decision)
    return decision


def _registered_version_problem(name: str, version: str, split: Split, fitted: Fitted) -> str | None:
    """Load the version as the service will (from the registry) and smoke-score it on the holdout."""
    try:
        logged = load_risk_model(f"models:/{name}/{version}")
        feats = holdout_features(logged, split, fitted.features, fitted.model.artifacts.content_hash)
        return validation_problem(logged, feats, split.data.lines[split.holdout])
    except Exception as exc:  # unreadable or unscorable: exactly what must never reach an alias
        return f"cannot load or score version {version}: {type(exc).__name__}: {str(exc)[:300]}"


def _flat_params(config: TrainConfig) -> dict[str, str]:
    def walk(body: dict[str, Any], prefix: str = "") -> dict[str, str]:
        out: dict[str, str] = {}
        for key, value in body.items():
            if isinstance(value, dict):
                out.update(walk(value, f"{prefix}{key}."))
            else:
                out[f"{prefix}{key}"] = str(value)[:500]
        return out

    return walk(config.model_dump(mode="json"))


def _log_run(
    run_id: str, config: TrainConfig, data_dir: Path, finger: dict[str, Any], fitted: Fitted,
    report: dict[str, Any], split: Split,
) -> None:  # fmt: skip
    model = fitted.model
    params = _flat_params(config) | {"data_dir": str(data_dir), "data.content_hash": finger["content_hash"]}
    mlflow.log_params(params)
    metrics = flatten(report)
    metrics |= {f"data.{part}_lines": float(s["lines"]) for part, s in finger["splits"].items()}
    metrics |= {f"fit.{k}": float(v) for k, v in fitted.counts.items()}
    metrics |= {
        "fit.best_iteration": float(model.classifier.best_iteration_),
        "fusion.a": model.fusion.a,
        "fusion.b": model.fusion.b,
        "fusion.c": model.fusion.c,
        "channels.red_threshold": model.thresholds.red,
        "channels.yellow_threshold": model.thresholds.yellow,
    }
    mlflow.log_metrics(metrics)
    mlflow.set_tags(
        {"data.content_hash": finger["content_hash"], "features.hash": str(model.artifacts.content_hash)}
    )
    mlflow.log_dict(finger, "data/fingerprint.json")
    catalogue = {f.name: f.description for f in FEATURES}
    mlflow.log_dict(
        {
            "features": [{"name": n, "description": catalogue.get(n, "")} for n in model.feature_names],
            "categorical": model.categorical,
            "anomaly_inputs": [model.base_features[i] for i in model.anomaly_columns],
        },
        "model/features.json",
    )  # fmt: skip
    mlflow.log_dict(json.loads(json.dumps(report, default=float)), "evaluation/report.json")
    mlflow.log_dict(
        {"fusion": model.fusion.to_dict(), "thresholds": model.thresholds.to_dict()}, "model/calibration.json"
    )
    _log_plots(report, fitted, split)


def _log_plots(report: dict[str, Any], fitted: Fitted, split: Split) -> None:
    from roundabout.training.split import labels

    figures = {"plots/rates_vs_baseline_outcomes.png": plots.rates_vs_baseline(report, "outcomes")}
    if "truth" in report["model"]:
        figures["plots/rates_vs_baseline_truth.png"] = plots.rates_vs_baseline(report, "truth")
    label = labels(split.data)[split.holdout]
    inspected = ~np.isnan(label)
    figures["plots/pr_curve_outcomes.png"] = plots.pr_curve(
        {"model": (fitted.holdout_risk[inspected], label[inspected] == 1.0)},
        "PR curve, inspected holdout lines",
    )
    table = report["model"]["outcomes"].get("calibration", {}).get("table", [])
    figures["plots/calibration.png"] = plots.calibration_curve(table)
    figures["plots/feature_importance.png"] = plots.feature_importance(fitted.model.classifier.importance())
    channels = fitted.model.thresholds.channel(fitted.holdout_risk)
    figures["plots/score_by_channel.png"] = plots.score_by_channel(fitted.holdout_risk, channels)
    for path, fig in figures.items():
        mlflow.log_figure(fig, path)
        plots.close(fig)


def evaluate_model(
    model_uri: str,
    data_dir: Path,
    since: str | None = None,
    rates: list[float] | None = None,
    mark: Mark | None = None,
) -> dict[str, Any]:
    """Re-evaluate a logged or registered model on a canonical data folder (lines from `since` on).

    Features are built over the whole folder with the model's own artifacts (so history before `since`
    counts); the rules baseline learns its HS6 medians from the lines before `since` (all lines without it).
    """
    mark = mark or (lambda stage: None)
    config = TrainConfig()
    if rates:
        config.evaluation.inspection_rates = rates
    mark("load model")
    configure_tracking()
    model = load_risk_model(model_uri)
    mark("load data")
    data = read_folder(Path(data_dir))
    lines = data.lines
    dates = lines["date"].to_numpy(dtype="datetime64[D]")
    target = dates >= np.datetime64(since, "D") if since else np.ones(len(lines), dtype=bool)
    if not target.any():
        raise ValueError(f"no lines on or after {since}")
    reference = ~target if (~target).any() else target
    split = Split(data, reference & ~target, np.zeros(len(lines), dtype=bool), target)
    mark("features")
    features = model.features_of(data)[target]
    mark("score")
    risk = model.score_batch(model.matrix(features, lines[target])).risk_score
    baseline = RulesBaseline().fit(lines[reference]).score(lines[target], history=lines)
    mark("evaluate")
    report = evaluate_holdout(split, {"model": risk, "baseline": baseline}, config, risk)
    report["meta"] = {
        "model_uri": model_uri,
        "data": str(data_dir),
        "lines": int(target.sum()),
        "since": since or str(dates.min()),
        "until": str(dates.max()),
    }
    return report
