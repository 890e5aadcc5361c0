"""Out-of-fold id statistics: a training line never sees its own label; other lines use all of them."""

import numpy as np
import pandas as pd
import pytest

from roundabout.models.target_stats import TargetStats


def test_out_of_fold_rates_do_not_see_own_label() -> None:
    # Each id appears exactly once: out of fold, every line gets the prior (computed from all labels),
    # except the first block's, which has nothing before it and gets no statistics.
    lines = pd.DataFrame({"trader_id": [f"T{i}" for i in range(100)]})
    y = np.r_[np.ones(30), np.zeros(70)]
    stats = TargetStats(["trader_id"], smoothing=5, folds=5)
    oof = stats.fit_transform(lines, y)
    assert np.isnan(oof[:20]).all()
    np.testing.assert_allclose(oof[20:, 0], 0.3)
    np.testing.assert_allclose(oof[20:, 1], 0.0)
    # Applied to new lines, the full-train table is used: (1 + 5 * 0.3) / (1 + 5).
    full = stats.transform(pd.DataFrame({"trader_id": ["T0", "T99", "unseen", None]}))
    assert full[0, 0] == pytest.approx((1 + 5 * 0.3) / 6)
    assert full[1, 0] == pytest.approx((0 + 5 * 0.3) / 6)
    assert full[2, 0] == pytest.approx(0.3) and full[3, 0] == pytest.approx(0.3)
    assert stats.transform_one({"trader_id": "T0"}) == list(full[0])


def test_round_trip_through_dict() -> None:
    lines = pd.DataFrame({"hs_code": ["a", "a", "b", "b", "b"], "trader_id": ["x", "y", "x", "y", "z"]})
    stats = TargetStats(["hs_code", "trader_id"], folds=2)
    stats.fit_transform(lines, np.array([1, 0, 1, 1, 0]))
    again = TargetStats.from_dict(stats.to_dict())
    np.testing.assert_array_equal(again.transform(lines), stats.transform(lines))


def test_a_training_line_never_sees_a_later_label_of_its_trader() -> None:
    """Time-ordered folds: an id's rate on a training line comes from earlier dates only."""
    dates = pd.date_range("2023-01-01", periods=100, freq="D")
    lines = pd.DataFrame({"trader_id": ["T"] * 100, "date": dates})
    y = np.r_[np.zeros(80), np.ones(20)]  # the trader's violations all come late
    stats = TargetStats(["trader_id"], smoothing=5, folds=5)
    rates = stats.fit_transform(lines, y)[:, 0]
    prior = 0.2
    assert np.isnan(rates[:20]).all()  # the first block has nothing before it: no statistics
    assert (rates[20:80] <= prior + 1e-12).all()  # no line before the violations saw them
    assert rates[80:].max() < 0.2  # the last block sees only the earlier, clean blocks
    assert stats.transform_one({"trader_id": "T"})[0] == pytest.approx((20 + 5 * prior) / 105)


def test_counts_do_not_grow_with_the_date() -> None:
    """A trader declaring at a steady pace gets the same count on every training block as in service:
    counts from the earlier blocks are scaled to the whole span, so `n` cannot stand in for the date."""
    dates = pd.date_range("2023-01-01", periods=500, freq="D")
    lines = pd.DataFrame({"trader_id": ["T"] * 500, "date": dates})
    stats = TargetStats(["trader_id"], folds=5)
    counts = stats.fit_transform(lines, np.zeros(500))[100:, 1]
    served = stats.transform_one({"trader_id": "T"})[1]
    np.testing.assert_allclose(counts, served, rtol=1e-9)
