"""The oddness detector: tail probabilities that keep falling past the training range, both sides of a z,
missing inputs skipped; its fusion weight floor; models saved before it still load."""

import json
from pathlib import Path

import numpy as np
import pytest

from roundabout.models.fusion import Fusion
from roundabout.models.oddness import TAIL_QUANTILE, OddnessDetector
from roundabout.models.persistence import ODDNESS_FILE
from roundabout.models.risk_model import RiskModel
from roundabout.training.fit import Fitted
from roundabout.training.split import Split

NAMES = ["origin_surprise", "uv_kg_z"]


@pytest.fixture(scope="module")
def detector() -> OddnessDetector:
    rng = np.random.default_rng(0)
    X = np.column_stack([rng.exponential(2.0, 20_000), rng.normal(0, 1, 20_000)])
    return OddnessDetector().fit(X, NAMES)


def test_a_trait_far_past_the_training_range_is_odder_than_one_just_past_it(detector) -> None:
    """An empirical CDF gives every value past the maximum the same 1/n; the fitted tail keeps ranking."""
    z = np.array([[1.0, v] for v in (0.0, 2.0, 3.0, 6.0, 12.0, 60.0)])
    oddness, _ = detector.score(z)
    assert np.all(np.diff(oddness) > 0), oddness
    assert oddness[0] < 1 and oddness[-1] > 10


def test_both_sides_of_a_z_are_odd_and_the_oddest_input_is_named(detector) -> None:
    high, low, usual = detector.score(np.array([[1.0, 8.0], [1.0, -8.0], [1.0, 0.1]]))[0]
    assert high > 3 and low > 3 and usual < 1
    _, oddest = detector.score(np.array([[1.0, -8.0], [40.0, 0.0]]))
    assert detector.oddest_input(int(oddest[0])) == ("uv_kg_z", "lower")
    assert detector.oddest_input(int(oddest[1])) == ("origin_surprise", "upper")


def test_missing_inputs_are_skipped(detector) -> None:
    oddness, oddest = detector.score(np.array([[np.nan, np.nan], [np.nan, 8.0]]))
    assert oddness[0] == 0 and oddest[0] == -1
    assert oddness[1] > 3


def test_about_one_training_line_in_a_hundred_passes_the_tail_start_of_an_input() -> None:
    rng = np.random.default_rng(1)
    X = rng.exponential(1.0, (50_000, 1))
    one = OddnessDetector().fit(X, ["origin_surprise"])
    oddness, _ = one.score(X)
    assert (oddness > 2.0).mean() == pytest.approx(1 - TAIL_QUANTILE, abs=0.002)


def test_the_detector_survives_a_round_trip(detector) -> None:
    again = OddnessDetector.from_dict(json.loads(json.dumps(detector.to_dict())))
    X = np.random.default_rng(2).normal(0, 3, (500, 2))
    np.testing.assert_array_equal(again.score(X)[0], detector.score(X)[0])


def test_the_oddness_weight_is_floored_and_an_ordinary_line_gets_nothing() -> None:
    rng = np.random.default_rng(3)
    raw, anomaly = rng.normal(size=5000), rng.uniform(0.3, 0.8, 5000)
    y = rng.random(5000) < 1 / (1 + np.exp(-(raw - 2)))
    oddness_ref = rng.exponential(0.5, 20_000)
    fusion = Fusion.fit(raw, anomaly, y, anomaly, 0.0, None, rng.exponential(0.5, 5000), oddness_ref, 4.0)
    assert fusion.d == 4.0
    assert fusion.oddness_threshold == pytest.approx(np.quantile(oddness_ref, 0.99))
    usual, odd = fusion.risk(np.zeros(2), np.full(2, 0.4), np.array([0.1, fusion.oddness_threshold + 3]))
    assert usual == pytest.approx(fusion.risk(np.zeros(1), np.full(1, 0.4))[0])
    assert odd > 0.5 > usual
    assert fusion.risk_one(0.0, 0.4, fusion.oddness_threshold + 3) == pytest.approx(odd)
    # The cap: a trait a million times past the edge adds what one ten times past it does (d x 1).
    far, farther = fusion.risk(np.zeros(2), np.full(2, 0.4), fusion.oddness_threshold + np.array([1.0, 6.0]))
    assert far == pytest.approx(farther) and far == pytest.approx(odd)


def test_the_fitted_model_scores_oddness_on_both_paths(split: Split, fitted: Fitted) -> None:
    model = fitted.model
    X = model.matrix(fitted.features[split.holdout].head(50), split.data.lines[split.holdout].head(50))
    batch = model.score_batch(X)
    assert np.isfinite(batch.oddness_score).all() and (batch.oddness_score >= 0).all()
    records = split.data.lines[split.holdout].head(50).to_dict("records")
    for i in (0, 17, 49):
        one = model.score_one(X[i, : len(model.base_features)], records[i], explain=False)
        assert one.oddness_score == pytest.approx(batch.oddness_score[i], rel=1e-12)
        assert one.risk_score == pytest.approx(batch.risk_score[i], rel=1e-9)


def test_a_model_saved_before_the_detector_loads_and_scores(model_dir: Path, split: Split, fitted) -> None:
    (model_dir / ODDNESS_FILE).unlink()
    body = json.loads((model_dir / "model.json").read_text())
    for key in ("d", "oddness_threshold"):
        body["fusion"].pop(key)
    (model_dir / "model.json").write_text(json.dumps(body))
    old = RiskModel.load(model_dir)
    assert old.oddness is None and old.fusion.d == 0.0
    X = old.matrix(fitted.features[split.holdout].head(20), split.data.lines[split.holdout].head(20))
    scores = old.score_batch(X, explain=True)
    assert np.isnan(scores.oddness_score).all() and np.isfinite(scores.risk_score).all()
    assert scores.line(0).oddness_score is None
    assert all(r.feature != "oddness" for rs in scores.reasons for r in rs)


def test_a_few_rows_score_as_a_batch_does(detector) -> None:
    """Serving scores one row with every tail at once; a batch goes tail by tail: the same numbers."""
    X = np.random.default_rng(4).normal(0, 4, (300, 2))
    X[::7, 0] = np.nan
    whole = detector.tail_p(X)
    np.testing.assert_array_equal(np.vstack([detector.tail_p(X[i : i + 1]) for i in range(300)]), whole)
