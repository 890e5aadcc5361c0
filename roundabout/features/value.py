"""Value features: unit value per kg and per unit, and how far it sits from the fitted reference.

The reference is the median and MAD of log unit value by HS6+origin, falling back to HS6 and then to the
HS chapter when a group had fewer than `MIN_GROUP` training lines. Both signs matter (under-valuation
hides value, over-valuation is what sanctions did to prices of goods reaching Russia), so the signed z and
its absolute value are both features.
"""

from typing import Any

import numpy as np

from roundabout.features.artifacts import FeatureArtifacts, log_unit_values
from roundabout.features.columns import Columns, map_rows


def _row_of(index: dict[str, int]) -> Any:
    def row(group: str | None) -> int:
        """Most specific reference row of an "hs6|origin" group (origin may be empty)."""
        if group is None:
            return 0
        hs6, _, origin = group.partition("|")
        if origin and (hit := index.get(f"3:{group}")):
            return hit
        return index.get(f"2:{hs6}") or index.get(f"1:{hs6[:2]}") or 0

    return row


def _group(hs6: str | None, origin: str | None) -> str | None:
    """The "hs6|origin" reference group of a line (origin may be empty)."""
    return None if hs6 is None else f"{hs6}|{origin or ''}"


def _robust_z(logs: np.ndarray, cols: Columns, reference: tuple[dict[str, int], np.ndarray]) -> tuple:
    """z = (log uv - median) / scale at the most specific level with a reference; and that level."""
    index, rows = reference
    row = _row_of(index)
    stats = rows[map_rows(lambda h, o: row(_group(h, o)), (cols["hs6"], cols["origin_country"]), "int64")]
    return (logs - stats[:, 0]) / stats[:, 1], stats[:, 2]


def reference_of(artifacts: FeatureArtifacts, per: str, hs6: str | None, origin: str | None) -> tuple:
    """(median, scale, level) of log value per kg (`per="kg"`) or per unit (`"unit"`) that a line of this
    HS6 and origin is judged against: level 3 = HS6+origin, 2 = HS6, 1 = chapter, 0 = none (NaN, NaN)."""
    index, rows = artifacts.lookup()[f"reference_{per}"]
    median, scale, level = rows[_row_of(index)(_group(hs6, origin))]
    return float(median), float(scale), int(level)


def _ratio(value: np.ndarray, base: np.ndarray) -> np.ndarray:
    with np.errstate(divide="ignore", invalid="ignore"):
        return np.where(base > 0, value / base, np.nan)


def value_features(cols: Columns, artifacts: FeatureArtifacts) -> dict[str, np.ndarray]:
    lookup = artifacts.lookup()
    kg, unit = log_unit_values(cols)
    z_kg, level = _robust_z(kg, cols, lookup["reference_kg"])
    z_unit, _ = _robust_z(unit, cols, lookup["reference_unit"])
    value, mass, qty = cols["value_usd"], cols["net_mass_kg"], cols["quantity"]
    with np.errstate(invalid="ignore"):
        log_value = np.where(value >= 0, np.log1p(np.where(value >= 0, value, 0.0)), np.nan)
    return {
        "log_value_usd": log_value,
        "unit_value_per_kg": _ratio(value, mass),
        "unit_value_per_unit": _ratio(value, qty),
        "uv_kg_z": z_kg,
        "uv_kg_abs_z": np.abs(z_kg),
        "uv_unit_z": z_unit,
        "uv_unit_abs_z": np.abs(z_unit),
        "uv_ref_level": np.where(np.isfinite(kg), level, np.nan),
    }
