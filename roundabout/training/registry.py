"""The model registry: register a version, compare it with the champion, move the aliases.

Before `@champion` moves, the registered version itself is loaded back and smoke-scored on holdout lines
(`validation_problem`): a version whose artifact is corrupt, whose feature list the features code does not
compute, or whose scores are not finite probabilities gets no alias at all. A new version becomes
`@champion` only if its promotion metric on the holdout beats the current
champion's on the *same* holdout lines by more than `min_gain` (the champion is re-scored there, not
taken from its own run); otherwise it becomes `@challenger`. With no champion yet, the new version
becomes champion. The comparison is returned so the job can log it.
"""

from dataclasses import asdict, dataclass
from typing import Any

import numpy as np
from mlflow.exceptions import MlflowException
from mlflow.tracking import MlflowClient

CHAMPION = "champion"
CHALLENGER = "challenger"


@dataclass
class PromotionDecision:
    """Outcome of a promotion check."""

    metric: str
    new_value: float
    champion_version: str | None
    champion_value: float | None
    promoted: bool
    alias: str
    reason: str

    def to_dict(self) -> dict[str, object]:
        return asdict(self)


def champion_version(client: MlflowClient, name: str) -> str | None:
    """Version number currently aliased `@champion`, or None."""
    try:
        return str(client.get_model_version_by_alias(name, CHAMPION).version)
    except MlflowException:
        return None


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


def validation_problem(model: Any, features: Any, lines: Any, sample: int = 500) -> str | None:
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


def refused(metric: str, new_value: float, champion: str | None, problem: str) -> PromotionDecision:
    """The decision for a version that failed `validation_problem`: no alias, the champion stays."""
    return PromotionDecision(metric, new_value, champion, None, False, "", f"refused: {problem}")


def apply(client: MlflowClient, name: str, version: str, decision: PromotionDecision) -> None:
    """Set the alias the decision names on the new version (none for a refused version)."""
    if decision.alias:
        client.set_registered_model_alias(name, decision.alias, version)
