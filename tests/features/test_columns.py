"""Columns: BIN registration dates and the per-value mapping shared by both paths."""

from datetime import date

import numpy as np

from roundabout.features.columns import bin_registration_day, day_number, map_values, normalise_name


def test_bin_prefix_is_registration_month() -> None:
    assert bin_registration_day("220540054321") == day_number(date(2022, 5, 1))
    assert bin_registration_day("990140022222") == day_number(date(1999, 1, 1))  # YY >= 90 is 19YY
    assert bin_registration_day("891240022222") == day_number(date(2089, 12, 1))


def test_non_bin_ids_have_no_registration_date() -> None:
    for trader_id in ("FOREIGN-7", "12345", "221340012345", None):  # not 12 digits, month 13, missing
        assert np.isnan(bin_registration_day(trader_id))


def test_map_values_same_result_small_and_large() -> None:
    values = np.array(["a", None, "b", "a"] * 50, dtype=object)
    fn = lambda v: -1.0 if v is None else float(ord(v))  # noqa: E731
    big = map_values(values, fn, "float64")
    small = np.concatenate([map_values(values[i : i + 4], fn, "float64") for i in range(0, len(values), 4)])
    assert np.array_equal(big, small)


def test_counterparty_names_compare_case_and_space_blind() -> None:
    assert normalise_name("  ACME   GmbH ") == normalise_name("acme gmbh") == "acme gmbh"
    assert normalise_name("   ") is None
