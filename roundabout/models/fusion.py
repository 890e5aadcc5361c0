"""Fusing the classifier, the anomaly forest and the oddness detector into one calibrated `risk_score`.

The fused log-odds of a line are

    logit(risk) = a * s + b * z + d * w + c,
    z = max(0, (anomaly - median) / spread),      w = min(cap, max(0, oddness - threshold))

where `s` is the classifier's raw score (log-odds under the imbalance weight), `anomaly` the isolation
forest's score, `median` and `spread` (the 99th percentile minus the median) taken over training lines, so
`z` is 0 for the ordinary half of the traffic and about 1 for the most unusual percent; `oddness` is the
oddness detector's -log10 tail probability (`oddness.py`) and `threshold` its 99th percentile over training
lines (`oddness_quantile`), so `w` is 0 for 99% of the traffic and counts the orders of magnitude by
which a line's oddest trait is rarer than that, up to `cap` (1): a trait a million times rarer must not
outrank the strongest evidence of the classifier, or the red channel fills with honest curiosities.
`a`, `b`, `d`, `c` are a Platt scaling fitted by logistic regression on the *validation period's inspected
lines* (label: violation found), which calibrates the score (imbalance weighting and early stopping leave
raw scores off scale) and sets how much the unsupervised parts add.

`b` is kept at or above a configured floor (`min_anomaly_weight`): labels come from inspections the old
rules chose, so they under-represent patterns nobody inspected, and a fitted weight of 0 would mute the
very signal the unsupervised part exists for. `d` is set, not fitted, by default (`oddness_weight`; when it
is fitted it has the floor `min_oddness_weight`): few labels fall past the oddness edge, and a weight fitted
on them is unstable. It is a policy: at 4 with the cap of 1, a line whose oddest trait is ten times rarer
than the 1% edge, or rarer still, gains 4 in log-odds, which lifts an ordinary line into the top few
percent but not above the classifier's strongest cases (docs/models.md gives the trade-off against the
planted schemes).
`risk_score` is a probability of a violation being found if the line were inspected, calibrated on lines
inspected in the validation period (itself a biased sample: see docs/models.md).

Being linear in `s`, the fusion keeps explanations additive: a feature's TreeSHAP value times `a` is its
share of the fused log-odds, `b * z` is the anomaly forest's and `d * w` the oddness detector's.
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
    """Platt-scaled linear fusion of classifier log-odds, a one-sided anomaly z and an oddness excess."""

    a: float = 1.0
    b: float = 0.0
    c: float = 0.0
    anomaly_median: float = 0.5
    anomaly_spread: float = 0.1
    d: float = 0.0
    oddness_threshold: float = 0.0
    #: The most orders of magnitude of oddness counted (so `d * oddness_cap` is the most it adds).
    oddness_cap: float = 1.0
    #: 1: a list hit goes red (`list_rule.py`); 0: the rule is off.
    list_rule: float = 1.0

    @classmethod
    def fit(
        cls,
        raw: np.ndarray,
        anomaly: np.ndarray,
        y: np.ndarray,
        anomaly_reference: np.ndarray,
        min_anomaly_weight: float = 0.0,
        anomaly_weight: float | None = None,
        oddness: np.ndarray | None = None,
        oddness_reference: np.ndarray | None = None,
        min_oddness_weight: float = 0.0,
        oddness_weight: float | None = None,
        oddness_quantile: float = 0.99,
        oddness_cap: float = 1.0,
        weight: np.ndarray | None = None,
    ) -> Self:
        """Fit a, b, d, c on labelled validation lines (weighted by `weight`: inverse propensities); the
        references are the scores of training lines."""
        median = float(np.median(anomaly_reference))
        spread = float(np.quantile(anomaly_reference, 0.99) - median) or 1e-6
        out = cls(anomaly_median=median, anomaly_spread=spread, oddness_cap=oddness_cap)
        if oddness is not None and oddness_reference is not None and len(oddness_reference):
            out.oddness_threshold = float(np.quantile(oddness_reference, oddness_quantile))
            w = out.oddness_excess(oddness)
        else:
            w, min_oddness_weight, oddness_weight = np.zeros(len(raw)), 0.0, 0.0
        y = np.asarray(y, dtype=int)
        parts = {"b": out.anomaly_z(anomaly), "d": w}
        floors = {"b": min_anomaly_weight, "d": min_oddness_weight}
        fixed = {k: v for k, v in (("b", anomaly_weight), ("d", oddness_weight)) if v is not None}
        # Fit the free weights; any that falls below its floor is fixed there and the rest refitted.
        while True:
            free = [k for k in parts if k not in fixed]
            offset = sum((fixed[k] * parts[k] for k in fixed), np.zeros(len(raw)))
            coef, c = _platt(np.column_stack([raw, *(parts[k] for k in free)]), y, offset, weight)
            fitted = dict(zip(free, coef[1:], strict=True))
            low = {k: floors[k] for k, v in fitted.items() if v < floors[k]}
            if not low:
                break
            fixed.update(low)
        weights = {**fitted, **fixed}
        out.a, out.b, out.d, out.c = float(coef[0]), float(weights["b"]), float(weights["d"]), float(c)
        return out

    def anomaly_z(self, anomaly: np.ndarray | float) -> np.ndarray:
        return np.maximum(
            0.0, (np.asarray(anomaly, dtype="float64") - self.anomaly_median) / self.anomaly_spread
        )

    def oddness_excess(self, oddness: np.ndarray | float | None) -> np.ndarray:
        if oddness is None:
            return np.zeros(1)
        excess = np.asarray(oddness, dtype="float64") - self.oddness_threshold
        return np.clip(excess, 0.0, self.oddness_cap)

    def evidence(self, anomaly: np.ndarray | float, oddness: np.ndarray | float | None) -> np.ndarray:
        """Log-odds the unsupervised parts add (`b * z + d * w`): what the anomaly strategy explores by."""
        out = self.b * self.anomaly_z(anomaly)
        return out + self.d * self.oddness_excess(oddness) if oddness is not None else out

    def logit(self, raw: np.ndarray, anomaly: np.ndarray, oddness: np.ndarray | None = None) -> np.ndarray:
        out = self.a * np.asarray(raw, dtype="float64") + self.b * self.anomaly_z(anomaly) + self.c
        return out + self.d * self.oddness_excess(oddness) if oddness is not None else out

    def risk(self, raw: np.ndarray, anomaly: np.ndarray, oddness: np.ndarray | None = None) -> np.ndarray:
        """Calibrated risk in [0, 1]."""
        return 1.0 / (1.0 + np.exp(-np.clip(self.logit(raw, anomaly, oddness), -_CLIP, _CLIP)))

    def risk_one(self, raw: float, anomaly: float, oddness: float | None = None) -> float:
        logit = min(max(self.a * raw + self.evidence_one(anomaly, oddness) + self.c, -_CLIP), _CLIP)
        return float(1.0 / (1.0 + np.exp(-logit)))

    def evidence_one(self, anomaly: float, oddness: float | None) -> float:
        """`evidence` of one line, in plain Python (the single-line path)."""
        z = max(0.0, (anomaly - self.anomaly_median) / self.anomaly_spread)
        w = 0.0 if oddness is None else min(max(0.0, oddness - self.oddness_threshold), self.oddness_cap)
        return self.b * z + self.d * w

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)

    @classmethod
    def from_dict(cls, body: dict[str, Any]) -> Self:
        """Read saved weights; a model saved before the oddness detector has d = 0."""
        return cls(**{k: float(v) for k, v in body.items()})


def _platt(
    X: np.ndarray, y: np.ndarray, offset: np.ndarray | None = None, weight: np.ndarray | None = None
) -> tuple[np.ndarray, float]:
    """Unpenalised logistic regression of y on X (plus a fixed offset in the log-odds), lines weighted."""
    if len(np.unique(y)) < 2:
        raise ConfigError(
            "calibration needs both violations and clean inspections in the validation period: give the "
            "split a longer one (split.valid_fraction, split.valid_start or split.valid_data)"
        )
    if offset is None or not np.any(offset):
        model = LogisticRegression(C=np.inf, max_iter=1000)
        model.fit(X, y, sample_weight=weight)
        return model.coef_[0], float(model.intercept_[0])
    # An offset is a sample-specific intercept: fit by Newton steps on the log-likelihood.
    Xb = np.column_stack([X, np.ones(len(X))])
    w = np.zeros(Xb.shape[1])
    sw = np.ones(len(y)) if weight is None else np.asarray(weight, dtype="float64")
    for _ in range(100):
        p = expit(Xb @ w + offset)
        grad = Xb.T @ (sw * (y - p))
        hess = (Xb * (sw * p * (1 - p))[:, None]).T @ Xb + 1e-9 * np.eye(len(w))
        step = np.linalg.solve(hess, grad)
        w += step
        if np.max(np.abs(step)) < 1e-10:
            break
    return w[:-1], float(w[-1])
