"""Which lines customs inspects, and what the inspectors find: the partial, biased labels.

Capacity is a few percent of lines. Most inspections come from legacy risk rules (high value, low unit
value against the HS6 median, young traders, and from the SNT obligation on, sensitive CHPL goods bound for
Russia or Belarus); a small quota is drawn uniformly at random, as customs research recommends for
learning new patterns. An inspection finds a real violation only with the detection rate (less on the
import leg of a chain, whose evidence lies downstream). Honest lines carry ordinary violations at a small
rate, which inspections also find: realistic label noise. Uninspected lines have no outcome.
"""

import numpy as np
import pandas as pd

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


def inspect(
    rng: np.random.Generator,
    lines: pd.DataFrame,
    scheme: np.ndarray,
    violation: np.ndarray,
    leg: np.ndarray,
    cfg: InspectionConfig,
) -> pd.DataFrame:
    """Inspection outcomes (canonical inspections table) for lines in canonical order; `scheme`,
    `violation` and `leg` are the hidden truth per line in the same order."""
    n = len(lines)
    flags = legacy_rules(lines, cfg)
    hits = flags.to_numpy().sum(axis=1)
    capacity = min(n, round(cfg.capacity * n))
    by_rules = min(round(capacity * (1 - cfg.random_quota)), int((hits > 0).sum()))
    priority = np.where(hits > 0, hits + rng.random(n), -1.0)
    chosen = np.zeros(n, dtype=bool)
    chosen[np.argsort(-priority, kind="stable")[:by_rules]] = True
    rest = np.flatnonzero(~chosen)
    chosen[rng.choice(rest, size=capacity - by_rules, replace=False)] = True

    circ = scheme > 0
    p_find = cfg.detection_rate * np.where(leg == LEG_IMPORT, cfg.chain_import_detection, 1.0)
    found_circ = circ & (rng.random(n) < p_find)
    found_honest = ~circ & (violation > 0) & (rng.random(n) < cfg.detection_rate)
    scheme_type = np.array([""] + [SCHEME_VIOLATION[s] for s in SCHEMES[1:]], dtype=object)
    honest_type = np.array(HONEST_VIOLATIONS, dtype=object)
    vtype = np.where(found_circ, scheme_type[scheme], np.where(found_honest, honest_type[violation], ""))
    found = found_circ | found_honest
    delay = rng.integers(0, cfg.max_delay_days + 1, n)
    rows = np.flatnonzero(chosen)
    return pd.DataFrame(
        {
            "line_id": lines["line_id"].to_numpy()[rows],
            "inspected_on": (lines["date"] + pd.to_timedelta(delay, unit="D")).to_numpy()[rows],
            "outcome": np.where(found, "violation", "clean")[rows],
            "violation_type": pd.Series(vtype[rows], dtype=object).replace("", None).to_numpy(),
        }
    ).astype({"line_id": "str", "outcome": "str", "violation_type": "str"})
