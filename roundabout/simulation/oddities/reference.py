"""What "usual" and "never seen" mean for an altered line, measured on the reference the model could know.

An oddity is only odd against something: the usual value and units per kg of the line's commodity (HS6)
come from the reference frames (the training world), and a value "never seen" with an HS6 must be absent
from every reference line and from every line of the test world dated on or before the altered line (what
the product could have seen by then). Values the suite plants count as seen, so two altered lines never
share a "new" value.
"""

from collections.abc import Sequence
from dataclasses import dataclass, field

import numpy as np
import pandas as pd

from roundabout.data.schema import TRANSPORT_MODES
from roundabout.reference import ISO_ALPHA2

#: Fields whose "never seen with this HS6" values the suite plants.
UNSEEN_FIELDS: tuple[str, ...] = (
    "origin_country",
    "dispatch_country",
    "transport_mode",
    "customs_office",
    "counterparty_country",
)
COUNTRY_FIELDS: tuple[str, ...] = (
    "origin_country",
    "dispatch_country",
    "destination_country",
    "trading_country",
    "counterparty_country",
)
#: The importing country: an import's origin, dispatch or partner country is never set to it.
HOME = "KZ"


def hs6(codes: pd.Series) -> pd.Series:
    """The HS6 of commodity codes (their first six digits)."""
    return codes.astype("str").str.slice(0, 6)


def _medians(ratio: pd.Series, codes: pd.Series) -> dict[str, float]:
    """Median of a ratio per HS6, per chapter ('ch' + 2 digits) and over all ('*'), finite positive only."""
    ok = np.isfinite(ratio.to_numpy(dtype="float64", na_value=np.nan)) & (ratio > 0).to_numpy()
    ratio, codes = ratio[ok], codes[ok]
    if ratio.empty:
        return {}
    out = {"*": float(ratio.median())}
    out |= {f"ch{k}": float(v) for k, v in ratio.groupby(codes.str.slice(0, 2).to_numpy()).median().items()}
    out |= {str(k): float(v) for k, v in ratio.groupby(codes.str.slice(0, 6).to_numpy()).median().items()}
    return out


def _lookup(table: dict[str, float], hs_code: str) -> float | None:
    for key in (hs_code[:6], f"ch{hs_code[:2]}", "*"):
        if key in table:
            return table[key]
    return None


@dataclass
class Usual:
    """Median customs value per kg and supplementary units per kg of each HS6 in the reference (falling
    back to the chapter's, then to all lines')."""

    value_per_kg: dict[str, float]
    units_per_kg: dict[str, float]

    @classmethod
    def of(cls, reference: pd.DataFrame) -> "Usual":
        codes = hs6(reference["hs_code"])
        net = reference["net_mass_kg"].astype("float64")
        value = reference["value_usd"].astype("float64") / net
        units = reference["quantity"].astype("float64") / net
        return cls(_medians(value, codes), _medians(units, codes))

    def value(self, hs_code: str) -> float | None:
        """Usual USD per kg of the line's HS6 (None: the reference has no line with a mass)."""
        return _lookup(self.value_per_kg, hs_code)

    def units(self, hs_code: str) -> float | None:
        """Usual supplementary units per kg of the line's HS6 (None: no reference line has a quantity)."""
        return _lookup(self.units_per_kg, hs_code)


def _days(dates: pd.Series) -> np.ndarray:
    return dates.to_numpy(dtype="datetime64[D]").astype("int64")


@dataclass
class Seen:
    """Which values of each field every HS6 has been declared with, and from which day of the test world."""

    reference: dict[str, dict[str, set[str]]]
    first_day: dict[str, dict[tuple[str, str], int]]
    universe: dict[str, tuple[str, ...]]
    fallback: dict[str, tuple[str, ...]]
    planted: dict[str, set[tuple[str, str]]] = field(default_factory=dict)

    @classmethod
    def of(cls, reference: Sequence[pd.DataFrame], test_lines: pd.DataFrame) -> "Seen":
        frames = [*reference, test_lines]
        ref_sets: dict[str, dict[str, set[str]]] = {}
        first: dict[str, dict[tuple[str, str], int]] = {}
        for name in UNSEEN_FIELDS:
            sets: dict[str, set[str]] = {}
            for frame in reference:
                pairs = (
                    pd.DataFrame({"h": hs6(frame["hs_code"]), "v": frame[name]}).dropna().drop_duplicates()
                )
                for h, values in pairs.groupby("h")["v"]:
                    sets.setdefault(str(h), set()).update(values.astype(str))
            ref_sets[name] = sets
            test = pd.DataFrame(
                {"h": hs6(test_lines["hs_code"]), "v": test_lines[name], "d": _days(test_lines["date"])}
            ).dropna()
            firsts = test.groupby(["h", "v"])["d"].min()
            first[name] = {(str(h), str(v)): int(d) for (h, v), d in firsts.items()}
        countries = set().union(*(set(f[c].dropna().astype(str)) for f in frames for c in COUNTRY_FIELDS))
        offices = sorted(set().union(*(set(f["customs_office"].dropna().astype(str)) for f in frames)))
        known = tuple(sorted(countries & ISO_ALPHA2 - {HOME}))
        every = tuple(sorted(set(ISO_ALPHA2) - {HOME}))
        universe = {name: known for name in ("origin_country", "dispatch_country", "counterparty_country")}
        fallback = {name: every for name in universe}
        universe |= {"transport_mode": TRANSPORT_MODES, "customs_office": tuple(offices)}
        fallback |= {"transport_mode": (), "customs_office": ()}
        return cls(ref_sets, first, universe, fallback)

    def is_seen(self, name: str, hs_code: str, value: str, day: int) -> bool:
        """Whether `value` of field `name` was declared with the HS6 of `hs_code` in the reference, on a test
        line dated on or before `day`, or planted by the suite."""
        h = hs_code[:6]
        if value in self.reference[name].get(h, ()) or (h, value) in self.planted.get(name, ()):
            return True
        first = self.first_day[name].get((h, value))
        return first is not None and first <= day

    def unseen(self, name: str, hs_code: str, day: int) -> list[str]:
        """Values of field `name` never seen with this HS6 by `day`: plausible ones (declared somewhere in
        the data) first, any valid one only when none is left; empty when no valid value is unseen."""
        for pool in (self.universe[name], self.fallback[name]):
            out = [v for v in pool if not self.is_seen(name, hs_code, v, day)]
            if out:
                return out
        return []

    def plant(self, name: str, hs_code: str, value: str) -> None:
        """Record a value the suite planted, so no later alteration counts it as new again."""
        self.planted.setdefault(name, set()).add((hs_code[:6], value))


def day_of(date: object) -> int:
    """A date as the day number `Seen` compares."""
    return int(np.datetime64(pd.Timestamp(date).date(), "D").astype("int64"))
