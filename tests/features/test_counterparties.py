"""Counterparties family: declarant/broker history and counterparties shared by many traders."""

from datetime import date, timedelta

import numpy as np
import pytest

from roundabout.features import build_features
from roundabout.features.artifacts import PRIOR_WEIGHT

D0 = date(2023, 5, 1)


def test_declarant_volume_chpl_share_and_violation_rate(hist, fitted) -> None:
    rows = [
        hist.line("a", D0, declarant_id="BRK"),
        hist.line("b", D0 + timedelta(days=1), declarant_id="BRK", hs_code="6403990000"),
        hist.line("c", D0 + timedelta(days=2), declarant_id="BRK", hs_code="6403990000"),
        hist.line("x", D0 + timedelta(days=30), declarant_id="BRK"),
        hist.line("none", D0 + timedelta(days=30), declarant_id=None),
    ]
    outcomes = [("a", D0 + timedelta(days=3), "violation"), ("b", D0 + timedelta(days=30), "clean")]
    data = hist.data_of(rows, outcomes)
    art = fitted(data)
    f = build_features(data, art)
    assert f.loc["x", "declarant_lines"] == 3 and f.loc["x", "declarant_lines_90d"] == 3
    assert f.loc["x", "declarant_chpl_share"] == pytest.approx(1 / 3)
    assert f.loc["x", "declarant_inspections"] == 1  # b's outcome is dated the same day as x
    prior = art.prior_violation_rate
    assert f.loc["x", "declarant_violation_rate"] == pytest.approx(
        (1 + PRIOR_WEIGHT * prior) / (1 + PRIOR_WEIGHT)
    )
    assert f.loc["a", "declarant_violation_rate"] == pytest.approx(prior)  # no history: the prior, not 0/0
    assert np.isnan(f.loc["none", "declarant_lines"])  # no declarant: unknown


def test_counterparty_seen_with_many_traders(hist, fitted) -> None:
    rows = [
        hist.line(
            f"t{i}",
            D0 + timedelta(days=i),
            trader_id=f"2101400{i:05d}",
            counterparty_name="Shell Trading FZE",
        )
        for i in range(4)
    ]
    rows.append(
        hist.line(
            "again", D0 + timedelta(days=9), trader_id="210140000000", counterparty_name="shell trading fze"
        )
    )
    data = hist.data_of(rows)
    f = build_features(data, fitted(data))
    assert list(f.loc[["t0", "t1", "t2", "t3"], "counterparty_traders"]) == [0, 1, 2, 3]
    assert f.loc["again", "counterparty_traders"] == 4  # the same four traders, names compared case-blind
