"""Learning and measuring from biased labels: inverse-propensity weights and unbiased holdout figures.

Inspections follow the policy in force, so inspected lines are no fair sample of the traffic: the ones a
rule or the model picked (propensity 1) crowd out the rest, which only the exploration quota reaches
(propensity `e`, a few in a thousand). Two uses of the recorded propensities:

- *Training weights* (`weights`): each inspected line weighs 1/propensity, clipped at `max_weight`, so a
  line the quota drew stands for the many like it nobody inspected. Selection depends only on what the
  model sees (its inputs) and the draw, so P(violation | inputs) is the same among inspected lines as in
  the traffic; what the weights change is where the classifier spends its fit: on the traffic it will
  score rather than on the corner the old policy inspected. Clipping bounds the variance a handful of
  heavy lines would bring (the bias it adds is toward the inspected corner, i.e. toward unweighted).
- *Holdout figures* (`exploration_report`): Horvitz-Thompson estimates over every holdout line from
  its inspected ones weighted by 1/propensity (unclipped: estimates need no variance control to be
  unbiased): the prevalence of violations found if every line were inspected, and a scorer's precision,
  recall and value caught when it inspects the top r of *all* lines (not of inspected ones), its hit rate
  against the prevalence (`lift`: precision over prevalence) and its weighted PR-AUC. The raw violation
  rate of the exploration sample (lines selected by the draw) is given beside them: for a uniform
  strategy it is itself an unbiased estimate of prevalence.

These hold only if every line had a chance: a holdout with no inspected line of propensity below 1 (no
exploration), or inspected lines without a recorded propensity, has these figures *absent*, with why.
"""

from collections.abc import Sequence
from typing import Any

import numpy as np
from sklearn.metrics import average_precision_score

from roundabout.training.metrics import ABSENT, rate_key, top_mask

EXPLORATION = "exploration"


def weights(propensity: np.ndarray, max_weight: float) -> np.ndarray:
    """Training weight of each line: 1/propensity clipped at `max_weight`; 1 where none is recorded."""
    p = np.asarray(propensity, dtype="float64")
    known = np.isfinite(p) & (p > 0)
    out = np.ones(len(p))
    out[known] = np.minimum(1.0 / p[known], max_weight)
    return out


def exploration_absent(label: np.ndarray, propensity: np.ndarray) -> str | None:
    """Why inverse-propensity figures cannot be had from these lines, or None when they can."""
    inspected = ~np.isnan(label)
    n = int(inspected.sum())
    if not n:
        return "no inspected line"
    p = propensity[inspected]
    unknown = int((~(np.isfinite(p) & (p > 0))).sum())
    if unknown:
        return f"{unknown:,} of the {n:,} inspected lines have no recorded propensity"
    if not (p < 1).any():
        return f"none of the {n:,} inspected lines was drawn by exploration (every propensity is 1)"
    if not (label[inspected] == 1).any():
        return f"no violation among the {n:,} inspected lines"
    return None


def exploration_report(
    scores: np.ndarray,
    label: np.ndarray,
    propensity: np.ndarray,
    selection: np.ndarray,
    value: np.ndarray,
    rates: Sequence[float],
) -> dict[str, Any]:
    """Inverse-propensity figures of one scorer over every line (see the module docstring)."""
    label = np.asarray(label, dtype="float64")
    propensity = np.asarray(propensity, dtype="float64")
    inspected = ~np.isnan(label)
    drawn = inspected & (np.asarray(selection, dtype=object) == EXPLORATION)
    report: dict[str, Any] = {
        "lines": len(label),
        "inspected": int(inspected.sum()),
        "sample_lines": int(drawn.sum()),
        "sample_violations": int((label[drawn] == 1).sum()),
    }
    if drawn.any():
        report["sample_violation_rate"] = float((label[drawn] == 1).mean())
    if why := exploration_absent(label, propensity):
        return {**report, ABSENT: why}
    w = np.where(inspected, 1.0 / np.where(inspected, propensity, 1.0), 0.0)
    y = np.where(inspected, label, 0.0) == 1.0
    v = np.nan_to_num(np.asarray(value, dtype="float64"))
    found, found_value = float(w @ y), float(w @ (y * v))
    report["prevalence"] = found / len(label)
    report["rates"] = {}
    for rate in rates:
        top = top_mask(scores, rate) & inspected
        weight_top = float(w[top].sum())
        caught = float(w[top] @ y[top])
        precision = caught / weight_top if weight_top else 0.0
        report["rates"][rate_key(rate)] = {
            "precision": precision,
            "lift": precision / report["prevalence"] if report["prevalence"] else 0.0,
            "recall": caught / found if found else 0.0,
            "value_caught": float(w[top] @ (y[top] * v[top])) / found_value if found_value else 0.0,
            "inspected_sample": float(top.sum()),
        }
    s = np.asarray(scores, dtype="float64")[inspected]
    report["pr_auc"] = float(average_precision_score(y[inspected], s, sample_weight=w[inspected]))
    return report
