"""PSI and Wilson intervals against figures worked by hand."""

import math

import numpy as np
import pytest

from roundabout.monitoring.statistics import SHARE_FLOOR, psi, psi_rows, wilson


def test_psi_is_zero_for_the_reference_and_matches_the_formula() -> None:
    ref = np.array([0.5, 0.5])
    assert psi(ref, np.array([50, 50])) == pytest.approx(0.0)
    expected = (0.8 - 0.5) * math.log(0.8 / 0.5) + (0.2 - 0.5) * math.log(0.2 / 0.5)
    assert psi(ref, np.array([80, 20])) == pytest.approx(expected)


def test_an_empty_bin_gives_a_large_finite_psi_and_no_lines_none() -> None:
    value = psi(np.array([0.5, 0.5, 0.0]), np.array([0, 0, 10]))
    assert math.isfinite(value) and value > 5
    assert math.isnan(psi(np.array([1.0]), np.array([0])))
    assert SHARE_FLOOR > 0


def test_psi_rows_agree_with_psi() -> None:
    ref = np.array([0.2, 0.3, 0.5])
    counts = np.array([[20, 30, 50], [50, 25, 25], [0, 0, 0]])
    rows = psi_rows(ref, counts)
    assert rows[0] == pytest.approx(0.0) and rows[1] == pytest.approx(psi(ref, counts[1]))
    assert math.isnan(rows[2])


def test_wilson_interval() -> None:
    low, high = wilson(3, 40)  # worked: p=0.075, z=1.96
    assert low == pytest.approx(0.0258, abs=1e-3) and high == pytest.approx(0.1986, abs=1e-3)
    assert wilson(0, 10)[0] == 0.0 and wilson(0, 10)[1] > 0.2
    assert all(math.isnan(v) for v in wilson(0, 0))
