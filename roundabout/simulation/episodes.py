"""The machinery of the planted schemes: who acts, and the *episodes* most schemes are built from.

An episode is an import declaration (DT 40) of CHPL goods, often through a hub (UAE, Turkey, China, Hong
Kong), followed within days by an SNT export of most of the quantity to a Russian or Belarusian buyer
(`run_plan`); `Context` holds what every scheme draws from (the catalogue, traders, counterparties,
dates), `Plan` what one scheme's episodes look like.
"""

from dataclasses import dataclass, field

import numpy as np

from roundabout.simulation import geo, itineraries
from roundabout.simulation.config import SimulationConfig
from roundabout.simulation.goods import BRAND_GROUP_NAMES, GoodsCatalog, amounts, brand_table
from roundabout.simulation.itineraries import INVASION_DAY
from roundabout.simulation.population import (
    Counterparties,
    Traders,
    scheme_counterparties,
)
from roundabout.simulation.trade import SNT_DAY, brands, sample_days
from roundabout.simulation.trade_arrays import (
    AIR,
    IMP40,
    LEG_IMPORT,
    RAIL,
    ROAD,
    SCHEME_CODE,
    SNT_EXP,
    TradeArrays,
    expand,
    with_followups,
)

COALITION_ORIGINS = {"US": 0.25, "DE": 0.15, "JP": 0.15, "TW": 0.15, "KR": 0.1, "GB": 0.05, "NL": 0.05,
                      "FR": 0.04, "IT": 0.03, "CH": 0.03}  # fmt: skip
SCHEME_HUBS = {"AE": 0.25, "TR": 0.25, "CN": 0.2, "HK": 0.15, "LT": 0.05, "GE": 0.05, "UZ": 0.05}
SCHEME_TRADERS = {"HK": 0.35, "AE": 0.35, "TR": 0.2, "CN": 0.1}
DECOYS = ("847330", "851890", "853890", "392690", "732690", "850490", "854449", "950300")
MISCLASSIFIED = ("854231", "854232", "854233", "854239", "853221", "853224", "854800", "854129", "854151")
TRANSIT_DECLARED = {"KG": 0.35, "UZ": 0.3, "TJ": 0.15, "MN": 0.1, "AF": 0.1}


@dataclass
class Context:
    """What the schemes draw on: the catalogue, the traders (shells are appended), parties, calendar."""

    cfg: SimulationConfig
    cat: GoodsCatalog
    traders: Traders
    n_honest: int
    cps: Counterparties
    n_brokers: int
    start: int
    end: int
    weights: np.ndarray  # relative documents per day, start..end
    complicit: np.ndarray = field(default_factory=lambda: np.zeros(0, dtype=np.int64))
    fronts: dict[str, np.ndarray] = field(default_factory=dict)
    #: The configured first day of the scheme being generated (`SchemeConfig.starts`): the world sets it
    #: before each scheme, so every scheme function respects it through `first_day` and `scheme_starts`.
    scheme_start: int | None = None

    def setup(self, rng: np.random.Generator) -> None:
        """Complicit brokers and front companies shared by the schemes."""
        k = max(2, self.n_brokers // 25)
        self.complicit = rng.choice(np.arange(self.n_brokers // 4, self.n_brokers), size=k, replace=False)
        size = max(3, self.cfg.traders // 150)
        for country in ("RU", "BY", "HK", "AE", "TR", "CN", "KG", "UZ", "TJ", "MN", "AF"):
            self.fronts[country] = scheme_counterparties(rng, self.cps, country, size)

    @property
    def first_day(self) -> int:
        """The first day the current scheme may run: the invasion, the world's start or its `starts`."""
        return max(self.start, INVASION_DAY, self.scheme_start if self.scheme_start is not None else 0)

    def scheme_starts(
        self, rng: np.random.Generator, n: int, max_delay: int, spread: float = 0.5
    ) -> np.ndarray:
        """Days complicit traders start: from `first_day`, spread over up to `max_delay` days but never past
        `spread` of the remaining period; with a configured start, the earliest starts on it (sharp onset)."""
        lo = self.first_day
        days = lo + rng.integers(0, max(1, min(max_delay, int((self.end - lo) * spread))), n)
        if self.scheme_start is not None and n:
            days -= days.min() - lo
        return days

    def front(
        self, rng: np.random.Generator, country: np.ndarray, share: float, trader: np.ndarray
    ) -> np.ndarray:
        """A front company where one exists for the country (with probability `share`), else a normal one."""
        out = self.cps.pick(rng, trader, country)
        u = rng.random(len(country))
        for code, pool in self.fronts.items():
            rows = (country == geo.C[code]) & (u < share)
            out[rows] = pool[(rng.random(rows.sum()) ** 1.5 * len(pool)).astype(np.int64)]
        return out


@dataclass
class Plan:
    """How one scheme's episodes look (see the module docstring)."""

    scheme: str
    actor: np.ndarray  # trader per episode
    day: np.ndarray  # import day per episode
    item_p: np.ndarray  # probabilities over catalogue items
    lines_mean: float = 1.5
    coalition_share: float = 0.55
    export_p: float = 0.9
    lag_mean: float = 6.0
    share_lo: float = 0.7
    belarus_share: float = 0.15
    import_factor: tuple[float, float] = (1.0, 1.0)
    export_factor: tuple[float, float] = (1.1, 1.8)
    decoys: np.ndarray | None = None
    brand_share: float = 0.5
    complicit_share: float = 0.7
    downstream_evidence: bool = True


def tier_probs(cat: GoodsCatalog, weights: dict[int, float], only: tuple[str, ...] = ()) -> np.ndarray:
    """Item probabilities: tier rank -> total weight, spread evenly over the tier's items."""
    p = np.zeros(cat.size)
    for rank, w in weights.items():
        items = cat.items_with_tier((rank,))
        if only:
            items = items[np.isin(cat.hs6[items], only)]
        p[items] = w / len(items)
    return p / p.sum()


def run_plan(rng: np.random.Generator, ctx: Context, plan: Plan) -> tuple[TradeArrays, np.ndarray]:
    """Import documents and their export legs; returns the batch and each line's episode."""
    cat, cfg = ctx.cat, ctx.cfg
    n_ep = len(plan.actor)
    k = np.minimum(rng.geometric(1 / plan.lines_mean, n_ep), 4)
    doc = expand(k)
    n = len(doc)
    true_item = rng.choice(cat.size, size=n, p=plan.item_p)
    lday = plan.day[doc]
    origin = itineraries.origins(rng, cat, true_item, np.full(n, IMP40), lday, cfg.honest.western_surge)
    western = itineraries.pick_country(rng, n, COALITION_ORIGINS)
    origin = np.where(rng.random(n) < plan.coalition_share, western, origin)
    first_line = np.concatenate([[0], np.cumsum(k)[:-1]])
    origin = np.where(rng.random(n) < 0.75, origin[first_line][doc], origin)
    declared = true_item if plan.decoys is None else plan.decoys[rng.integers(0, len(plan.decoys), n)]

    flow = np.full(n_ep, IMP40)
    lead = true_item[first_line]
    route = itineraries.documents_route(rng, cat, flow, lead, origin[first_line], plan.day)
    dispatch = np.where(
        rng.random(n_ep) < 0.55, itineraries.pick_country(rng, n_ep, SCHEME_HUBS), route["dispatch"]
    )
    dispatch = np.where(
        dispatch == geo.C["UZ"], np.where(origin[first_line] == geo.C["UZ"], geo.C["CN"], dispatch), dispatch
    )
    trading = np.where(rng.random(n_ep) < 0.5, itineraries.pick_country(rng, n_ep, SCHEME_TRADERS), dispatch)
    mode = itineraries.transport_modes(rng, cat, flow, lead, dispatch)
    kz = np.full(n_ep, geo.C["KZ"])
    office = itineraries.offices(rng, flow, mode, dispatch, kz)

    imp_factor = rng.uniform(*plan.import_factor, n)
    goods = amounts(rng, cat, true_item, origin, lday, ctx.start, price_factor=imp_factor)
    quantity = np.where(cat.per_piece[declared], goods["quantity"], np.nan)
    if plan.decoys is None:
        brand = brands(rng, cat, true_item, plan.brand_share)
    else:
        _, b_start, b_count = brand_table()
        g = BRAND_GROUP_NAMES.index("chips")
        brand = np.where(rng.random(n) < plan.brand_share, b_start[g] + rng.integers(0, b_count[g], n), -1)
    own = getattr(ctx.cfg.schemes, plan.scheme).complicit_broker_share
    broker = np.where(
        rng.random(n_ep) < (plan.complicit_share if own is None else own),
        ctx.complicit[rng.integers(0, len(ctx.complicit), n_ep)],
        ctx.traders.broker[plan.actor],
    )
    code = SCHEME_CODE[plan.scheme]
    imports = TradeArrays(
        doc={
            "trader": plan.actor,
            "day": plan.day,
            "flow": flow,
            "cp": ctx.front(rng, trading, 0.6, plan.actor),
            "cp_country": trading,
            "dispatch": dispatch,
            "destination": kz,
            "trading": trading,
            "mode": mode,
            "office": office,
            "declarant": np.where(ctx.traders.self_declare[plan.actor], plan.actor, -(broker + 1)),
            "prev": np.full(n_ep, -1),
        },
        line={
            "doc": doc,
            "item": declared,
            "hs10": cat.sample_hs10(rng, declared),
            "brand": brand,
            "origin": origin,
            "quantity": quantity,
            "net": goods["net"],
            "gross": goods["gross"],
            "value": goods["value"],
            "scheme": np.full(n, code, dtype=np.int8),
            "violation": np.zeros(n, dtype=np.int8),
            "leg": np.full(n, LEG_IMPORT if plan.downstream_evidence else 0, dtype=np.int8),
        },
    )

    # export legs: SNT to RU/BY, only from the SNT obligation on (before it, no line is left)
    lag = 1 + np.round(rng.gamma(2.0, plan.lag_mean / 2, n_ep)).astype(np.int64)
    ex_day = plan.day + lag
    ok = (rng.random(n_ep) < plan.export_p) & (ex_day >= SNT_DAY) & (ex_day <= ctx.end)
    src = np.flatnonzero(ok)
    m = len(src)
    pos = np.full(n_ep, -1)
    pos[src] = np.arange(m)
    sel = np.flatnonzero(pos[doc] >= 0)
    ldoc = pos[doc[sel]]
    dest = np.where(rng.random(m) < plan.belarus_share, geo.C["BY"], geo.C["RU"])
    share = rng.uniform(plan.share_lo, 1.0, m)[ldoc]
    qty = quantity[sel]
    ex_qty = np.where(np.isnan(qty), np.nan, np.maximum(np.round(qty * share), 1.0))
    scale = np.where(np.isnan(qty), share, ex_qty / np.where(np.isnan(qty), 1.0, qty))
    ex_factor = rng.uniform(*plan.export_factor, len(sel))
    net = np.round(np.maximum(goods["net"][sel] * scale, 0.001), 3)
    actor = plan.actor[src]
    exports = TradeArrays(
        doc={
            "trader": actor,
            "day": ex_day[src],
            "flow": np.full(m, SNT_EXP),
            "cp": ctx.front(rng, dest, 0.8, actor),
            "cp_country": dest,
            "dispatch": np.full(m, geo.C["KZ"]),
            "destination": dest,
            "trading": dest,
            "mode": np.select([rng.random(m) < 0.8, rng.random(m) < 0.75], [ROAD, RAIL], default=AIR),
            "office": np.full(m, -1),
            "declarant": actor,
            "prev": np.where(rng.random(m) < 0.25, src, -1),
        },
        line={
            "doc": ldoc,
            "item": declared[sel],
            "hs10": imports.line["hs10"][sel],
            "brand": brand[sel],
            "origin": origin[sel],
            "quantity": ex_qty,
            "net": net,
            "gross": np.round(np.maximum(goods["gross"][sel] * scale, net), 3),
            "value": np.maximum(np.round(goods["value"][sel] / imp_factor[sel] * scale * ex_factor, 2), 0.01),
            "scheme": np.full(len(sel), code, dtype=np.int8),
            "violation": np.zeros(len(sel), dtype=np.int8),
            "leg": np.zeros(len(sel), dtype=np.int8),
        },
    )
    return with_followups(imports, exports), np.concatenate([doc, src[ldoc]])


def trim(batch: TradeArrays, episode: np.ndarray, target: int) -> TradeArrays:
    """The first `target` lines in episode order (episodes are random, so no period is favoured)."""
    order = np.argsort(episode, kind="stable")[:target]
    return batch.take_lines(np.sort(order))


def episodes_for(
    rng: np.random.Generator, ctx: Context, actors: np.ndarray, first: np.ndarray, last: np.ndarray, n_ep: int
) -> tuple[np.ndarray, np.ndarray]:
    """Episode actors (weighted by their active span) and import days within each actor's window."""
    first = np.clip(np.maximum(first, ctx.traders.reg_day[actors] + 7), ctx.start, ctx.end)
    last = np.clip(last, first, ctx.end)
    span = np.maximum(last - first + 1, 1).astype(float)
    who = rng.choice(len(actors), size=n_ep, p=span / span.sum())
    d = sample_days(rng, ctx.weights, first[who] - ctx.start, last[who] - ctx.start, ctx.start)
    return actors[who], d


def pick_actors(rng: np.random.Generator, ctx: Context, mask: np.ndarray, n: int) -> np.ndarray:
    """n honest-population traders satisfying `mask` (fewer if not enough qualify)."""
    pool = np.flatnonzero(mask[: ctx.n_honest])
    return np.sort(rng.choice(pool, size=min(n, len(pool)), replace=False))


def n_actors(target: int, per_actor: int) -> int:
    return max(2, round(target / per_actor))


def expected_lines(plan_lines: float, export_p: float) -> float:
    return plan_lines * (1 + 0.6 * export_p)
