"""Goods features: what the line is (HS chapter and heading, CHPL tier, chipmaker brands in the text)."""

import re

import numpy as np

from roundabout.features.artifacts import FeatureArtifacts, category_values
from roundabout.features.columns import Columns, map_values
from roundabout.reference import CHIPMAKER_BRANDS

_BRAND_RE = re.compile(
    r"\b(" + "|".join(re.escape(s) for spellings in CHIPMAKER_BRANDS.values() for s in spellings) + r")\b"
)
#: Chapters where a chipmaker's name fits the code: machinery, electrical equipment, instruments.
_ELECTRONIC_CHAPTERS = (84.0, 85.0, 90.0)


def brand_of(description: str | None) -> str | None:
    """The canonical chipmaker named in a description (whole-word, case-blind), or None."""
    if description is None:
        return None
    match = _BRAND_RE.search(description.casefold())
    if match is None:
        return None
    word = match.group(1)
    return next(brand for brand, spellings in CHIPMAKER_BRANDS.items() if word in spellings)


def _has_brand(description: str | None) -> float:
    if description is None:
        return np.nan
    return 1.0 if brand_of(description) is not None else 0.0


def encode_category(values: np.ndarray, levels: dict[str, float]) -> np.ndarray:
    """Level code: 1.. for fitted levels, 0 for other/unseen, NaN for missing."""
    return map_values(values, lambda v: np.nan if v is None else levels.get(v, 0.0), "float64")


def goods_features(cols: Columns, artifacts: FeatureArtifacts) -> dict[str, np.ndarray]:
    levels = artifacts.lookup()["levels"]
    brand = map_values(cols["description"], _has_brand, "float64")
    chapter = cols["hs_chapter"]
    mismatch = np.where(np.isnan(brand), np.nan, (brand == 1.0) & ~np.isin(chapter, _ELECTRONIC_CHAPTERS))
    return {
        "hs_chapter": encode_category(category_values(cols, "hs_chapter"), levels["hs_chapter"]),
        "hs_heading": cols["hs_heading"],
        "chpl_tier_rank": cols["tier_rank"],
        "chpl_tier12": np.where(np.isnan(cols["tier_rank"]), np.nan, cols["tier12"]),
        "chipmaker_brand": brand,
        "brand_code_mismatch": mismatch.astype("float64"),
    }
