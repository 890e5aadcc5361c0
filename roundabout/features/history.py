"""Stateful feature definitions: trader history, chains and counterparties, declared once.

Every aggregate, query and finalize formula here is evaluated by both executors: `numpy_executor.py`
over a whole history and the service store (`roundabout.store`) online. Rules shared by both:

- a line sees only lines dated strictly before it and outcomes with `inspected_on` strictly before its
  date; lines of the same date never see each other, so no order within a day is needed;
- chains: for an export line bound for RU/BY, `chain_lag_days` = days since the latest import of the same
  trader and HS6 within `CHAIN_LOOKBACK` days; `chain_reship_share` = this line's quantity over the
  quantity of that trader+HS6 imported in the `RESHIP_WINDOW` days before; quantities are supplementary
  units when this line and every import in the window have them, otherwise net mass (kg);
- the trade network: `listed_party_distance` reads the screening columns of `features.parties`
  (`cp_listed`, `trader_listed`) of the line and, through the two listed aggregates, of earlier lines;
- a *quick re-shipment* is an RU/BY-bound export with `chain_lag_days <= QUICK_DAYS`: a derived (stage 1)
  measure, computed per line from the stage-0 chain query and kept per (trader, day) like any other.
"""

import numpy as np

from roundabout.features.columns import INVASION_DAY, Columns, map_rows
from roundabout.features.specs import Aggregate, Distinct, FirstDay, LastDay, Linked, Query, WindowSum

CHAIN_LOOKBACK = 180
RESHIP_WINDOW = 90
QUICK_DAYS = 30
WINDOWS = (30, 90, 365)
NEW_TRADER_WINDOW = 90


def _nz(values: np.ndarray) -> np.ndarray:
    return np.where(np.isnan(values), 0.0, values)


def _trader(cols: Columns, q: dict[str, np.ndarray]) -> dict[str, np.ndarray]:
    value = _nz(cols["value_usd"])
    ones = np.ones(len(value))
    return {
        "lines": ones,
        "value": value,
        "chpl_value": value * _nz(cols["chpl"]),
        "tier12": _nz(cols["tier12"]),
        "ru_by_export": cols["ru_by_export"],
    }


def _trader_hs6(cols: Columns, q: dict[str, np.ndarray]) -> dict[str, np.ndarray]:
    imp = cols["is_import"]
    qty = cols["quantity"]
    has_qty = ~np.isnan(qty)
    return {
        "lines": np.ones(len(imp)),
        "imports": imp,
        "import_qty": imp * np.where(has_qty, qty, 0.0),
        "import_qty_missing": imp * (~has_qty),
        "import_mass": imp * _nz(cols["net_mass_kg"]),
    }


def _declarant(cols: Columns, q: dict[str, np.ndarray]) -> dict[str, np.ndarray]:
    return {"lines": np.ones(len(cols["day"])), "chpl_lines": _nz(cols["chpl"])}


def screening(cols: Columns, name: str, missing: float = 0.0) -> np.ndarray:
    """A screening column of `features.parties`, or `missing` for every line where none was screened."""
    found = cols.get(name)
    return found if found is not None else np.full(len(cols["day"]), missing)


def _listed_counterparty(cols: Columns, q: dict[str, np.ndarray]) -> dict[str, np.ndarray]:
    return {"listed_cp_lines": screening(cols, "cp_listed")}


def _listed_trader(cols: Columns, q: dict[str, np.ndarray]) -> dict[str, np.ndarray]:
    return {"listed_trader_lines": screening(cols, "trader_listed")}


def _outcomes(cols: Columns, q: dict[str, np.ndarray]) -> dict[str, np.ndarray]:
    return {"inspected": np.ones(len(cols["day"])), "violations": cols["violation"]}


def chain_lag(cols: Columns, q: dict[str, np.ndarray]) -> np.ndarray:
    """Days since the trader's latest import of the HS6, for RU/BY-bound exports only (else NaN)."""
    lag = cols["day"] - q["last_import_day"]
    return np.where(cols["ru_by_export"] == 1.0, lag, np.nan)


def _reship(cols: Columns, q: dict[str, np.ndarray]) -> dict[str, np.ndarray]:
    lag = chain_lag(cols, q)
    return {"quick_reships": (lag <= QUICK_DAYS).astype("float64")}


AGGREGATES: tuple[Aggregate, ...] = (
    Aggregate("trader", ("trader_id",), ("lines", "value", "chpl_value", "tier12", "ru_by_export"), _trader),
    Aggregate(
        "trader_hs6",
        ("trader_id", "hs6"),
        ("lines", "imports", "import_qty", "import_qty_missing", "import_mass"),
        _trader_hs6,
    ),
    Aggregate("declarant", ("declarant_id",), ("lines", "chpl_lines"), _declarant),
    Aggregate("trader_outcomes", ("trader_id",), ("inspected", "violations"), _outcomes, source="outcomes"),
    Aggregate(
        "declarant_outcomes", ("declarant_id",), ("inspected", "violations"), _outcomes, source="outcomes"
    ),
    Aggregate("trader_reship", ("trader_id",), ("quick_reships",), _reship, stage=1),
    # the trade network: traders shipping to listed parties, counterparties of listed traders, and what
    # inspections found on a counterparty's lines whoever the trader
    Aggregate("trader_listed_cp", ("trader_id",), ("listed_cp_lines",), _listed_counterparty),
    Aggregate("cp_listed_trader", ("counterparty_key",), ("listed_trader_lines",), _listed_trader),
    Aggregate(
        "counterparty_outcomes",
        ("counterparty_key",),
        ("inspected", "violations"),
        _outcomes,
        source="outcomes",
    ),
)
AGGREGATES_BY_NAME = {a.name: a for a in AGGREGATES}

QUERIES: tuple[Query, ...] = (
    *(WindowSum(f"trader_lines_{w}d", "trader", "lines", w) for w in WINDOWS),
    *(WindowSum(f"trader_value_{w}d", "trader", "value", w) for w in WINDOWS),
    WindowSum("trader_value_all", "trader", "value", None),
    WindowSum("trader_chpl_value_90d", "trader", "chpl_value", 90),
    WindowSum("trader_chpl_value_all", "trader", "chpl_value", None),
    WindowSum("trader_ru_by_exports", "trader", "ru_by_export", None),
    FirstDay("trader_first_day", "trader", "lines"),
    FirstDay("trader_first_tier12_day", "trader", "tier12"),
    WindowSum("trader_hs6_lines", "trader_hs6", "lines", None),
    LastDay("last_import_day", "trader_hs6", "imports", CHAIN_LOOKBACK),
    WindowSum("import_qty", "trader_hs6", "import_qty", RESHIP_WINDOW),
    WindowSum("import_qty_missing", "trader_hs6", "import_qty_missing", RESHIP_WINDOW),
    WindowSum("import_mass", "trader_hs6", "import_mass", RESHIP_WINDOW),
    WindowSum("declarant_lines", "declarant", "lines", None),
    WindowSum("declarant_lines_90d", "declarant", "lines", 90),
    WindowSum("declarant_chpl_lines", "declarant", "chpl_lines", None),
    WindowSum("trader_inspected", "trader_outcomes", "inspected", None),
    WindowSum("trader_violations", "trader_outcomes", "violations", None),
    WindowSum("declarant_inspected", "declarant_outcomes", "inspected", None),
    WindowSum("declarant_violations", "declarant_outcomes", "violations", None),
    WindowSum("trader_quick_reships", "trader_reship", "quick_reships", None),
    Distinct("trader_counterparties", ("trader_id",), "counterparty_key"),
    Distinct("trader_counterparty_countries", ("trader_id",), "counterparty_country"),
    Distinct("counterparty_traders", ("counterparty_key",), "trader_id"),
    Distinct(
        "counterparty_new_traders",
        ("counterparty_key",),
        "trader_id",
        window=NEW_TRADER_WINDOW,
        rel="counterparty_traders",
    ),
    WindowSum("trader_listed_cp_lines", "trader_listed_cp", "listed_cp_lines", None),
    WindowSum("cp_listed_trader_lines", "cp_listed_trader", "listed_trader_lines", None),
    WindowSum("counterparty_inspected", "counterparty_outcomes", "inspected", None),
    WindowSum("counterparty_violations", "counterparty_outcomes", "violations", None),
    Linked("trader_flagged_counterparties", "trader_counterparties", "counterparty_outcomes", "violations"),
)
QUERIES_BY_NAME = {q.name: q for q in QUERIES}


def query_stage(query: Query) -> int:
    if isinstance(query, Distinct | Linked):
        return 0
    return AGGREGATES_BY_NAME[query.aggregate].stage


def _ratio(num: np.ndarray, den: np.ndarray) -> np.ndarray:
    with np.errstate(divide="ignore", invalid="ignore"):
        return np.where(den > 0, num / den, np.nan)


def _smoothed(violations: np.ndarray, inspected: np.ndarray, prior: float, weight: float) -> np.ndarray:
    return (violations + weight * prior) / (inspected + weight)


_RU_BY = frozenset({"RU", "BY"})


def _ru_by_party(destination: str | None, counterparty: str | None, trading: str | None) -> float:
    return float(destination in _RU_BY or counterparty in _RU_BY or trading in _RU_BY)


def _destination_mismatch(destination: str | None, counterparty: str | None, trading: str | None) -> float:
    if destination is None or (counterparty is None and trading is None):
        return np.nan
    return float(
        (counterparty is not None and destination != counterparty)
        or (trading is not None and destination != trading)
    )


def finalize(
    cols: Columns, q: dict[str, np.ndarray], prior: float, prior_weight: float
) -> dict[str, np.ndarray]:
    """Stateful features of the lines from their query results (same formula on both paths)."""
    day = cols["day"].astype("float64")
    out: dict[str, np.ndarray] = {}
    # trader age: registration from the BIN, else the first day the trader was seen (this line if none)
    first_seen = np.where(np.isnan(q["trader_first_day"]), day, q["trader_first_day"])
    is_bin = ~np.isnan(cols["bin_reg_day"])
    registered = np.where(is_bin, cols["bin_reg_day"], first_seen)
    known = ~np.isnan(q["trader_lines_30d"]) | is_bin
    out["trader_age_days"] = np.where(known, np.maximum(day - registered, 0.0), np.nan)
    out["trader_registered_after_invasion"] = np.where(
        known, (registered >= INVASION_DAY).astype(float), np.nan
    )
    out["trader_id_is_bin"] = np.where(cols["trader_id"] == None, np.nan, is_bin.astype(float))  # noqa: E711
    for w in WINDOWS:
        out[f"trader_lines_{w}d"] = q[f"trader_lines_{w}d"]
    for w in WINDOWS:
        out[f"trader_value_{w}d"] = q[f"trader_value_{w}d"]
    out["trader_value_spike"] = _ratio(q["trader_value_30d"], q["trader_value_365d"] * (30.0 / 365.0))
    share_all = _ratio(q["trader_chpl_value_all"], q["trader_value_all"])
    share_90 = _ratio(q["trader_chpl_value_90d"], q["trader_value_90d"])
    out["trader_chpl_share_all"] = share_all
    out["trader_chpl_share_90d"] = share_90
    # a difference of two ratios: rounded so float noise of summation order (~1e-16) reads as exactly 0
    out["trader_chpl_share_shift"] = np.round(share_90 - share_all, 12)
    out["trader_hs6_prior_lines"] = q["trader_hs6_lines"]
    first12 = q["trader_first_tier12_day"]
    this12 = np.where(np.isnan(cols["tier_rank"]), np.nan, cols["tier12"])
    after = np.where(
        np.isnan(first12), (this12 == 1.0) & (day >= INVASION_DAY), first12 >= INVASION_DAY
    ).astype("float64")
    out["first_chpl_after_invasion"] = np.where(np.isnan(q["trader_lines_30d"]), np.nan, after)
    out["trader_counterparties"] = q["trader_counterparties"]
    out["trader_counterparty_countries"] = q["trader_counterparty_countries"]
    out["trader_inspections"] = q["trader_inspected"]
    out["trader_violation_rate"] = _smoothed(
        q["trader_violations"], q["trader_inspected"], prior, prior_weight
    )
    # chains
    lag = chain_lag(cols, q)
    out["chain_lag_days"] = lag
    qty = cols["quantity"]
    use_qty = ~np.isnan(qty) & (q["import_qty_missing"] == 0) & (q["import_qty"] > 0)
    by_qty = _ratio(qty, q["import_qty"])
    by_mass = _ratio(cols["net_mass_kg"], q["import_mass"])
    share = np.where(use_qty, by_qty, by_mass)
    out["chain_reship_share"] = np.where(cols["ru_by_export"] == 1.0, share, np.nan)
    out["trader_ru_by_exports"] = q["trader_ru_by_exports"]
    out["trader_quick_reships"] = q["trader_quick_reships"]
    out["trader_quick_reship_share"] = _ratio(q["trader_quick_reships"], q["trader_ru_by_exports"])
    transit = cols["is_transit"] == 1.0
    countries = (cols["destination_country"], cols["counterparty_country"], cols["trading_country"])
    out["transit_ru_by_party"] = np.where(transit, map_rows(_ru_by_party, countries, "float64"), np.nan)
    mismatch = map_rows(_destination_mismatch, countries, "float64")
    out["transit_destination_mismatch"] = np.where(transit, mismatch, np.nan)
    # counterparties
    out["declarant_lines"] = q["declarant_lines"]
    out["declarant_lines_90d"] = q["declarant_lines_90d"]
    out["declarant_chpl_share"] = _ratio(q["declarant_chpl_lines"], q["declarant_lines"])
    out["declarant_inspections"] = q["declarant_inspected"]
    out["declarant_violation_rate"] = _smoothed(
        q["declarant_violations"], q["declarant_inspected"], prior, prior_weight
    )
    out["counterparty_traders"] = q["counterparty_traders"]
    out["counterparty_new_traders_90d"] = q["counterparty_new_traders"]
    out["counterparty_inspections"] = q["counterparty_inspected"]
    out["counterparty_violation_rate"] = _smoothed(
        q["counterparty_violations"], q["counterparty_inspected"], prior, prior_weight
    )
    out["listed_party_distance"] = listed_distance(cols, q)
    out["trader_flagged_counterparties"] = q["trader_flagged_counterparties"]
    return out


def listed_distance(cols: Columns, q: dict[str, np.ndarray]) -> np.ndarray:
    """Steps from the line's trader to a listed party in the trade graph as of the line's date: 0 the
    trader is listed; 1 it ships to a listed party (this line or before); 2 its counterparty dealt with a
    listed trader before; 3 none of these. NaN when no list was screened."""
    near = np.nan_to_num(q["trader_listed_cp_lines"]) > 0
    second = np.nan_to_num(q["cp_listed_trader_lines"]) > 0
    trader_listed = screening(cols, "trader_listed") == 1.0
    cp_listed = screening(cols, "cp_listed") == 1.0
    distance = np.select([trader_listed, cp_listed | near, second], [0.0, 1.0, 2.0], 3.0)
    return np.where(np.isnan(screening(cols, "cp_list_score", np.nan)), np.nan, distance)
