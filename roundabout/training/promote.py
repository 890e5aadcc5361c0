"""Promotion: which alias a newly registered version gets, if any.

First the registered version itself is loaded back from the registry, as the service would load it, and
smoke-scored on holdout lines (`validation_problem`): a version whose artifact is corrupt, whose feature
list the features code does not compute, or whose scores are not finite probabilities gets no alias at
all, neither `@champion` nor `@challenger`. A sound version becomes `@champion` only if its promotion
metric on the holdout beats the current champion's on the *same* holdout lines by more than `min_gain`
(the champion is re-scored there, not taken from its own run); otherwise it becomes `@challenger`. With no
champion yet, or a champion that can no longer be loaded or scored, the new version becomes champion.
A holdout with nothing to compare on (no outcomes: a held-out file loaded without its labels) moves no
`@champion`: the version becomes `@challenger` and the decision says why, since 0 against 0 would either
crown an unmeasured model or block every later one.
"""

from dataclasses import asdict, dataclass
from typing import Any

import numpy as np
import pandas as pd

from roundabout.errors import ConfigError
from roundabout.models.mlflow_service import CHALLENGER, CHAMPION, MlflowService
from roundabout.models.risk_model import RiskModel
from roundabout.training.config import TrainConfig
from roundabout.training.evaluate import evaluate_holdout
from roundabout.training.fit import Fitted, holdout_features
from roundabout.training.metrics import ABSENT, rate_key
from roundabout.training.split import Split


@dataclass
class PromotionDecision:
    """Outcome of a promotion check; `alias` is empty for a refused version."""

    metric: str
    new_value: float | None
    champion_version: str | None
    champion_value: float | None
    promoted: bool
    alias: str
    reason: str

    def to_dict(self) -> dict[str, object]:
        return asdict(self)


def decide(
    metric: str, new_value: float, champion: str | None, champion_value: float | None, min_gain: float
) -> PromotionDecision:
    """Pure rule: promote when there is no champion or the new value beats it by more than `min_gain`."""
    if champion is None or champion_value is None:
        return PromotionDecision(metric, new_value, None, None, True, CHAMPION, "no champion yet")
    if new_value > champion_value + min_gain:
        why = f"{metric} {new_value:.4f} beats the champion's {champion_value:.4f} (min gain {min_gain})"
        return PromotionDecision(metric, new_value, champion, champion_value, True, CHAMPION, why)
    why = f"{metric} {new_value:.4f} does not beat the champion's {champion_value:.4f} (min gain {min_gain})"
    return PromotionDecision(metric, new_value, champion, champion_value, False, CHALLENGER, why)


def refused(metric: str, new_value: float | None, champion: str | None, problem: str) -> PromotionDecision:
    """The decision for a version that failed `validation_problem`: no alias, the champion stays."""
    return PromotionDecision(metric, new_value, champion, None, False, "", f"refused: {problem}")


def not_compared(metric: str, champion: str | None, why: str) -> PromotionDecision:
    """The decision when the holdout has nothing to compare on (`why`): `@challenger`, the champion stays."""
    stays = f"@champion stays version {champion}" if champion else "no version is @champion"
    reason = (
        f"not compared: {why}; {stays} (evaluate the version against labels, then set @champion by hand "
        "if it earns it)"
    )
    return PromotionDecision(metric, None, champion, None, False, CHALLENGER, reason)


def validation_problem(
    model: RiskModel, features: pd.DataFrame, lines: pd.DataFrame, sample: int = 500
) -> str | None:
    """Why a loaded version must not get an alias, or None: it must compute from the features we build and
    give finite risk scores in [0, 1] and finite anomaly scores on up to `sample` holdout lines."""
    missing = [f for f in model.base_features if f not in features.columns]
    if missing:
        return f"feature list does not match the features code: {missing[:5]} are not computed"
    rows = features.head(sample)
    frame = lines.head(sample) if model.target_stats.columns else None
    scores = model.score_batch(model.matrix(rows, frame))
    risk, anomaly = np.asarray(scores.risk_score), np.asarray(scores.anomaly_score)
    if not (np.isfinite(risk).all() and np.isfinite(anomaly).all()):
        bad = int((~(np.isfinite(risk) & np.isfinite(anomaly))).sum())
        return f"smoke scores are not finite on {bad} of {len(risk)} holdout lines"
    if risk.min() < 0 or risk.max() > 1:
        return f"smoke risk scores leave [0, 1] (min {risk.min():.3g}, max {risk.max():.3g})"
    return None


def promotion_metric(config: TrainConfig) -> str:
    p = config.promotion
    return f"{p.against}.{p.metric}@{p.rate:g}"


def promotion_value(report: dict[str, Any], config: TrainConfig) -> float | None:
    """The promotion metric in one scorer's holdout report; None when its figures are absent."""
    p = config.promotion
    if p.against not in report:
        raise ConfigError(f"promotion.against is {p.against!r} but the data has no {p.against}")
    if ABSENT in report[p.against]:
        return None
    return float(report[p.against]["rates"][rate_key(p.rate)][p.metric])


def promote(
    mlflow_service: MlflowService,
    name: str,
    version: str,
    new_report: dict[str, Any],
    split: Split,
    fitted: Fitted,
    config: TrainConfig,
) -> PromotionDecision:
    """Validate the registered version, compare it with the champion, set the alias it earns (if any)."""
    metric = promotion_metric(config)
    new_value = promotion_value(new_report, config)
    current = mlflow_service.alias_version(name, CHAMPION)
    problem = registered_version_problem(mlflow_service, name, version, split, fitted)
    if problem is not None:
        return refused(metric, new_value, current, problem)
    if new_value is None:
        against = config.promotion.against
        decision = not_compared(
            metric, current, f"the holdout has no {against} ({new_report[against][ABSENT]})"
        )
    elif current is None or current == version:
        decision = decide(metric, new_value, None, None, config.promotion.min_gain)
    else:
        try:
            champion_value = _champion_value(mlflow_service, name, split, fitted, config)
        except Exception as exc:  # a champion that cannot be loaded or scored cannot stay in service
            why = f"champion unusable: {type(exc).__name__}: {str(exc)[:300]}"
            decision = PromotionDecision(metric, new_value, current, None, True, CHAMPION, why)
        else:
            decision = decide(metric, new_value, current, champion_value, config.promotion.min_gain)
    mlflow_service.set_alias(name, decision.alias, version)
    return decision


def registered_version_problem(
    mlflow_service: MlflowService, name: str, version: str, split: Split, fitted: Fitted
) -> str | None:
    """Load the version as the service will (from the registry) and smoke-score it on the holdout."""
    try:
        logged = mlflow_service.load_model(f"models:/{name}/{version}")
        feats = holdout_features(logged, split, fitted.features, fitted.model.artifacts.content_hash)
        return validation_problem(logged, feats, split.data.lines[split.holdout])
    except Exception as exc:  # unreadable or unscorable: exactly what must never reach an alias
        return f"cannot load or score version {version}: {type(exc).__name__}: {str(exc)[:300]}"


def _champion_value(
    mlflow_service: MlflowService, name: str, split: Split, fitted: Fitted, config: TrainConfig
) -> float:
    """The champion re-scored on the same holdout lines: its promotion metric there."""
    champion = mlflow_service.load_model(f"models:/{name}@{CHAMPION}")
    feats = holdout_features(champion, split, fitted.features, fitted.model.artifacts.content_hash)
    risk = champion.score_batch(champion.matrix(feats, split.data.lines[split.holdout])).risk_score
    value = promotion_value(evaluate_holdout(split, {"model": risk}, config, None)["model"], config)
    assert value is not None, "the new version's figures on the same holdout lines were not absent"
    return value
