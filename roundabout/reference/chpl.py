"""The Common High Priority List (CHPL) of HS6 codes.

Source: US Bureau of Industry and Security (BIS), "Common High Priority Items List", 23 Feb 2024 (bis.gov),
drawn up with the EU, Japan and the UK. 50 codes in tiers 1, 2, 3.A, 3.B, 4.A, 4.B; `chpl_hs_codes.csv`
holds each code's tier and its HS 2022 subheading text.
"""

from functools import cache
from importlib.resources import files

import pandas as pd

#: Numeric rank of each tier: 1 is the most critical (integrated circuits), 6 the least.
TIER_RANK: dict[str, int] = {
    "Tier 1": 1,
    "Tier 2": 2,
    "Tier 3.A": 3,
    "Tier 3.B": 4,
    "Tier 4.A": 5,
    "Tier 4.B": 6,
}


@cache
def chpl_table() -> pd.DataFrame:
    """The CHPL as a frame: `hs6` (str), `tier` (e.g. "Tier 1"), `tier_rank` (1..6), `description`."""
    path = files("roundabout.reference").joinpath("chpl_hs_codes.csv")
    with path.open("r", encoding="utf-8") as fh:
        table = pd.read_csv(fh, dtype=str)
    table["tier_rank"] = table["tier"].map(TIER_RANK).astype("int64")
    return table


@cache
def _tier_by_hs6() -> dict[str, str]:
    table = chpl_table()
    return dict(zip(table["hs6"], table["tier"], strict=True))


def chpl_tier_of(hs_code: str) -> str | None:
    """The CHPL tier of a commodity code (any length >= 6; joined on its first 6 digits), or None."""
    return _tier_by_hs6().get(hs_code[:6])


def chpl_tier_rank(hs_code: str) -> int:
    """Tier rank 1..6 of a commodity code, 0 when it is not on the CHPL."""
    tier = chpl_tier_of(hs_code)
    return TIER_RANK[tier] if tier else 0
