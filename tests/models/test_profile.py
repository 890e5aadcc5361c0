"""The reference profile: bins that new values fall into the same way, in the precision decisions keep."""

import numpy as np
import pytest

from roundabout.models.profile import (
    MISSING,
    OTHER,
    UNKNOWN,
    Distribution,
    ReferenceProfile,
    build_profile,
    category_distribution,
    number_distribution,
)


def test_number_bins_are_deciles_and_missing_has_its_own_bin() -> None:
    values = np.r_[np.arange(1000, dtype=float), [np.nan] * 10]
    d = number_distribution("x", values)
    assert d.bins == 11 and d.labels[-1] == MISSING
    assert d.shares[:-1] == pytest.approx([1000 / 1010 / 10] * 10, abs=0.002)
    assert d.missing == pytest.approx(10 / 1010)
    assert d.counts(np.array([-5.0, 5000.0, np.nan])).tolist() == [1, *[0] * 8, 1, 1]


def test_a_flag_gets_two_bins_not_ten() -> None:
    d = number_distribution("flag", np.r_[np.zeros(900), np.ones(100)])
    assert d.labels == ("<= 0", "> 0", MISSING)
    assert d.shares == pytest.approx((0.9, 0.1, 0.0))


def test_values_on_an_edge_stay_in_their_bin_after_float32_storage() -> None:
    """A point mass (a smoothed rate's prior) is an edge: stored as float32 it must not cross it."""
    prior = 0.10774818401937046
    values = np.r_[np.full(300, prior), np.linspace(0.05, 0.2, 700)]
    d = number_distribution("rate", values)
    as_stored = values.astype(np.float32)
    assert d.counts(as_stored).tolist() == d.counts(values).tolist()


def test_category_bins_keep_the_top_levels_then_other_then_unknown() -> None:
    codes = np.r_[np.full(50, 1), np.full(30, 2), np.full(5, 3), np.zeros(15)]
    d = category_distribution("origin", codes, ["CN", "DE", "TR"])
    assert d.labels == ("CN", "DE", "TR", OTHER, UNKNOWN, MISSING)
    assert d.counts(np.array([1, 2, 0, -1, 7, np.nan])).tolist() == [1, 1, 0, 1, 2, 1]


def test_profile_round_trips_and_marks_important_inputs() -> None:
    rng = np.random.default_rng(1)
    X = np.column_stack([rng.normal(size=500), rng.integers(0, 4, 500)])
    profile = build_profile(
        X,
        ["value", "origin"],
        {"origin": ["CN", "DE", "TR"]},
        rng.random(500),
        np.array(["green"] * 490 + ["red"] * 10, dtype=object),
        ("2024-01-01", "2024-03-31"),
        {"value": 0.3, "origin": 0.001},
    )
    assert profile.inputs["value"].important and not profile.inputs["origin"].important
    assert profile.channels == {"green": 0.98, "red": 0.02}
    again = ReferenceProfile.from_dict(profile.to_dict())
    assert again == profile
    assert isinstance(again.inputs["origin"], Distribution) and again.inputs["origin"].kind == "category"
