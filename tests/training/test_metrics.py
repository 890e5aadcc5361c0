"""The metric formulas equal an independent, naive computation."""

import numpy as np
import pytest

from roundabout.training.metrics import (
    at_rates,
    calibration,
    flatten,
    outcome_report,
    ranking_scores,
    truth_report,
    versus,
)


def _naive_at_rate(scores, positive, value, rate):
    n = len(scores)
    k = max(1, round(rate * n))
    # rank by score, ties by position: a plain sort of (-score, index) pairs
    order = [i for _, i in sorted((-s, i) for i, s in enumerate(scores))][:k]
    caught = [i for i in order if positive[i]]
    total = sum(positive)
    total_value = sum(v for v, p in zip(value, positive, strict=True) if p)
    return {
        "precision": len(caught) / k,
        "recall": len(caught) / total,
        "value_caught": sum(value[i] for i in caught) / total_value,
    }


def _naive_roc_auc(scores, positive):
    pos = [s for s, p in zip(scores, positive, strict=True) if p]
    neg = [s for s, p in zip(scores, positive, strict=True) if not p]
    wins = sum(1.0 if a > b else 0.5 if a == b else 0.0 for a in pos for b in neg)
    return wins / (len(pos) * len(neg))


def _naive_average_precision(scores, positive):
    order = sorted(range(len(scores)), key=lambda i: -scores[i])
    hits, total, ap = 0, sum(positive), 0.0
    for rank, i in enumerate(order, start=1):
        if positive[i]:
            hits += 1
            ap += hits / rank
    return ap / total


@pytest.fixture
def sample():
    rng = np.random.default_rng(5)
    n = 700
    positive = rng.random(n) < 0.1
    scores = np.round(rng.random(n) + positive * 0.5, 2)  # rounded: many ties
    value = rng.integers(1, 1000, n).astype(float)
    return scores, positive, value


def test_at_rates_match_naive(sample) -> None:
    scores, positive, value = sample
    rates = [0.01, 0.02, 0.05, 0.1]
    got = at_rates(scores, positive, value, rates)
    for rate, key in zip(rates, got, strict=True):
        naive = _naive_at_rate(list(scores), list(positive), list(value), rate)
        for metric in ("precision", "recall", "value_caught"):
            assert got[key][metric] == pytest.approx(naive[metric], abs=1e-12), (key, metric)


def test_ranking_scores_match_naive(sample) -> None:
    scores, positive, _ = sample
    got = ranking_scores(scores, positive)
    assert got["roc_auc"] == pytest.approx(_naive_roc_auc(list(scores), list(positive)), abs=1e-12)
    distinct = scores + np.arange(len(scores)) * 1e-9  # AP by hand assumes no ties
    assert ranking_scores(distinct, positive)["pr_auc"] == pytest.approx(
        _naive_average_precision(list(distinct), list(positive)), abs=1e-12
    )


def test_outcomes_use_inspected_lines_only() -> None:
    scores = np.array([0.9, 0.8, 0.7, 0.6, 0.5])
    label = np.array([np.nan, 1.0, 0.0, np.nan, 1.0])
    value = np.array([100.0, 10.0, 20.0, 30.0, 30.0])
    report = outcome_report(scores, label, value, [0.34], prob=scores)
    assert report["lines"] == 3 and report["positives"] == 2
    at = report["rates"]["at_34pct"]  # top 1 of 3 inspected: line 1, a violation
    assert at == {"precision": 1.0, "recall": 0.5, "value_caught": 0.25, "inspected": 1.0, "caught": 1.0}
    calib = report["calibration"]
    assert calib["brier"] == pytest.approx(np.mean((np.array([0.8, 0.7, 0.5]) - np.array([1, 0, 1])) ** 2))


@pytest.mark.parametrize(
    ("label", "why"),
    [
        ([np.nan] * 4, "no inspected line"),
        ([0.0, np.nan, 0.0, 0.0], "no violation among the 3 inspected lines"),
    ],
)
def test_outcomes_that_measure_nothing_are_absent_not_zero(label: list[float], why: str) -> None:
    """A holdout loaded without its labels: no precision of 0 and NaN AUC, but figures marked absent."""
    scores = np.array([0.9, 0.8, 0.7, 0.6])
    report = outcome_report(scores, np.array(label), np.ones(4), [0.5], prob=scores)
    assert report == {"lines": int((~np.isnan(label)).sum()), "positives": 0, "absent": why}
    assert set(flatten(report)) == {"lines", "positives"}


def test_a_comparison_leaves_out_figures_that_are_absent() -> None:
    """The model beside the raw-column baseline on a holdout without outcomes: nothing to subtract."""
    absent = {"lines": 0, "positives": 0, "absent": "no inspected line"}
    present = {"rates": {"at_5pct": {"precision": 0.5, "recall": 0.25, "value_caught": 0.5}}, "pr_auc": 0.4}
    report = {"model": {"outcomes": absent, "truth": present}, "raw": {"outcomes": absent, "truth": present}}
    assert versus(report, "model", "raw") == {
        "truth": {"rates": {"at_5pct": {"precision": 0.0, "recall": 0.0, "value_caught": 0.0}}, "pr_auc": 0.0}
    }


def test_truth_report_per_scheme_and_never_inspected() -> None:
    scores = np.array([0.9, 0.8, 0.7, 0.6, 0.5, 0.4, 0.3, 0.2, 0.1, 0.0])
    truth = np.array([1, 0, 1, 0, 0, 1, 0, 0, 0, 1], dtype=bool)
    scheme = np.array(["a", "", "b", "", "", "a", "", "", "", "b"], dtype=object)
    inspected = np.array([1, 1, 0, 0, 0, 0, 0, 0, 0, 0], dtype=bool)
    report = truth_report(scores, truth, scheme, np.ones(10), inspected, [0.3])
    assert report["rates"]["at_30pct"]["precision"] == pytest.approx(2 / 3)
    assert report["schemes"]["a"]["recall"]["at_30pct"] == 0.5
    assert report["schemes"]["b"]["recall"]["at_30pct"] == 0.5
    assert report["never_inspected"]["positives"] == 3
    assert report["never_inspected"]["recall"]["at_30pct"] == pytest.approx(1 / 3)


def test_calibration_of_a_perfect_predictor_is_zero() -> None:
    prob = np.repeat([0.0, 1.0], 50)
    calib = calibration(prob, prob == 1.0, bins=4)
    assert calib["brier"] == 0.0 and calib["ece"] == 0.0
