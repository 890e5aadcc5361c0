"""`simulate`: build the whole synthetic world from one config and one seed.

Order of work: the population (traders, brokers, counterparties), the schemes (they pick complicit traders
from the population and add shell companies), honest trade filling the rest of the lines, assembly into the
canonical lines table, any planted drift (`drift.py`), inspections, ground truth; the world's sanctions list
is planted before assembly (`parties/world.py`: listed buyers and intermediaries among the schemes' fronts,
listed shells, honest look-alikes); for `shape: foreign`, then the DT imports of that world in another
administration's shape (`foreign.py`). Every component draws from its own child of one `SeedSequence`, so
the world is a pure function of the config.
"""

from collections.abc import Callable
from dataclasses import dataclass, replace
from datetime import date

import numpy as np
import pandas as pd

from roundabout.data.io import CanonicalData
from roundabout.parties.entries import ListEntry
from roundabout.simulation import trade
from roundabout.simulation.assemble import assemble
from roundabout.simulation.config import SimulationConfig
from roundabout.simulation.drift import plant_drift
from roundabout.simulation.episodes import Context
from roundabout.simulation.foreign import foreign_shape
from roundabout.simulation.goods import catalog
from roundabout.simulation.inspections import HiddenTruth, inspect
from roundabout.simulation.itineraries import INVASION_DAY
from roundabout.simulation.parties.world import plant_parties
from roundabout.simulation.population import (
    broker_reg_days,
    day,
    honest_traders,
    make_bins,
    make_counterparties,
)
from roundabout.simulation.schemes import SCHEME_FUNCTIONS
from roundabout.simulation.trade_arrays import SCHEMES, TradeArrays

#: The stages `simulate` reports to its progress callback, in order.
STAGES: tuple[str, ...] = (
    "population", "schemes", "honest trade", "sanctions list", "assembly", "inspections", "ground truth"
)  # fmt: skip
#: The stage a foreign-shaped world adds at the end.
FOREIGN_STAGE = "foreign shape"
#: The stage a world with planted drift adds after assembly.
DRIFT_STAGE = "planted drift"

Progress = Callable[[str], None]


@dataclass
class SimulatedWorld:
    """The world's canonical data, the sanctions list it publishes, and the hidden truth of its lines (in
    the order of `data.lines`, for `inspections.inspect_selected`); in a foreign-shaped world, the truth of
    the foreign lines (the Kazakh DT imports they are made from)."""

    data: CanonicalData
    sanctions: list[ListEntry]
    hidden: HiddenTruth


def simulate(config: SimulationConfig | None = None, progress: Progress | None = None) -> CanonicalData:
    """The synthetic world as canonical data (lines, inspections, truth). `progress(stage)` is called as
    each of `stages(config)` begins."""
    return simulate_world(config, progress).data


def simulate_world(
    config: SimulationConfig | None = None, progress: Progress | None = None
) -> SimulatedWorld:
    """The synthetic world and its sanctions list (see `simulate`)."""
    cfg = config or SimulationConfig()
    report = progress or (lambda stage: None)
    seeds = np.random.SeedSequence(cfg.seed).spawn(9)  # children 0-7 as before drift came: same worlds
    rng_pop, rng_schemes, rng_trade, rng_bins, rng_ids, rng_inspect = (
        np.random.default_rng(s) for s in seeds[:6]
    )

    report("population")
    cat = catalog()
    start, end = day(cfg.start), day(cfg.end)
    n_brokers = max(20, cfg.traders // 15)
    honest = honest_traders(
        rng_pop, cat, cfg.traders, start, end, cfg.honest.new_company_share, cfg.honest.pivot_share, n_brokers
    )
    cps = make_counterparties(rng_pop, cfg.traders)
    n_pool = len(cps.name)  # the honest pools; the schemes' fronts are added after them
    days = np.arange(start, end + 1)
    ctx = Context(
        cfg=cfg, cat=cat, traders=honest, n_honest=len(honest), cps=cps, n_brokers=n_brokers,
        start=start, end=end,
        weights=trade.calendar(days, start, cfg.honest.growth_per_year, cfg.honest.seasonality),
    )  # fmt: skip
    ctx.setup(rng_pop)

    report("schemes")
    prevalence = cfg.schemes.prevalences()
    scheme_rngs = rng_schemes.spawn(len(SCHEME_FUNCTIONS))
    batches: list[TradeArrays] = []
    for (name, make), rng in zip(SCHEME_FUNCTIONS.items(), scheme_rngs, strict=True):
        # schemes run after the invasion: a world that ends before it (or just after) has none
        target = round(prevalence[name] * cfg.n_lines) if end > INVASION_DAY + 60 else 0
        starts = getattr(cfg.schemes, name).starts
        ctx.scheme_start = None if starts is None else day(starts)
        if target > 0:
            batches.append(make(rng, ctx, target))
    ctx.scheme_start = None
    n_scheme = sum(b.n_lines for b in batches)

    report("honest trade")
    batches.insert(0, trade.honest_trade(rng_trade, cfg, cat, honest, cps, n_brokers, cfg.n_lines - n_scheme))
    world = TradeArrays.concat(batches)

    report("sanctions list")
    planted = plant_parties(
        np.random.default_rng(seeds[7]), ctx.cps, ctx.fronts, ctx.traders, len(honest), n_pool
    )

    report("assembly")
    bins = make_bins(rng_bins, np.concatenate([ctx.traders.reg_day, broker_reg_days(rng_bins, n_brokers)]))
    built = assemble(
        rng_ids, world, cat, ctx.traders, bins[: len(ctx.traders)], bins[len(ctx.traders) :], ctx.cps
    )
    lines = built.lines
    if cfg.drift:
        report(DRIFT_STAGE)
        lines = plant_drift(np.random.default_rng(seeds[8]), lines, cfg.drift)

    report("inspections")
    hidden = HiddenTruth(*(world.line[key][built.order] for key in ("scheme", "violation", "leg")))
    scheme = hidden.scheme
    inspections = inspect(rng_inspect, lines, hidden, cfg.inspections)

    report("ground truth")
    names = np.array(SCHEMES, dtype=object)
    truth = pd.DataFrame(
        {
            "line_id": lines["line_id"],
            "is_circumvention": scheme > 0,
            "scheme": pd.Series(names[scheme], dtype="str"),
            "listed_party": listed_party(lines, planted.listed_names),
        }
    )
    world_data = CanonicalData(lines=lines, inspections=inspections, truth=truth)
    if cfg.shape == "foreign":
        # the Kazakh world's draws are untouched: the foreign shape has a generator of its own
        report(FOREIGN_STAGE)
        kept = world_data.lines["procedure"].eq("40").fillna(False).to_numpy(dtype=bool)  # as foreign.py
        world_data = foreign_shape(np.random.default_rng(seeds[6]), world_data, cfg.foreign)
        world_data = replace(world_data, inspections=outcome_only(world_data.inspections))
        hidden = hidden.take(kept)
        foreign_truth = world_data.truth
        if foreign_truth is None or not np.array_equal(
            hidden.scheme > 0, foreign_truth["is_circumvention"].to_numpy(dtype=bool)
        ):
            raise RuntimeError("the foreign lines are not the Kazakh DT imports in their order")
    return SimulatedWorld(world_data, planted.entries, hidden)


def outcome_only(inspections: pd.DataFrame) -> pd.DataFrame:
    """Inspections without how each line was picked: a foreign administration hands over its label and
    date only (`foreign.py`, `handover.py`), so the foreign folder holds what its CSV gives back."""
    empty = pd.Series(None, index=inspections.index, dtype="str")
    return inspections.assign(selection=empty, propensity=np.nan)


def listed_party(lines: pd.DataFrame, listed: dict[str, date]) -> np.ndarray:
    """Whether a line's counterparty or trader is a listed entity, on or after the day it was listed."""
    day = lines["date"].to_numpy(dtype="datetime64[D]")
    out = np.zeros(len(lines), dtype=bool)
    for column in ("counterparty_name", "trader_name"):
        since = lines[column].map(lambda n: listed.get(n) if isinstance(n, str) else None)
        known = since.notna().to_numpy()
        if known.any():
            out[known] |= day[known] >= since[known].to_numpy(dtype="datetime64[D]")
    return out


def stages(config: SimulationConfig) -> tuple[str, ...]:
    """The stages `simulate(config)` reports, in order."""
    out = STAGES
    if config.drift:
        at = STAGES.index("inspections")
        out = (*out[:at], DRIFT_STAGE, *out[at:])
    return (*out, FOREIGN_STAGE) if config.shape == "foreign" else out
