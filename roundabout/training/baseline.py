"""The rules baseline: how customs picks lines today, ranked so it can be cut at any inspection rate.

Rules (those of the simulated world's inspection policy, `roundabout/simulation/inspections.py`; the
sanctions rule follows the BIS Common High Priority List of 23 Feb 2024 and the FinCEN/BIS joint alerts
of June 2022 and May 2023):

- the sanctions rule: CHPL Tier 1-2 goods bound for Russia or Belarus (destination RU/BY); weight 4;
- legacy rules, weight 1 each: a DT line above 200,000 USD; an import whose value per kg is below 0.3 of
  the HS6 median (medians from the training lines); a DT line of a trader registered (BIN) or first seen
  less than 180 days before.

The rule score is the weighted count of rules hit; lines with equal scores are ordered by customs value
(larger first), the natural choice of an officer with one more slot. The baseline reads canonical lines
only, never features or labels, so it is independent of the model it is compared with.
"""

from typing import Self

import numpy as np
import pandas as pd

from roundabout.features.columns import bin_registration_day
from roundabout.reference.chpl import chpl_tier_rank

SANCTIONS_WEIGHT = 4.0
HIGH_VALUE_USD = 200_000.0
LOW_UNIT_VALUE_RATIO = 0.3
NEW_TRADER_DAYS = 180


class RulesBaseline:
    """Rule score of goods lines; `fit` learns the HS6 unit-value medians from training lines."""

    def __init__(self) -> None:
        self.hs6_median_: dict[str, float] = {}

    def fit(self, lines: pd.DataFrame) -> Self:
        hs6 = lines["hs_code"].astype(object).str[:6]
        with np.errstate(divide="ignore", invalid="ignore"):
            uv = lines["value_usd"] / lines["net_mass_kg"].where(lines["net_mass_kg"] > 0)
        frame = pd.DataFrame({"hs6": hs6, "uv": uv}).dropna()
        self.hs6_median_ = frame.groupby("hs6")["uv"].median().to_dict()
        return self

    def rules(self, lines: pd.DataFrame, history: pd.DataFrame | None = None) -> pd.DataFrame:
        """Which rule each line hits (booleans). `history` (default: `lines`) dates first sightings."""
        hs = lines["hs_code"].astype(object)
        codes, uniques = pd.factorize(hs)
        tiers = np.array([chpl_tier_rank(u) if isinstance(u, str) else 0 for u in uniques] + [0])[codes]
        bound = lines["destination_country"].isin(["RU", "BY"]).to_numpy()
        sanctions = np.isin(tiers, (1, 2)) & bound
        is_dt = (lines["document_kind"] == "DT").to_numpy()
        high_value = is_dt & (lines["value_usd"].to_numpy(dtype="float64", na_value=0.0) > HIGH_VALUE_USD)
        median = hs.str[:6].map(self.hs6_median_).to_numpy(dtype="float64", na_value=np.nan)
        with np.errstate(divide="ignore", invalid="ignore"):
            uv = (lines["value_usd"] / lines["net_mass_kg"].where(lines["net_mass_kg"] > 0)).to_numpy(
                dtype="float64", na_value=np.nan
            )
            low_uv = (lines["direction"] == "import").to_numpy() & (uv < LOW_UNIT_VALUE_RATIO * median)
        day = lines["date"].to_numpy(dtype="datetime64[D]").astype("int64")
        start = self._start_day(lines, history if history is not None else lines)
        new_trader = is_dt & (day - start < NEW_TRADER_DAYS)
        return pd.DataFrame(
            {
                "sanctions": sanctions,
                "high_value": high_value,
                "low_unit_value": low_uv,
                "new_trader": new_trader,
            },
            index=lines.index,
        )

    def score(self, lines: pd.DataFrame, history: pd.DataFrame | None = None) -> np.ndarray:
        """Rule score plus a tie-break by value below one score step (so ranking by it is well defined)."""
        hits = self.rules(lines, history)
        base = SANCTIONS_WEIGHT * hits["sanctions"].to_numpy(float) + hits[
            ["high_value", "low_unit_value", "new_trader"]
        ].sum(axis=1).to_numpy(float)
        value = lines["value_usd"].to_numpy(dtype="float64", na_value=0.0)
        order = pd.Series(value).rank(method="first").to_numpy() / (len(value) + 1.0)
        return base + 0.5 * order

    @staticmethod
    def _start_day(lines: pd.DataFrame, history: pd.DataFrame) -> np.ndarray:
        """Registration day from the BIN, else the first day the trader appears in `history`."""
        first = history.groupby("trader_id")["date"].min().to_numpy(dtype="datetime64[D]").astype("int64")
        first_map = dict(zip(history.groupby("trader_id")["date"].min().index, first, strict=True))
        ids = lines["trader_id"].astype(object)
        codes, uniques = pd.factorize(ids)
        reg = np.array([bin_registration_day(u) for u in uniques] + [np.nan])
        seen = np.array([first_map.get(u, np.nan) for u in uniques] + [np.nan], dtype="float64")
        start = np.where(np.isfinite(reg), reg, seen)[codes]
        return np.where(np.isfinite(start), start, -1e9)
