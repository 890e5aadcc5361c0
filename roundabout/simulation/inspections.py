"""Which lines customs inspects, and what the inspectors find: the partial, biased labels.

Capacity is a few percent of lines. Most inspections come from legacy risk rules (high value, low unit
value against the HS6 median, young traders, and from the SNT obligation on, sensitive CHPL goods bound for
Russia or Belarus); a small quota is drawn uniformly at random, as customs research recommends for
learning new patterns. Every inspection records why the line was picked (`selection`: rule or exploration)
and the exact probability the procedure had of picking it (`propensity`), so that estimates from the labels
can be reweighted. An inspection finds a real violation only with the detection rate (less on the import leg
of a chain, whose evidence lies downstream; less again for a documentary check than a physical one). Honest
lines carry ordinary violations at a small rate, which inspections also find: realistic label noise.
Uninspected lines have no outcome. `inspect_selected` inspects any lines given the world's `HiddenTruth`,
so a simulation of another selection policy gets its labels from the same machinery.
"""

from dataclasses import dataclass

import numpy as np
import pandas as pd

from roundabout.data.schema import INSPECTION_COLUMNS, SELECTIONS
from roundabout.reference import RUSSIA_BELARUS, SNT_OBLIGATION, chpl_table
from roundabout.simulation.config import InspectionConfig
from roundabout.simulation.trade_arrays import HONEST_VIOLATIONS, LEG_IMPORT, SCHEMES

#: The violation type an inspection records for each scheme.
SCHEME_VIOLATION: dict[str, str] = {
    "reexport_chain": "sanctions_circumvention",
    "shell_company": "sanctions_circumvention",
    "mix_shift": "sanctions_circumvention",
    "misclassification": "misclassification",
    "transit_diversion": "transit_diversion",
    "price_anomaly": "price_manipulation",
}
_SCHEME_TYPE = np.array([""] + [SCHEME_VIOLATION[s] for s in SCHEMES[1:]], dtype=object)
_HONEST_TYPE = np.array(HONEST_VIOLATIONS, dtype=object)

#: Inspection channels: a physical inspection (red) or a documentary check (yellow), which finds less.
RED, YELLOW = "red", "yellow"
CHANNELS = (RED, YELLOW)


@dataclass(frozen=True, eq=False)
class HiddenTruth:
    """What an inspection can find on each line, in canonical line order; never part of the data, so a
    later simulation can inspect lines the legacy procedure did not pick."""

    scheme: np.ndarray  # index into trade_arrays.SCHEMES, 0 for honest lines
    violation: np.ndarray  # index into trade_arrays.HONEST_VIOLATIONS, 0 for none
    leg: np.ndarray  # trade_arrays.LEG_IMPORT on import legs of chains (evidence downstream), else 0

    def __len__(self) -> int:
        return len(self.scheme)

    def take(self, rows: np.ndarray) -> "HiddenTruth":
        """The truth of the lines at `rows` (indices or a mask), in that order."""
        return HiddenTruth(self.scheme[rows], self.violation[rows], self.leg[rows])


@dataclass(frozen=True, eq=False)
class LegacySelection:
    """The lines the legacy procedure picks, per line: picked, picked by the rules, and the probability
    the procedure had of picking it (given the rule hits, which are fixed by the lines)."""

    chosen: np.ndarray
    by_rule: np.ndarray
    propensity: np.ndarray


def registration_month(trader_id: pd.Series) -> pd.Series:
    """Registration month read from a Kazakh BIN (YYMM in the first four digits)."""
    yy = pd.to_numeric(trader_id.str.slice(0, 2), errors="coerce")
    mm = pd.to_numeric(trader_id.str.slice(2, 4), errors="coerce")
    year = np.where(yy > 50, 1900 + yy, 2000 + yy)
    return pd.to_datetime(pd.DataFrame({"year": year, "month": mm, "day": 1}), errors="coerce")


def unit_values(lines: pd.DataFrame) -> pd.Series:
    """Value per supplementary unit where there is one, else per kg of net mass."""
    per = lines["quantity"].where(lines["quantity"] > 0, lines["net_mass_kg"])
    return lines["value_usd"] / per.where(per > 0)


def legacy_rules(lines: pd.DataFrame, cfg: InspectionConfig) -> pd.DataFrame:
    """The legacy risk rules, one boolean column each, over canonical lines."""
    dt = lines["document_kind"].eq("DT").to_numpy()
    imports = (lines["procedure"] == "40").fillna(False).to_numpy(dtype=bool)
    uv = unit_values(lines)
    hs6 = lines["hs_code"].str.slice(0, 6)
    median = uv.where(imports).groupby(hs6).transform("median")
    age = (lines["date"] - registration_month(lines["trader_id"])).dt.days
    tiers = chpl_table().set_index("hs6")["tier_rank"]
    rank = hs6.map(tiers).fillna(0).to_numpy()
    russia = lines["destination_country"].isin(RUSSIA_BELARUS).to_numpy()
    after = (lines["date"] >= pd.Timestamp(SNT_OBLIGATION)).to_numpy()
    return pd.DataFrame(
        {
            "high_value": dt & (lines["value_usd"] > cfg.high_value_usd).to_numpy(),
            "low_unit_value": imports & (uv < cfg.low_unit_value_ratio * median).fillna(False).to_numpy(bool),
            "new_trader": dt & (age < cfg.new_trader_days).fillna(False).to_numpy(bool),
            "sensitive_to_russia": after & russia & (rank > 0) & (rank <= cfg.sensitive_tiers),
        },
        index=lines.index,
    )


def legacy_selection(rng: np.random.Generator, hits: np.ndarray, cfg: InspectionConfig) -> LegacySelection:
    """Capacity lines: the rules' share by priority (rule hits, ties broken uniformly), the rest uniformly
    among the others.

    Lines with more hits always come first, so in each group of lines with h > 0 hits the rules pick a fixed
    number, a uniform subset: a fraction f_h of the group. The random quota then picks q = (capacity -
    by rules) / (n - by rules) of the rest, so a line's propensity is f_h + (1 - f_h) q (q with no hit).
    """
    n = len(hits)
    hits = np.asarray(hits, dtype=np.int64)
    capacity = min(n, round(cfg.capacity * n))
    by_rules = min(round(capacity * (1 - cfg.random_quota)), int((hits > 0).sum()))
    priority = np.where(hits > 0, hits + rng.random(n), -1.0)
    by_rule = np.zeros(n, dtype=bool)
    by_rule[np.argsort(-priority, kind="stable")[:by_rules]] = True
    chosen = by_rule.copy()
    chosen[rng.choice(np.flatnonzero(~by_rule), size=capacity - by_rules, replace=False)] = True

    size = np.bincount(hits, minlength=1)
    picked = np.bincount(hits[by_rule], minlength=len(size))  # fixed by the hits, whatever the draw
    share = picked / np.maximum(size, 1)
    q = (capacity - by_rules) / (n - by_rules) if n > by_rules else 0.0
    propensity = share[hits] + (1 - share[hits]) * q
    return LegacySelection(chosen, by_rule, propensity)


def inspect(
    rng: np.random.Generator, lines: pd.DataFrame, hidden: HiddenTruth, cfg: InspectionConfig
) -> pd.DataFrame:
    """The legacy procedure's inspections (canonical inspections table, physical, in line order) of lines
    in canonical order; `hidden` is their truth in the same order."""
    hits = legacy_rules(lines, cfg).to_numpy().sum(axis=1)
    picked = legacy_selection(rng, hits, cfg)
    rows = np.flatnonzero(picked.chosen)
    selection = np.where(picked.by_rule[rows], "rule", "exploration")
    return inspect_selected(rng, lines, hidden, rows, RED, selection, picked.propensity[rows], cfg)


def inspect_selected(
    rng: np.random.Generator,
    lines: pd.DataFrame,
    hidden: HiddenTruth,
    rows: np.ndarray,
    channel: str | np.ndarray,
    selection: str | np.ndarray,
    propensity: float | np.ndarray,
    cfg: InspectionConfig,
) -> pd.DataFrame:
    """Outcomes (canonical inspections table, in the order of `rows`) of inspecting the lines at positions
    `rows` of `lines` (only `line_id` and `date` are read); `hidden` is the truth of every line of `lines`.

    `channel` (RED: physical, YELLOW: documentary, which finds with `documentary_detection` of the rate),
    `selection` and `propensity` are per row or one for all; the last two are recorded as given.
    """
    rows = np.asarray(rows, dtype=np.int64)
    m = len(rows)
    channel = np.broadcast_to(np.asarray(channel, dtype=object), (m,))
    selection = np.broadcast_to(np.asarray(selection, dtype=object), (m,))
    propensity = np.broadcast_to(np.asarray(propensity, dtype=np.float64), (m,))
    if not np.isin(channel, CHANNELS).all():
        raise ValueError(f"channel must be one of {CHANNELS}")
    if not np.isin(selection, SELECTIONS).all():
        raise ValueError(f"selection must be one of {SELECTIONS}")
    if not (np.isnan(propensity) | ((propensity > 0) & (propensity <= 1))).all():
        raise ValueError("propensity must be above 0 and at most 1")

    scheme, violation, leg = hidden.scheme[rows], hidden.violation[rows], hidden.leg[rows]
    circ = scheme > 0
    rate = cfg.detection_rate * np.where(channel == YELLOW, cfg.documentary_detection, 1.0)
    p_circ = rate * np.where(leg == LEG_IMPORT, cfg.chain_import_detection, 1.0)
    p_find = np.where(circ, p_circ, np.where(violation > 0, rate, 0.0))
    found = rng.random(m) < p_find
    vtype = np.where(found, np.where(circ, _SCHEME_TYPE[scheme], _HONEST_TYPE[violation]), None)
    delay = rng.integers(0, cfg.max_delay_days + 1, m)
    day = lines["date"].iloc[rows].reset_index(drop=True)
    out = pd.DataFrame(
        {
            "line_id": lines["line_id"].to_numpy()[rows],
            "inspected_on": day + pd.to_timedelta(delay, unit="D"),
            "outcome": np.where(found, "violation", "clean"),
            "violation_type": vtype,
            "selection": np.array(selection),
            "propensity": np.array(propensity),
        }
    )
    return out.astype({"line_id": "str", "outcome": "str", "violation_type": "str", "selection": "str"})[
        list(INSPECTION_COLUMNS)
    ]
