"""Fusing the classifier and the anomaly detector into one calibrated `risk_score`.

The fused log-odds of a line are

    logit(risk) = a * s + b * z + c,      z = max(0, (anomaly - median) / spread)

where `s` is the classifier's raw score (log-odds under the imbalance weight), `anomaly` the isolation
forest's score, `median` and `spread` (the 99th percentile minus the median) taken over all training
lines, so `z` is 0 for the ordinary half of the traffic and about 1 for the most unusual percent. `a`,
`b`, `c` are a Platt scaling fitted by logistic regression on the *validation period's inspected lines*
(label: violation found), which both calibrates the score (imbalance weighting and early stopping leave
raw scores off scale) and sets how much the anomaly part adds. `b` is kept at or above a configured floor
(`min_anomaly_weight`): labels come from inspections the old rules chose, so they under-represent
patterns nobody inspected, and a fitted `b` of 0 would mute the very signal the anomaly part exists for.
`risk_score` is a probability of a violation being found if the line were inspected, calibrated on lines
inspected in the validation period (itself a biased sample: see docs/models.md).

Being linear in `s`, the fusion keeps explanations additive: a feature's TreeSHAP value times `a` is its
share of the fused log-odds, and `b * z` is the anomaly part's.
"""

from dataclasses import asdict, dataclass
from typing import Any, Self

import numpy as np
from scipy.special import expit
from sklearn.linear_model import LogisticRegression

from roundabout.errors import ConfigError

#: Log-odds are clipped here before exp (a risk of 1 - 1e-300 is 1 anyway; no overflow warnings).
_CLIP = 700.0


@dataclass
class Fusion:
    """Platt-scaled linear fusion of classifier log-odds and a one-sided anomaly z."""

    a: float = 1.0
    b: float = 0.0
    c: float = 0.0
    anomaly_median: float = 0.5
    anomaly_spread: float = 0.1

    @classmethod
    def fit(
        cls,
        raw: np.ndarray,
        anomaly: np.ndarray,
        y: np.ndarray,
        anomaly_reference: np.ndarray,
        min_anomaly_weight: float = 0.0,
        anomaly_weight: float | None = None,
    ) -> Self:
        """Fit a, b, c on labelled validation lines; `anomaly_reference` is the anomaly score of all lines."""
        median = float(np.median(anomaly_reference))
        spread = float(np.quantile(anomaly_reference, 0.99) - median) or 1e-6
        out = cls(anomaly_median=median, anomaly_spread=spread)
        z = out.anomaly_z(anomaly)
        y = np.asarray(y, dtype=int)
        if anomaly_weight is not None:
            (a,), c = _platt(raw[:, None], y, offset=anomaly_weight * z)
            out.a, out.b, out.c = float(a), float(anomaly_weight), float(c)
            return out
        (a, b), c = _platt(np.column_stack([raw, z]), y)
        if b < min_anomaly_weight:
            b = min_anomaly_weight
            (a,), c = _platt(raw[:, None], y, offset=b * z)
        out.a, out.b, out.c = float(a), float(b), float(c)
        return out

    def anomaly_z(self, anomaly: np.ndarray | float) -> np.ndarray:
        return np.maximum(
            0.0, (np.asarray(anomaly, dtype="float64") - self.anomaly_median) / self.anomaly_spread
        )

    def logit(self, raw: np.ndarray, anomaly: np.ndarray) -> np.ndarray:
        return self.a * np.asarray(raw, dtype="float64") + self.b * self.anomaly_z(anomaly) + self.c

    def risk(self, raw: np.ndarray, anomaly: np.ndarray) -> np.ndarray:
        """Calibrated risk in [0, 1]."""
        return 1.0 / (1.0 + np.exp(-np.clip(self.logit(raw, anomaly), -_CLIP, _CLIP)))

    def risk_one(self, raw: float, anomaly: float) -> float:
        z = max(0.0, (anomaly - self.anomaly_median) / self.anomaly_spread)
        logit = min(max(self.a * raw + self.b * z + self.c, -_CLIP), _CLIP)
        return float(1.0 / (1.0 + np.exp(-logit)))

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)

    @classmethod
    def from_dict(cls, body: dict[str, Any]) -> Self:
        return cls(**{k: float(v) for k, v in body.items()})


def _platt(X: np.ndarray, y: np.ndarray, offset: np.ndarray | None = None) -> tuple[np.ndarray, float]:
    """Unpenalised logistic regression of y on X (plus a fixed offset in the log-odds)."""
    if len(np.unique(y)) < 2:
        raise ConfigError(
            "calibration needs both violations and clean inspections in the validation period: give the "
            "split a longer one (split.valid_fraction, split.valid_start or split.valid_data)"
        )
    if offset is None or not np.any(offset):
        model = LogisticRegression(C=np.inf, max_iter=1000)
        model.fit(X, y)
        return model.coef_[0], float(model.intercept_[0])
    # An offset is a sample-specific intercept: fit by Newton steps on the log-likelihood.
    Xb = np.column_stack([X, np.ones(len(X))])
    w = np.zeros(Xb.shape[1])
    for _ in range(100):
        p = expit(Xb @ w + offset)
        grad = Xb.T @ (y - p)
        hess = (Xb * (p * (1 - p))[:, None]).T @ Xb + 1e-9 * np.eye(len(w))
        step = np.linalg.solve(hess, grad)
        w += step
        if np.max(np.abs(step)) < 1e-10:
            break
    return w[:-1], float(w[-1])
