"""The planted circumvention schemes, one function each, with ground truth on every line they create.

All schemes start after the invasion, or from their `starts` day when it is later (`Context.first_day`).
Most are built from episodes (`episodes.py`): an import of CHPL goods, often through a hub, followed within
days by an SNT export of most of the quantity to a Russian or Belarusian buyer. Before the SNT obligation
(1 Apr 2023) the export leg leaves no line, exactly as in reality: only the import is visible. Import legs
are circumvention lines too (the goods were bought for Russia). Each scheme varies who does it, which goods,
and what it hides; see docs/simulation.md for parameters, prevalence, traces and honest look-alikes.
"""

import numpy as np

from roundabout.simulation import geo, itineraries
from roundabout.simulation.episodes import (
    COALITION_ORIGINS,
    DECOYS,
    MISCLASSIFIED,
    TRANSIT_DECLARED,
    Context,
    Plan,
    episodes_for,
    expected_lines,
    n_actors,
    pick_actors,
    run_plan,
    tier_probs,
    trim,
)
from roundabout.simulation.goods import amounts
from roundabout.simulation.itineraries import INVASION_DAY
from roundabout.simulation.population import (
    make_traders,
)
from roundabout.simulation.trade import brands
from roundabout.simulation.trade_arrays import (
    RAIL,
    ROAD,
    SCHEME_CODE,
    TRN80,
    TradeArrays,
    expand,
)


def reexport_chain(rng: np.random.Generator, ctx: Context, target: int) -> TradeArrays:
    """Established distributors import CHPL goods and ship most of them to Russia within days."""
    c = ctx.cfg.schemes.reexport_chain
    t = ctx.traders
    ok = np.isin(t.sector, (4, 5, 7, 9)) & (t.reg_day < INVASION_DAY - 365) & (t.pivot_day > ctx.end)
    actors = pick_actors(rng, ctx, ok, n_actors(target, c.lines_per_actor))
    first = ctx.scheme_starts(rng, len(actors), 700)
    last = np.full(len(actors), ctx.end)
    n_ep = int(target / expected_lines(1.5, 0.95) * 1.5) + 10
    who, d = episodes_for(rng, ctx, actors, first, last, n_ep)
    plan = Plan(
        "reexport_chain", who, d, tier_probs(ctx.cat, {1: 0.22, 2: 0.2, 3: 0.28, 4: 0.15, 5: 0.1, 6: 0.05}),
        export_p=0.95, lag_mean=c.lag_mean_days, share_lo=c.reship_share_min, belarus_share=c.belarus_share,
    )  # fmt: skip
    batch, episode = run_plan(rng, ctx, plan)
    return trim(batch, episode, target)


def shell_company(rng: np.random.Generator, ctx: Context, target: int) -> TradeArrays:
    """Companies registered after the invasion import CHPL goods for Russia for a few months, then vanish."""
    c = ctx.cfg.schemes.shell_company
    n = n_actors(target, c.lines_per_actor)
    first = ctx.scheme_starts(rng, n, 10_000, spread=0.9)
    # registered for the scheme (after the invasion, and its `starts`), before trading; some lie dormant
    earliest = INVASION_DAY + 6 if ctx.scheme_start is None else max(INVASION_DAY + 6, ctx.first_day)
    reg = np.minimum(np.maximum(earliest, first - rng.integers(5, 200, n)), first)
    last = np.minimum(first + rng.integers(c.min_life_days, c.max_life_days + 1, n), ctx.end)
    sector = rng.choice(np.array([4, 9, 7]), size=n, p=[0.4, 0.3, 0.3])
    shells = make_traders(rng, ctx.cat, reg, sector, ctx.n_brokers, last_day=last)
    actors = len(ctx.traders) + np.arange(n)
    ctx.traders = ctx.traders.concat(shells)
    n_ep = int(target / expected_lines(1.6, 0.9) * 1.5) + 10
    who, d = episodes_for(rng, ctx, actors, first, last, n_ep)
    plan = Plan(
        "shell_company", who, d, tier_probs(ctx.cat, {1: 0.35, 2: 0.25, 3: 0.25, 4: 0.1, 5: 0.05}),
        lines_mean=1.6, coalition_share=0.6, export_p=0.9, lag_mean=c.lag_mean_days, share_lo=0.8,
        complicit_share=0.8,
    )  # fmt: skip
    batch, episode = run_plan(rng, ctx, plan)
    return trim(batch, episode, target)


def misclassification(rng: np.random.Generator, ctx: Context, target: int) -> TradeArrays:
    """Chips and components declared under harmless codes; value per kg betrays them."""
    c = ctx.cfg.schemes.misclassification
    t = ctx.traders
    ok = np.isin(t.sector, (3, 4, 5, 7, 9)) & (t.reg_day < INVASION_DAY)
    actors = pick_actors(rng, ctx, ok, n_actors(target, c.lines_per_actor))
    first = ctx.scheme_starts(rng, len(actors), 500)
    who, d = episodes_for(rng, ctx, actors, first, np.full(len(actors), ctx.end), int(target * 1.2) + 10)
    decoys = np.array([ctx.cat.index(h) for h in DECOYS])
    plan = Plan(
        "misclassification", who, d, tier_probs(ctx.cat, {1: 0.5, 2: 0.3, 3: 0.2}, only=MISCLASSIFIED),
        lines_mean=1.3, coalition_share=0.5, export_p=c.export_share, lag_mean=7, import_factor=(0.15, 0.6),
        export_factor=(0.8, 1.2), decoys=decoys, brand_share=c.brand_share, downstream_evidence=False,
    )  # fmt: skip
    batch, episode = run_plan(rng, ctx, plan)
    return trim(batch, episode, target)


def price_anomaly(rng: np.random.Generator, ctx: Context, target: int) -> TradeArrays:
    """CHPL goods imported far below their value and sold on to Russia far above it."""
    c = ctx.cfg.schemes.price_anomaly
    t = ctx.traders
    ok = np.isin(t.sector, (3, 4, 5, 7)) & (t.reg_day < INVASION_DAY)
    actors = pick_actors(rng, ctx, ok, n_actors(target, c.lines_per_actor))
    first = ctx.scheme_starts(rng, len(actors), 500)
    who, d = episodes_for(rng, ctx, actors, first, np.full(len(actors), ctx.end), int(target) + 10)
    plan = Plan(
        "price_anomaly", who, d, tier_probs(ctx.cat, {1: 0.3, 2: 0.25, 3: 0.3, 4: 0.15}),
        lines_mean=1.3, export_p=0.8, lag_mean=10, share_lo=0.6, import_factor=c.under_factor,
        export_factor=c.over_factor, downstream_evidence=False,
    )  # fmt: skip
    batch, episode = run_plan(rng, ctx, plan)
    return trim(batch, episode, target)


def mix_shift(rng: np.random.Generator, ctx: Context, target: int) -> TradeArrays:
    """Established traders outside electronics switch to CHPL goods with Russian buyers from some date."""
    c = ctx.cfg.schemes.mix_shift
    t = ctx.traders
    lag = 60 if ctx.scheme_start is None else 0  # traders take a while to turn after the invasion
    switch_all = ctx.scheme_starts(rng, len(t), lag + 700) + lag
    min_age = int(c.min_age_years * 365)
    ok = np.isin(t.sector, (0, 1, 2, 3, 6, 7)) & (t.reg_day <= switch_all - min_age) & (t.pivot_day > ctx.end)
    actors = pick_actors(rng, ctx, ok, n_actors(target, c.lines_per_actor))
    first = switch_all[actors]
    if ctx.scheme_start is not None and len(actors):
        # a configured start: the earliest actor switches on it (each still old enough), the others after
        first = np.maximum(first - (first.min() - ctx.first_day), t.reg_day[actors] + min_age)
    export_p = min(c.export_share / max(1 - c.export_share, 1e-9), 1.0)
    n_ep = int(target / expected_lines(1.5, export_p) * 1.5) + 10
    who, d = episodes_for(rng, ctx, actors, first, np.full(len(actors), ctx.end), n_ep)
    plan = Plan(
        "mix_shift", who, d, tier_probs(ctx.cat, {1: 0.15, 2: 0.15, 3: 0.25, 4: 0.25, 5: 0.1, 6: 0.1}),
        coalition_share=0.5, export_p=export_p, lag_mean=10, share_lo=0.6,
    )  # fmt: skip
    batch, episode = run_plan(rng, ctx, plan)
    return trim(batch, episode, target)


def transit_diversion(rng: np.random.Generator, ctx: Context, target: int) -> TradeArrays:
    """Carriers declare CHPL goods in transit to Central Asia or Mongolia; the goods end in Russia."""
    c = ctx.cfg.schemes.transit_diversion
    cat = ctx.cat
    t = ctx.traders
    actors = pick_actors(rng, ctx, t.sector == 9, n_actors(target, c.lines_per_actor))
    first = ctx.scheme_starts(rng, len(actors), 400)
    n_docs = int(target / 1.7 * 1.3) + 10
    who, d = episodes_for(rng, ctx, actors, first, np.full(len(actors), ctx.end), n_docs)
    k = np.minimum(rng.geometric(1 / 1.7, n_docs), 5)
    doc = expand(k)
    n = len(doc)
    items = rng.choice(
        cat.size, size=n, p=tier_probs(cat, {1: 0.15, 2: 0.15, 3: 0.3, 4: 0.25, 5: 0.1, 6: 0.05})
    )
    origin = itineraries.origins(rng, cat, items, np.full(n, TRN80), d[doc], ctx.cfg.honest.western_surge)
    origin = np.where(rng.random(n) < 0.4, itineraries.pick_country(rng, n, COALITION_ORIGINS), origin)
    first_line = np.concatenate([[0], np.cumsum(k)[:-1]])
    origin = np.where(rng.random(n) < 0.75, origin[first_line][doc], origin)
    dispatch = np.select(
        [rng.random(n_docs) < 0.5, rng.random(n_docs) < 0.5],
        [geo.C["CN"], itineraries.pick_country(rng, n_docs, {"TR": 0.5, "AE": 0.3, "GE": 0.2})],
        default=origin[first_line],
    )
    dest = itineraries.pick_country(rng, n_docs, TRANSIT_DECLARED)
    mode = np.where(rng.random(n_docs) < 0.75, ROAD, RAIL)
    flow = np.full(n_docs, TRN80)
    declared_exit = itineraries.offices(rng, flow, mode, dispatch, dest)
    ru_exit = itineraries.offices(rng, flow, mode, dispatch, np.full(n_docs, geo.C["RU"]))
    office = np.where(rng.random(n_docs) < c.russian_exit_share, ru_exit, declared_exit)
    trading = np.select(
        [rng.random(n_docs) < c.russian_trading_share, rng.random(n_docs) < 0.4],
        [geo.C["RU"], itineraries.pick_country(rng, n_docs, {"AE": 0.4, "HK": 0.3, "TR": 0.3})],
        default=dest,
    )
    goods = amounts(rng, cat, items, origin, d[doc], ctx.start)
    code = SCHEME_CODE["transit_diversion"]
    batch = TradeArrays(
        doc={
            "trader": who,
            "day": d,
            "flow": flow,
            "cp": ctx.front(rng, dest, 0.7, who),
            "cp_country": dest,
            "dispatch": dispatch,
            "destination": dest,
            "trading": trading,
            "mode": mode,
            "office": office,
            "declarant": np.where(
                rng.random(n_docs) < (0.6 if c.complicit_broker_share is None else c.complicit_broker_share),
                -(ctx.complicit[rng.integers(0, len(ctx.complicit), n_docs)] + 1),
                who,
            ),
            "prev": np.full(n_docs, -1),
        },
        line={
            "doc": doc,
            "item": items,
            "hs10": cat.sample_hs10(rng, items),
            "brand": brands(rng, cat, items),
            "origin": origin,
            "quantity": goods["quantity"],
            "net": goods["net"],
            "gross": goods["gross"],
            "value": goods["value"],
            "scheme": np.full(n, code, dtype=np.int8),
            "violation": np.zeros(n, dtype=np.int8),
            "leg": np.zeros(n, dtype=np.int8),
        },
    )
    return trim(batch, doc, target)


#: Scheme name -> generator, in the order they run (shells first: they add traders).
SCHEME_FUNCTIONS = {
    "shell_company": shell_company,
    "reexport_chain": reexport_chain,
    "misclassification": misclassification,
    "transit_diversion": transit_diversion,
    "price_anomaly": price_anomaly,
    "mix_shift": mix_shift,
}
