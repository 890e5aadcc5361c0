"""Columns: BIN registration dates and the per-value mapping shared by both paths."""

from datetime import date

import numpy as np
import pandas as pd
import pyarrow as pa

from roundabout.features import columns as columns_module
from roundabout.features.columns import (
    _shared_strings,
    bin_registration_day,
    day_number,
    factorize,
    map_rows,
    map_values,
    normalise_name,
    shared_factorizations,
)


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


def test_map_rows_same_result_small_and_large() -> None:
    rng = np.random.default_rng(0)
    pick = lambda values: np.array([values[i] for i in rng.integers(0, len(values), 500)], dtype=object)  # noqa: E731
    a, b, c = pick(["RU", "BY", None, "DE"]), pick(["x", None]), pick(["KZ", "RU", None])
    fn = lambda x, y, z: np.nan if x is None else float(f"{x}{y}{z}".count("R"))  # noqa: E731
    expected = np.array([fn(*row) for row in zip(a, b, c, strict=True)])
    big = map_rows(fn, (a, b, c), "float64")
    small = np.concatenate(
        [map_rows(fn, (a[i : i + 50], b[i : i + 50], c[i : i + 50]), "float64") for i in range(0, 500, 50)]
    )
    with shared_factorizations():
        shared = map_rows(fn, (a, b, c), "float64")
        again = map_rows(fn, (a, b, c), "float64")
    np.testing.assert_array_equal(big, expected)
    np.testing.assert_array_equal(small, expected)
    np.testing.assert_array_equal(shared, expected)
    np.testing.assert_array_equal(again, expected)


def test_map_rows_renumbers_before_combination_codes_overflow(monkeypatch) -> None:
    rng = np.random.default_rng(1)
    columns = [np.array([f"v{i}" for i in rng.integers(0, 40, 300)], dtype=object) for _ in range(4)]
    fn = lambda *row: float(sum(int(v[1:]) * 41**k for k, v in enumerate(row)))  # noqa: E731
    expected = map_rows(fn, columns, "float64")
    monkeypatch.setattr(columns_module, "_KEY_LIMIT", 1)
    np.testing.assert_array_equal(map_rows(fn, columns, "float64"), expected)
    assert expected[0] == fn(*(c[0] for c in columns))


def test_shared_factorizations_are_pandas_ones_computed_once() -> None:
    values = np.array(["b", None, "a", "b", "c", None] * 30, dtype=object)
    codes, uniques = pd.factorize(values, use_na_sentinel=True)
    with shared_factorizations():
        first = factorize(values)
        assert factorize(values)[0] is first[0]  # remembered
        assert factorize(values.copy())[0] is not first[0]  # by identity, not by content
    np.testing.assert_array_equal(first[0], codes)
    np.testing.assert_array_equal(first[1], uniques)
    assert factorize(values)[0] is not first[0]  # forgotten outside the block


def test_text_columns_remember_their_factorization() -> None:
    """A text column's codes come from reading it (empty strings missing), equal to pd.factorize's."""
    chunked = pa.chunked_array([["b", "", None, "a"], ["c", "", "a", None, "d", "b"]])
    for series in (
        pd.Series(pd.arrays.ArrowExtensionArray(chunked)),
        pd.Series(["b", "", None, "a", "c", "", "a", None, "d", "b"], dtype=object),
        pd.Series(["b", "", None, "a", "c", "", "a", None, "d", "b"], dtype="str"),
    ):
        with shared_factorizations():
            out = _shared_strings(series)
            codes, uniques = factorize(out)
        assert list(out) == ["b", None, None, "a", "c", None, "a", None, "d", "b"]
        expected_codes, expected_uniques = pd.factorize(out, use_na_sentinel=True)
        np.testing.assert_array_equal(codes, expected_codes)
        assert list(uniques) == list(expected_uniques)
