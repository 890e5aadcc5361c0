"""Trader history family on hand-made histories: age, windows, spike, mix shift, first CHPL, parties."""

from datetime import date, timedelta

import numpy as np
import pytest

from roundabout.features import build_features
from roundabout.features.columns import INVASION_DAY, day_number


def _f(hist, fitted, rows, outcomes=()):
    data = hist.data_of(rows, outcomes)
    return build_features(data, fitted(data))


def test_age_and_registration_from_the_bin(hist, fitted) -> None:
    f = _f(hist, fitted, [
        hist.line("old", date(2023, 3, 1), trader_id=hist.OLD_TRADER),  # registered 2019-03
        hist.line("new", date(2023, 3, 1), trader_id=hist.NEW_TRADER),  # registered 2022-05
    ])  # fmt: skip
    assert f.loc["old", "trader_age_days"] == (date(2023, 3, 1) - date(2019, 3, 1)).days
    assert f.loc["new", "trader_age_days"] == (date(2023, 3, 1) - date(2022, 5, 1)).days
    assert f.loc["old", "trader_registered_after_invasion"] == 0
    assert f.loc["new", "trader_registered_after_invasion"] == 1
    assert f.loc["new", "trader_id_is_bin"] == 1


def test_age_falls_back_to_first_seen_for_foreign_ids(hist, fitted) -> None:
    f = _f(hist, fitted, [
        hist.line("a", date(2022, 3, 1), trader_id="FOREIGN-1"),
        hist.line("b", date(2022, 3, 11), trader_id="FOREIGN-1"),
    ])  # fmt: skip
    assert f.loc["a", "trader_age_days"] == 0  # first line: seen today
    assert f.loc["b", "trader_age_days"] == 10
    assert f.loc["b", "trader_registered_after_invasion"] == 1  # first seen 2022-03-01
    assert f.loc["b", "trader_id_is_bin"] == 0


def test_trailing_windows_exclude_the_line_day_and_older_days(hist, fitted) -> None:
    d0 = date(2023, 6, 1)
    rows = [
        hist.line("y", d0 - timedelta(days=200), value_usd=5.0),
        hist.line("m", d0 - timedelta(days=60), value_usd=7.0),
        hist.line(
            "w", d0 - timedelta(days=30), value_usd=11.0
        ),  # exactly 30 days before: in the 30-day window
        hist.line("same", d0, value_usd=1000.0),  # same day: never seen
        hist.line("x", d0, value_usd=13.0),
    ]
    f = _f(hist, fitted, rows)
    assert f.loc["x", "trader_lines_30d"] == 1 and f.loc["x", "trader_value_30d"] == 11.0
    assert f.loc["x", "trader_lines_90d"] == 2 and f.loc["x", "trader_value_90d"] == 18.0
    assert f.loc["x", "trader_lines_365d"] == 3 and f.loc["x", "trader_value_365d"] == 23.0
    assert f.loc["x", "trader_value_spike"] == pytest.approx(11.0 / (23.0 * 30 / 365))
    assert f.loc["y", "trader_lines_365d"] == 0 and np.isnan(f.loc["y", "trader_value_spike"])


def test_chpl_share_shift_against_own_baseline(hist, fitted) -> None:
    d0 = date(2023, 6, 1)
    rows = [
        hist.line(f"s{i}", d0 - timedelta(days=300 + i), hs_code="6403990000", value_usd=100.0)
        for i in range(3)
    ]
    rows += [hist.line("c", d0 - timedelta(days=10), hs_code="8542310000", value_usd=100.0)]
    rows += [hist.line("x", d0)]
    f = _f(hist, fitted, rows)
    assert f.loc["x", "trader_chpl_share_all"] == 0.25
    assert f.loc["x", "trader_chpl_share_90d"] == 1.0
    assert f.loc["x", "trader_chpl_share_shift"] == 0.75
    assert f.loc["x", "trader_hs6_prior_lines"] == 1  # one earlier line of 854231
    assert f.loc["s0", "trader_hs6_prior_lines"] == 2  # s1, s2 are earlier (days 301, 302 before)


def test_first_chpl_after_invasion(hist, fitted) -> None:
    inv = date(2022, 2, 24)
    before, after = inv - timedelta(days=5), inv + timedelta(days=5)
    f = _f(hist, fitted, [
        # trader A: Tier 1 goods before the invasion -> never "first after"
        hist.line("a1", before, trader_id="210140011111"),
        hist.line("a2", after, trader_id="210140011111"),
        # trader B: only shoes before, first Tier 1 goods after the invasion
        hist.line("b1", before, trader_id="210140022222", hs_code="6403990000"),
        hist.line("b2", after, trader_id="210140022222"),
        hist.line("b3", after + timedelta(days=1), trader_id="210140022222", hs_code="6403990000"),
    ])  # fmt: skip
    assert f.loc["a1", "first_chpl_after_invasion"] == 0
    assert f.loc["a2", "first_chpl_after_invasion"] == 0
    assert f.loc["b1", "first_chpl_after_invasion"] == 0  # no Tier 1-2 goods yet
    assert f.loc["b2", "first_chpl_after_invasion"] == 1  # this line is its first
    assert f.loc["b3", "first_chpl_after_invasion"] == 1  # history began after the invasion
    assert day_number(after) >= INVASION_DAY


def test_distinct_counterparties_and_countries(hist, fitted) -> None:
    d0 = date(2023, 6, 1)
    f = _f(hist, fitted, [
        hist.line("a", d0, counterparty_name="Acme GmbH", counterparty_country="DE"),
        hist.line("b", d0 + timedelta(days=1), counterparty_name="ACME  gmbh", counterparty_country="DE"),
        hist.line("c", d0 + timedelta(days=2), counterparty_name="Shenzhen Chip", counterparty_country="CN"),
        hist.line("d", d0 + timedelta(days=3), counterparty_name=None, counterparty_country="TR"),
        hist.line("x", d0 + timedelta(days=4)),
    ])  # fmt: skip
    assert f.loc["a", "trader_counterparties"] == 0
    assert f.loc["c", "trader_counterparties"] == 1  # two spellings of one name
    assert f.loc["x", "trader_counterparties"] == 2
    assert f.loc["x", "trader_counterparty_countries"] == 3


def test_trader_violation_rate_uses_outcomes_known_before_the_date(hist, fitted) -> None:
    d0 = date(2023, 6, 1)
    rows = [
        hist.line("a", d0),
        hist.line("b", d0 + timedelta(days=10)),
        hist.line("c", d0 + timedelta(days=20)),
    ]
    rows.append(hist.line("other", d0, trader_id=hist.NEW_TRADER))
    # a's violation is known from day 10: not visible to b (same day), visible to c
    outcomes = [("a", d0 + timedelta(days=10), "violation"), ("other", d0, "clean")]
    data = hist.data_of(rows, outcomes)
    art = fitted(data)
    f = build_features(data, art)
    prior = art.prior_violation_rate
    assert prior == 0.5  # one violation, one clean outcome in training
    assert f.loc["b", "trader_inspections"] == 0 and f.loc["b", "trader_violation_rate"] == prior
    assert f.loc["c", "trader_inspections"] == 1
    assert f.loc["c", "trader_violation_rate"] == pytest.approx((1 + 10 * prior) / (1 + 10))
