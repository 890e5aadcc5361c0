"""Chains family: import then export of the same HS6 by the same trader to Russia/Belarus."""

from datetime import date, timedelta

import numpy as np

from roundabout.features import build_features

D0 = date(2023, 5, 1)


def _snt_export(hist, line_id: str, day: date, **fields):
    base = dict(document_kind="SNT", direction="export", destination_country="RU", counterparty_country="RU",
                counterparty_name="OOO Roga")  # fmt: skip
    return hist.line(line_id, day, **{**base, **fields})


def _f(hist, fitted, rows):
    data = hist.data_of(rows)
    return build_features(data, fitted(data))


def test_worked_example_lag_5_share_09(hist, fitted) -> None:
    f = _f(hist, fitted, [
        hist.line("imp", D0, hs_code="8542310000", quantity=100.0),
        _snt_export(hist, "exp", D0 + timedelta(days=5), hs_code="8542310000", quantity=90.0),
    ])  # fmt: skip
    assert f.loc["exp", "chain_lag_days"] == 5
    assert f.loc["exp", "chain_reship_share"] == 0.9
    assert np.isnan(f.loc["imp", "chain_lag_days"])  # only RU/BY-bound exports get a chain


def test_latest_import_within_lookback_and_window(hist, fitted) -> None:
    f = _f(hist, fitted, [
        hist.line("old", D0 - timedelta(days=200), quantity=1000.0),  # outside 180-day look-back
        hist.line("i1", D0, quantity=60.0),
        hist.line("i2", D0 + timedelta(days=3), quantity=40.0),
        hist.line("other_hs", D0 + timedelta(days=9), hs_code="8471500000", quantity=500.0),
        hist.line("other_trader", D0 + timedelta(days=9), trader_id="210140011111", quantity=500.0),
        _snt_export(hist, "e", D0 + timedelta(days=10), quantity=50.0),
        _snt_export(hist, "same_day_import", D0 + timedelta(days=3), quantity=10.0),
        _snt_export(hist, "kg", D0 + timedelta(days=10), destination_country="KG", quantity=50.0),
        _snt_export(hist, "too_late", D0 - timedelta(days=10), quantity=1.0),
    ])  # fmt: skip
    assert f.loc["e", "chain_lag_days"] == 7  # since i2
    assert f.loc["e", "chain_reship_share"] == 0.5  # 50 of 60 + 40 within 90 days
    assert f.loc["same_day_import", "chain_lag_days"] == 3  # i2 the same day is not seen; i1 is
    assert f.loc["same_day_import", "chain_reship_share"] == 10 / 60
    assert np.isnan(f.loc["kg", "chain_lag_days"])  # not bound for RU/BY
    assert np.isnan(f.loc["too_late", "chain_lag_days"])  # only the import 190 days back
    assert np.isnan(f.loc["too_late", "chain_reship_share"])


def test_share_falls_back_to_net_mass_when_a_quantity_is_missing(hist, fitted) -> None:
    f = _f(hist, fitted, [
        hist.line("i1", D0, quantity=100.0, net_mass_kg=20.0, gross_mass_kg=25.0),
        hist.line("i2", D0, quantity=None, net_mass_kg=30.0, gross_mass_kg=35.0),
        _snt_export(hist, "e", D0 + timedelta(days=2), quantity=50.0, net_mass_kg=10.0),
    ])  # fmt: skip
    assert f.loc["e", "chain_reship_share"] == 10.0 / 50.0


def test_quick_reshipment_habit_is_seen_by_later_imports(hist, fitted) -> None:
    f = _f(hist, fitted, [
        hist.line("i1", D0),
        _snt_export(hist, "quick", D0 + timedelta(days=20)),
        hist.line("i2", D0 + timedelta(days=40), hs_code="8471500000"),
        _snt_export(hist, "slow", D0 + timedelta(days=100), hs_code="8471500000"),  # 60 days after i2
        _snt_export(hist, "no_import", D0 + timedelta(days=101), hs_code="6403990000"),
        hist.line("i3", D0 + timedelta(days=102)),
    ])  # fmt: skip
    assert f.loc["i2", "trader_quick_reships"] == 1 and f.loc["i2", "trader_ru_by_exports"] == 1
    assert f.loc["i3", "trader_ru_by_exports"] == 3
    assert f.loc["i3", "trader_quick_reships"] == 1
    assert f.loc["i3", "trader_quick_reship_share"] == 1 / 3
    assert np.isnan(f.loc["i1", "trader_quick_reship_share"])


def test_transit_flags(hist, fitted) -> None:
    transit = dict(direction="transit", procedure="80", trading_country="KG")
    f = _f(hist, fitted, [
        hist.line("t_ok", D0, destination_country="KG", counterparty_country="KG", **transit),
        hist.line("t_ru", D0, destination_country="KG", counterparty_country="RU", **transit),
        hist.line("imp", D0),
    ])  # fmt: skip
    assert f.loc["t_ok", "transit_ru_by_party"] == 0 and f.loc["t_ok", "transit_destination_mismatch"] == 0
    assert f.loc["t_ru", "transit_ru_by_party"] == 1 and f.loc["t_ru", "transit_destination_mismatch"] == 1
    assert np.isnan(f.loc["imp", "transit_ru_by_party"])
