"""Learning and measuring from biased labels: clipped inverse-propensity weights, and holdout figures that
the exploration sample makes unbiased (checked against the truth of a synthetic population), absent with a
reason when they cannot be had."""

import numpy as np
import pytest

from roundabout.training.exploration import exploration_absent, exploration_report, weights
from roundabout.training.metrics import ABSENT, top_mask


def test_weights_are_clipped_inverse_propensities_and_one_where_none_is_recorded() -> None:
    got = weights(np.array([1.0, 0.5, 0.01, np.nan, 0.2]), max_weight=20)
    assert got.tolist() == [1.0, 2.0, 20.0, 1.0, 5.0]


def _population(seed: int, n: int = 400_000) -> dict[str, np.ndarray]:
    """Lines with a true violation chance; the old policy inspects its top 5% for certain and draws 2% of
    the rest at random; a new scorer sees something the old one does not."""
    rng = np.random.default_rng(seed)
    signal_old, signal_new = rng.normal(size=n), rng.normal(size=n)
    chance = 1 / (1 + np.exp(-(-4.0 + 1.2 * signal_old + 1.5 * signal_new)))
    violation = rng.random(n) < chance
    old = signal_old + 0.1 * rng.normal(size=n)
    top = top_mask(old, 0.05)
    drawn = rng.random(n) < 0.02
    inspected = top | drawn
    propensity = np.where(top, 1.0, 0.02)
    label = np.where(inspected, violation.astype(float), np.nan)
    selection = np.where(drawn, "exploration", np.where(top, "model", "")).astype(object)
    new = signal_old * 0.6 + signal_new * 1.5  # ranks mostly lines the old policy did not choose
    return {
        "label": label,
        "propensity": propensity,
        "selection": selection,
        "chance": chance,
        "violation": violation,
        "new": new,
        "value": rng.lognormal(8, 1, n),
    }


@pytest.mark.parametrize("seed", [1, 2, 3])
def test_estimates_from_the_exploration_sample_are_near_the_truth_and_the_naive_ones_are_not(
    seed: int,
) -> None:
    p = _population(seed)
    report = exploration_report(p["new"], p["label"], p["propensity"], p["selection"], p["value"], [0.05])
    assert ABSENT not in report
    assert report["prevalence"] == pytest.approx(p["violation"].mean(), abs=0.006)
    true_precision = p["violation"][top_mask(p["new"], 0.05)].mean()
    estimate = report["rates"]["at_5pct"]["precision"]
    assert report["rates"]["at_5pct"]["lift"] == pytest.approx(estimate / report["prevalence"])
    assert estimate == pytest.approx(true_precision, abs=0.06)  # ~330 drawn lines in its top: SE 0.03
    inspected = ~np.isnan(p["label"])
    naive = p["label"][inspected & top_mask(p["new"], 0.05)].mean()
    assert abs(naive - true_precision) > abs(estimate - true_precision)
    # the random sample's violation rate is itself a fair estimate of prevalence (uniform draw)
    assert report["sample_violation_rate"] == pytest.approx(p["violation"].mean(), abs=0.01)


def test_figures_are_absent_with_a_reason_when_they_cannot_be_had() -> None:
    label = np.array([1.0, 0.0, np.nan, 1.0])
    assert exploration_absent(label, np.array([1.0, 1.0, np.nan, 1.0])) == (
        "none of the 3 inspected lines was drawn by exploration (every propensity is 1)"
    )
    assert "have no recorded propensity" in str(exploration_absent(label, np.array([1.0, np.nan, 1, 0.1])))
    assert exploration_absent(np.full(3, np.nan), np.ones(3)) == "no inspected line"
    selection = np.array(["model", "exploration", "", "model"], dtype=object)
    report = exploration_report(
        np.arange(4.0), label, np.array([1, np.nan, 1, 1.0]), selection, np.ones(4), [0.5]
    )
    assert ABSENT in report and "rates" not in report


def test_training_weighs_lines_by_their_recorded_propensity_and_reports_both_figures(split, fitted) -> None:
    """The fixture's world records propensities: the default fit is weighted (and differs from the
    unweighted one); without any propensity the fit is unweighted; the report holds both figures."""
    from dataclasses import replace

    from roundabout.data.io import CanonicalData
    from roundabout.training.evaluate import evaluate_holdout
    from roundabout.training.fit import fit_risk_model
    from tests.training.conftest import small_config

    assert fitted.counts["train_weighted"] == 1 and fitted.counts["train_uncertain"] > 0
    plain = fit_risk_model(split, small_config(labels={"weighting": "none"}))
    assert plain.counts["train_weighted"] == 0
    assert not np.allclose(plain.holdout_raw, fitted.holdout_raw)
    data = split.data
    unrecorded = CanonicalData(
        data.lines, data.inspections.drop(columns=["selection", "propensity"]), data.truth, data.extra_columns
    )
    bare = fit_risk_model(replace(split, data=unrecorded), small_config())
    assert bare.counts["train_weighted"] == 0
    np.testing.assert_allclose(bare.holdout_raw, plain.holdout_raw)  # no propensity: the unweighted fit
    report = evaluate_holdout(split, {"model": fitted.holdout_risk}, small_config(), fitted.holdout_risk)
    assert "rates" in report["model"]["outcomes"] and "rates" in report["model"]["exploration"]
    absent = evaluate_holdout(
        replace(split, data=unrecorded), {"model": fitted.holdout_risk}, small_config(), None
    )
    assert "no recorded propensity" in absent["model"]["exploration"][ABSENT]
