"""What a training run logs to MLflow: parameters, metrics, tags, artifacts and plots (docs/mlflow.md).

Every figure computed on the holdout (model and rules baseline, against outcomes and ground truth) is a
metric under `holdout.`, e.g. `holdout.model.outcomes.rates.at_5pct.precision`: the service shows exactly
those as the serving version's holdout metrics. Fit counts, fusion weights and thresholds, split sizes,
the promotion comparison and stage times have their own prefixes. A holdout with no outcomes to measure
against logs none of those figures and carries the tag `holdout.outcomes_absent` saying why.
"""

import json
from pathlib import Path
from typing import Any

import numpy as np

from roundabout.features import FEATURES
from roundabout.models.mlflow_service import HOLDOUT_PREFIX, MlflowService
from roundabout.training import plots
from roundabout.training.config import TrainConfig
from roundabout.training.fit import Fitted
from roundabout.training.metrics import flatten, outcomes_absent
from roundabout.training.promote import PromotionDecision
from roundabout.training.split import Split, labels

#: The tag of a run whose holdout has no outcomes to measure against; its value says why.
OUTCOMES_ABSENT_TAG = "holdout.outcomes_absent"


def flat_params(config: TrainConfig) -> dict[str, str]:
    """The whole config as dotted parameters (`classifier.learning_rate`, `split.kind`, ...)."""

    def walk(body: dict[str, Any], prefix: str = "") -> dict[str, str]:
        out: dict[str, str] = {}
        for key, value in body.items():
            if isinstance(value, dict):
                out.update(walk(value, f"{prefix}{key}."))
            else:
                out[f"{prefix}{key}"] = str(value)[:500]
        return out

    return walk(config.model_dump(mode="json"))


def log_run(
    mlflow_service: MlflowService,
    run_id: str,
    config: TrainConfig,
    data_dir: Path,
    finger: dict[str, Any],
    config_hash: str,
    fitted: Fitted,
    report: dict[str, Any],
    split: Split,
) -> None:
    """Parameters, metrics, tags, artifacts and plots of one training run."""
    model = fitted.model
    params = flat_params(config) | {"data_dir": str(data_dir), "data.content_hash": finger["content_hash"]}
    mlflow_service.log_params(run_id, params)
    metrics = flatten(report, HOLDOUT_PREFIX)
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
    mlflow_service.log_metrics(run_id, metrics)
    tags = {"data.content_hash": finger["content_hash"], "config.hash": config_hash}
    screened = split.screening.versions if split.screening is not None else []
    tags["sanctions_lists"] = ", ".join(f"{v.list_name}:{v.version}" for v in screened) or "none"
    if absent := outcomes_absent(report):
        tags[OUTCOMES_ABSENT_TAG] = absent
    mlflow_service.set_tags(run_id, tags | {"features.hash": str(model.artifacts.content_hash)})
    mlflow_service.log_dict(run_id, finger, "data/fingerprint.json")
    catalogue = {f.name: f.description for f in FEATURES}
    inputs = {
        "features": [{"name": n, "description": catalogue.get(n, "")} for n in model.feature_names],
        "categorical": model.categorical,
        "anomaly_inputs": [model.base_features[i] for i in model.anomaly_columns],
    }
    mlflow_service.log_dict(run_id, inputs, "model/features.json")
    mlflow_service.log_dict(run_id, json.loads(json.dumps(report, default=float)), "evaluation/report.json")
    calibration = {"fusion": model.fusion.to_dict(), "thresholds": model.thresholds.to_dict()}
    mlflow_service.log_dict(run_id, calibration, "model/calibration.json")
    log_search(mlflow_service, run_id, fitted)
    log_plots(mlflow_service, run_id, report, fitted, split)


def log_search(mlflow_service: MlflowService, run_id: str, fitted: Fitted) -> None:
    """What the run learnt from the data itself: the inputs it found unusable (`inputs/unusable.json`), the
    families kept, added and dropped and the tuning (`search/*.json`, tags), and the configuration that
    trains the same model again without searching (`config/chosen.yaml`)."""
    mlflow_service.log_dict(run_id, {"unusable": fitted.unusable}, "inputs/unusable.json")
    tags = {"inputs.unusable": str(len(fitted.unusable))}
    search = fitted.search
    if search is not None:
        mlflow_service.log_dict(run_id, search.to_dict(), "search/search.json")
        if search.skipped:
            tags["search.skipped"] = search.skipped
        if search.selection is not None:
            tags["search.families_added"] = ", ".join(search.added) or "none"
            tags["search.families_dropped"] = ", ".join(search.dropped) or "none"
        if search.tuning is not None:
            tags["search.tuned"] = "yes" if search.tuning.taken else "no: the defaults held"
            mlflow_service.log_metrics(
                run_id,
                {
                    "search.valid_ap_given": search.tuning.score_given,
                    "search.valid_ap_best": search.tuning.score_best,
                },
            )
    mlflow_service.set_tags(run_id, tags)
    if fitted.chosen is not None:
        mlflow_service.log_dict(run_id, fitted.chosen.model_dump(mode="json"), "config/chosen.yaml")


def log_plots(
    mlflow_service: MlflowService, run_id: str, report: dict[str, Any], fitted: Fitted, split: Split
) -> None:
    """The plots of docs/mlflow.md under `plots/` (those against outcomes only when the holdout has some)."""
    figures: dict[str, Any] = {}
    if not outcomes_absent(report):
        figures["plots/rates_vs_baseline_outcomes.png"] = plots.rates_vs_baseline(report, "outcomes")
        label = labels(split.data)[split.holdout]
        inspected = ~np.isnan(label)
        figures["plots/pr_curve_outcomes.png"] = plots.pr_curve(
            {"model": (fitted.holdout_risk[inspected], label[inspected] == 1.0)},
            "PR curve, inspected holdout lines",
        )
        table = report["model"]["outcomes"].get("calibration", {}).get("table", [])
        figures["plots/calibration.png"] = plots.calibration_curve(table)
    if "truth" in report["model"]:
        figures["plots/rates_vs_baseline_truth.png"] = plots.rates_vs_baseline(report, "truth")
    figures["plots/feature_importance.png"] = plots.feature_importance(fitted.model.classifier.importance())
    channels = fitted.model.thresholds.channel(fitted.holdout_risk)
    figures["plots/score_by_channel.png"] = plots.score_by_channel(fitted.holdout_risk, channels)
    for path, fig in figures.items():
        mlflow_service.log_figure(run_id, fig, path)
        plots.close(fig)


def log_promotion(mlflow_service: MlflowService, run_id: str, decision: PromotionDecision) -> None:
    """The comparison with the champion: `promotion.json`, tags and the two values."""
    mlflow_service.log_dict(run_id, decision.to_dict(), "promotion.json")
    mlflow_service.set_tags(run_id, {"promotion.alias": decision.alias, "promotion.reason": decision.reason})
    values: dict[str, float] = {}
    if decision.new_value is not None:
        values["promotion.new_value"] = decision.new_value
    if decision.champion_value is not None:
        values["promotion.champion_value"] = decision.champion_value
    mlflow_service.log_metrics(run_id, values)


def log_timings(mlflow_service: MlflowService, run_id: str, timings: dict[str, float]) -> None:
    mlflow_service.log_metrics(run_id, {f"time.{k.replace(' ', '_')}_s": v for k, v in timings.items()})
