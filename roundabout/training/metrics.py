"""The metric formulas: precision, recall and value caught at inspection rates; PR-AUC, ROC-AUC; calibration.

Definitions (kept simple so anyone can recompute them):

- *At an inspection rate r* over a population of n lines, the top k = max(1, round(r * n)) lines by score
  are inspected (ties broken by line order). precision = positives among them / k; recall = positives
  among them / all positives; value caught = customs value (USD) of the positives among them / customs
  value of all positives.
- *Against outcomes* the population is the holdout's inspected lines and a positive is a violation found:
  the only yardstick a real administration has, biased toward what the old rules chose to inspect.
- *Against ground truth* (simulation only) the population is every holdout line and a positive is a line
  of a circumvention scheme, inspected or not; recall is also given per scheme and over the lines never
  inspected (what the model finds that inspections would have missed).
- PR-AUC is average precision; calibration is measured on inspected lines: Brier score, expected
  calibration error over equal-count bins, and the reliability table (mean score vs violation rate).
- With no inspected line, or no violation among them (a held-out file loaded without its labels), there
  is nothing to measure against: the outcome figures are *absent* (`absent` says why) rather than a
  precision of 0 and a NaN AUC that would read as a model that finds nothing.
"""

from collections.abc import Sequence
from typing import Any

import numpy as np
from sklearn.metrics import average_precision_score, roc_auc_score


def top_k(n: int, rate: float) -> int:
    return max(1, round(rate * n)) if n else 0


def top_mask(scores: np.ndarray, rate: float) -> np.ndarray:
    """Boolean mask of the top `rate` share of lines by score (stable: earlier lines win ties)."""
    scores = np.asarray(scores, dtype="float64")
    order = np.argsort(-scores, kind="stable")
    mask = np.zeros(len(scores), dtype=bool)
    mask[order[: top_k(len(scores), rate)]] = True
    return mask


def at_rates(
    scores: np.ndarray, positive: np.ndarray, value: np.ndarray, rates: Sequence[float]
) -> dict[str, dict[str, float]]:
    """{rate key: {precision, recall, value_caught, inspected, caught}} at each inspection rate."""
    positive = np.asarray(positive, dtype=bool)
    value = np.nan_to_num(np.asarray(value, dtype="float64"))
    total_pos = positive.sum()
    total_value = value[positive].sum()
    out: dict[str, dict[str, float]] = {}
    for rate in rates:
        mask = top_mask(scores, rate)
        caught = positive & mask
        k = int(mask.sum())
        out[rate_key(rate)] = {
            "precision": float(caught.sum() / k) if k else 0.0,
            "recall": float(caught.sum() / total_pos) if total_pos else 0.0,
            "value_caught": float(value[caught].sum() / total_value) if total_value > 0 else 0.0,
            "inspected": float(k),
            "caught": float(caught.sum()),
        }
    return out


def rate_key(rate: float) -> str:
    return f"at_{round(rate * 100, 2):g}pct"


def ranking_scores(scores: np.ndarray, positive: np.ndarray) -> dict[str, float]:
    positive = np.asarray(positive, dtype=bool)
    if positive.all() or not positive.any():
        return {"pr_auc": float("nan"), "roc_auc": float("nan")}
    return {
        "pr_auc": float(average_precision_score(positive, scores)),
        "roc_auc": float(roc_auc_score(positive, scores)),
    }


def calibration(prob: np.ndarray, positive: np.ndarray, bins: int = 10) -> dict[str, Any]:
    """Brier score, expected calibration error (equal-count bins) and the reliability table."""
    prob = np.asarray(prob, dtype="float64")
    y = np.asarray(positive, dtype="float64")
    if len(prob) == 0:
        return {"brier": float("nan"), "ece": float("nan"), "table": []}
    order = np.argsort(prob, kind="stable")
    table = []
    ece = 0.0
    for chunk in np.array_split(order, min(bins, len(prob))):
        if len(chunk) == 0:
            continue
        mean_p, rate = float(prob[chunk].mean()), float(y[chunk].mean())
        table.append({"mean_score": mean_p, "violation_rate": rate, "lines": len(chunk)})
        ece += len(chunk) / len(prob) * abs(mean_p - rate)
    return {"brier": float(np.mean((prob - y) ** 2)), "ece": float(ece), "table": table}


#: The key of an outcome report whose figures are absent; its value says why.
ABSENT = "absent"


def absence(lines: int, positives: int) -> str | None:
    """Why outcomes of `lines` inspected lines with `positives` violations measure nothing, or None."""
    if not lines:
        return "no inspected line"
    if not positives:
        return f"no violation among the {lines:,} inspected lines"
    return None


def outcomes_absent(report: dict[str, Any]) -> str | None:
    """Why a holdout report (`full_report`) has no figures against outcomes, or None when it has them."""
    return report["model"]["outcomes"].get(ABSENT)


def no_outcomes_warning(report: dict[str, Any], period: str) -> str | None:
    """The warning a person reads when `period` of a report has no outcomes to measure against."""
    why = outcomes_absent(report)
    if why is None:
        return None
    return (
        f"{period} has no outcomes to measure against ({why}): precision, recall, value caught, AUC and "
        "calibration against outcomes are absent, not zero"
    )


def outcome_report(
    scores: np.ndarray,
    label: np.ndarray,
    value: np.ndarray,
    rates: Sequence[float],
    prob: np.ndarray | None = None,
    bins: int = 10,
) -> dict[str, Any]:
    """Against outcomes: over inspected lines (label 0/1; NaN = not inspected, left out)."""
    inspected = ~np.isnan(label)
    s, y, v = np.asarray(scores)[inspected], label[inspected] == 1.0, np.asarray(value)[inspected]
    lines, positives = int(inspected.sum()), int(y.sum())
    if reason := absence(lines, positives):
        return {"lines": lines, "positives": positives, ABSENT: reason}
    report: dict[str, Any] = {
        "lines": lines,
        "positives": positives,
        "rates": at_rates(s, y, v, rates),
        **ranking_scores(s, y),
    }
    if prob is not None:
        report["calibration"] = calibration(np.asarray(prob)[inspected], y, bins)
    return report


def truth_report(
    scores: np.ndarray,
    is_circumvention: np.ndarray,
    scheme: np.ndarray,
    value: np.ndarray,
    inspected: np.ndarray,
    rates: Sequence[float],
    listed: np.ndarray | None = None,
) -> dict[str, Any]:
    """Against ground truth, over every line: overall, never-inspected lines, recall per scheme and, where
    the truth says which lines involve a listed party, the recall of those lines."""
    truth = np.asarray(is_circumvention, dtype=bool)
    inspected = np.asarray(inspected, dtype=bool)
    report: dict[str, Any] = {
        "lines": len(truth),
        "positives": int(truth.sum()),
        "rates": at_rates(scores, truth, value, rates),
        **ranking_scores(scores, truth),
        "never_inspected": {"positives": int((truth & ~inspected).sum()), "recall": {}},
        "schemes": {},
    }
    masks = {rate_key(r): top_mask(scores, r) for r in rates}
    uninspected_pos = truth & ~inspected
    for key, mask in masks.items():
        n = uninspected_pos.sum()
        report["never_inspected"]["recall"][key] = float((mask & uninspected_pos).sum() / n) if n else 0.0
    names = sorted({str(s) for s in scheme[truth] if s is not None and s == s and s != ""})
    for name in names:
        members = truth & (scheme == name)
        report["schemes"][name] = {
            "positives": int(members.sum()),
            "recall": {key: float((mask & members).sum() / members.sum()) for key, mask in masks.items()},
        }
    if listed is not None and listed.any():
        report["listed_parties"] = {
            "positives": int(listed.sum()),
            "recall": {key: float((mask & listed).sum() / listed.sum()) for key, mask in masks.items()},
        }
    return report


def flatten(report: dict[str, Any], prefix: str = "") -> dict[str, float]:
    """Numeric leaves of a nested report as dotted metric names (lists, e.g. tables, are skipped)."""
    out: dict[str, float] = {}
    for key, value in report.items():
        name = f"{prefix}{key}"
        if isinstance(value, dict):
            out.update(flatten(value, f"{name}."))
        elif (
            isinstance(value, (int, float, np.floating, np.integer))
            and not isinstance(value, bool)
            and np.isfinite(value)
        ):
            out[name] = float(value)
    return out


def aligned_truth(
    lines_ids: np.ndarray, truth: Any
) -> tuple[np.ndarray, np.ndarray, np.ndarray | None] | None:
    """(is_circumvention, scheme, listed party or None) aligned to `lines_ids`, or None without truth."""
    if truth is None or len(truth) == 0:
        return None
    t = truth.drop_duplicates("line_id").set_index("line_id")
    flags = t["is_circumvention"].reindex(lines_ids).fillna(False).to_numpy(dtype=bool)
    scheme = (
        t["scheme"].reindex(lines_ids).astype(object).where(lambda s: s.notna(), "").to_numpy(dtype=object)
    )
    listed = None
    if "listed_party" in t.columns:
        listed = t["listed_party"].reindex(lines_ids).fillna(False).to_numpy(dtype=bool)
    return flags, scheme, listed


def full_report(
    line_ids: np.ndarray,
    value: np.ndarray,
    label: np.ndarray,
    scores: dict[str, np.ndarray],
    truth: Any,
    rates: Sequence[float],
    prob: np.ndarray | None = None,
    bins: int = 10,
) -> dict[str, Any]:
    """Report of each scorer (e.g. model and baseline) on the same lines, against outcomes and truth."""
    aligned = aligned_truth(line_ids, truth)
    inspected = ~np.isnan(label)
    report: dict[str, Any] = {}
    for name, s in scores.items():
        part: dict[str, Any] = {
            "outcomes": outcome_report(s, label, value, rates, prob if name == "model" else None, bins)
        }
        if aligned is not None:
            part["truth"] = truth_report(s, aligned[0], aligned[1], value, inspected, rates, aligned[2])
        report[name] = part
    return report


def versus(report: dict[str, Any], first: str, second: str) -> dict[str, Any]:
    """How much better scorer `first` does than `second` on the same lines: the differences of their
    precision, recall and value caught at each rate, and of their PR-AUC, against outcomes (and truth), when
    the report has those figures."""
    out: dict[str, Any] = {}
    for against in ("outcomes", "exploration", "truth"):
        a, b = report[first].get(against), report[second].get(against)
        if a is None or b is None or ABSENT in a or ABSENT in b:
            continue
        rates = {
            key: {m: a["rates"][key][m] - b["rates"][key][m] for m in ("precision", "recall", "value_caught")}
            for key in a["rates"]
        }
        out[against] = {"rates": rates, "pr_auc": a["pr_auc"] - b["pr_auc"]}
    return out
