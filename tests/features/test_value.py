"""Value family: unit values and robust z-scores against the fitted reference, with fallbacks."""

from datetime import date

import numpy as np
import pytest

from roundabout.features import build_features
from roundabout.features.artifacts import MIN_GROUP


def _reference_rows(hist, n: int, origin: str, hs_code: str = "8542310000") -> list[dict]:
    # value/kg alternates 90 and 110 around a median of 100: MAD = 10 in value, ~0.1 in log
    return [
        hist.line(f"{origin}{i}", date(2023, 1, 2), hs_code=hs_code, origin_country=origin,
                  value_usd=900.0 if i % 2 else 1100.0, net_mass_kg=10.0, quantity=10.0)
        for i in range(n)
    ]  # fmt: skip


def test_unit_values_and_signed_robust_z(hist, fitted) -> None:
    rows = _reference_rows(hist, MIN_GROUP, "DE")
    rows += [
        hist.line(
            "cheap", date(2023, 2, 1), origin_country="DE", value_usd=10.0, net_mass_kg=10.0, quantity=4.0
        ),
        hist.line(
            "dear", date(2023, 2, 1), origin_country="DE", value_usd=1e5, net_mass_kg=10.0, quantity=None
        ),
    ]
    data = hist.data_of(rows)
    f = build_features(data, fitted(data))
    assert f.loc["cheap", "unit_value_per_kg"] == 1.0
    assert f.loc["cheap", "unit_value_per_unit"] == 2.5
    assert np.isnan(f.loc["dear", "unit_value_per_unit"])  # no quantity: no per-unit value
    assert f.loc["cheap", "uv_kg_z"] < -5 and f.loc["dear", "uv_kg_z"] > 5  # both directions
    assert f.loc["cheap", "uv_kg_abs_z"] == pytest.approx(-f.loc["cheap", "uv_kg_z"])
    assert f.loc["cheap", "uv_ref_level"] == 3  # HS6+origin group is big enough
    assert abs(f.loc["DE0", "uv_kg_z"]) < 1.5


def test_small_groups_fall_back_to_hs6_then_chapter(hist, fitted) -> None:
    rows = _reference_rows(hist, MIN_GROUP - 2, "DE") + _reference_rows(hist, 4, "CN")
    rows += _reference_rows(hist, MIN_GROUP, "US", hs_code="8542390000")  # same chapter, other HS6
    rows += [hist.line("x", date(2023, 2, 1), hs_code="8541100000", origin_country="JP")]
    data = hist.data_of(rows)
    f = build_features(data, fitted(data))
    assert f.loc["DE0", "uv_ref_level"] == 2  # DE group too small -> HS6 (DE + CN = MIN_GROUP + 2)
    assert f.loc["x", "uv_ref_level"] == 1  # unseen HS6 -> chapter 85
    assert data.lines.shape[0] == len(f)


def test_no_reference_gives_nan_z(hist, fitted) -> None:
    data = hist.data_of([hist.line("a", date(2023, 1, 2))])
    f = build_features(data, fitted(data))
    assert np.isnan(f.loc["a", "uv_kg_z"]) and f.loc["a", "uv_ref_level"] == 0
