"""Honest trade: documents and goods lines of ordinary Kazakh traders, with every scheme's honest look-alike.

Volume follows a calendar (yearly growth, an autumn peak, quiet Sundays and New Year), electronics,
machinery and transit grow after the invasion, and SNT waybills appear only from 1 Apr 2023. Each trader
trades its sector's flows (importers, exporters, carriers) and its own product mix. Honest trade also
holds what the schemes look like from one angle: distributors re-shipping imports within weeks (mostly to
Kyrgyzstan and Armenia), Western Tier 1-2 goods imported by electronics distributors, new companies,
unit-value outliers and traders who change their mix.
"""

from datetime import date

import numpy as np

from roundabout.reference import SNT_OBLIGATION
from roundabout.simulation import geo, itineraries
from roundabout.simulation.config import SimulationConfig
from roundabout.simulation.goods import GoodsCatalog, amounts, brand_table
from roundabout.simulation.population import Counterparties, Traders, day
from roundabout.simulation.trade_arrays import (
    EXP10,
    HONEST_VIOLATIONS,
    IMP40,
    IS_SNT,
    RAIL,
    REX31,
    ROAD,
    SNT_EXP,
    SNT_IMP,
    TRN80,
    TradeArrays,
    expand,
    with_followups,
)

SNT_DAY = day(SNT_OBLIGATION)

#: Share of each sector's lines by flow (IMP40, EXP10, REX31, TRN80, SNT_IMP, SNT_EXP) once SNTs exist.
SECTOR_FLOWS = np.array(
    [
        [0.40, 0.04, 0.01, 0.00, 0.45, 0.10],  # food
        [0.05, 0.45, 0.00, 0.00, 0.15, 0.35],  # agriculture
        [0.40, 0.05, 0.01, 0.00, 0.45, 0.09],  # construction
        [0.50, 0.01, 0.02, 0.00, 0.37, 0.10],  # auto_parts
        [0.55, 0.01, 0.03, 0.00, 0.28, 0.13],  # electronics_retail
        [0.50, 0.03, 0.02, 0.00, 0.35, 0.10],  # machinery
        [0.40, 0.15, 0.01, 0.00, 0.34, 0.10],  # chemicals
        [0.55, 0.01, 0.02, 0.00, 0.35, 0.07],  # consumer_goods
        [0.08, 0.55, 0.00, 0.00, 0.12, 0.25],  # metals
        [0.12, 0.03, 0.05, 0.65, 0.08, 0.07],  # logistics
    ]
)
#: Sectors that grow after the invasion (electronics, machinery, logistics) and distributors that re-ship.
WAR_GROWTH_SECTORS = np.array([4, 5, 9])
DISTRIBUTORS = np.array([2, 3, 4, 5, 7])
_RESHIP_TO = {"KG": 0.55, "AM": 0.1, "RU": 0.25, "BY": 0.1}
_RESHIP_TO_CHPL = {"KG": 0.75, "AM": 0.25}


def calendar(days: np.ndarray, start: int, growth: float, seasonality: float) -> np.ndarray:
    """Relative number of documents per day: growth, an autumn peak, weekends and New Year holidays."""
    years = (days - start) / 365.25
    doy = (days - day(date(2000, 1, 1))) % 365.25
    w = (1 + growth) ** years * (1 + seasonality * np.sin(2 * np.pi * (doy - 170) / 365.25))
    weekday = (days + 3) % 7  # 0 = Monday (1970-01-01 was a Thursday)
    w = w * np.select([weekday == 6, weekday == 5], [0.3, 0.6], default=1.0)
    new_year = (doy < 7) | (doy > 364)
    return w * np.where(new_year, 0.4, 1.0)


def war_ramp(days: np.ndarray) -> np.ndarray:
    """0 before the invasion, rising to 1 over the next 180 days."""
    return np.clip((days - itineraries.INVASION_DAY) / 180, 0, 1)


def sample_days(
    rng: np.random.Generator, weights: np.ndarray, first: np.ndarray, last: np.ndarray, start: int
) -> np.ndarray:
    """A day in [first, last] (indices into `weights`, inclusive) per row, drawn with the weights."""
    cum = np.concatenate([[0.0], np.cumsum(weights)])
    target = cum[first] + rng.random(len(first)) * (cum[last + 1] - cum[first])
    return start + np.clip(np.searchsorted(cum, target, side="right") - 1, first, last)


def honest_trade(
    rng: np.random.Generator,
    cfg: SimulationConfig,
    cat: GoodsCatalog,
    traders: Traders,
    cps: Counterparties,
    n_brokers: int,
    n_lines: int,
) -> TradeArrays:
    """Exactly `n_lines` honest goods lines."""
    hc = cfg.honest
    start, end = day(cfg.start), day(cfg.end)
    days = np.arange(start, end + 1)
    n_days = len(days)
    base = calendar(days, start, hc.growth_per_year, hc.seasonality)
    n_sec = SECTOR_FLOWS.shape[0]
    snt_share = SECTOR_FLOWS[:, 4:].sum(axis=1)
    boost = np.ones((n_sec, n_days))
    boost[WAR_GROWTH_SECTORS] += 0.3 * war_ramp(days)
    post = days >= SNT_DAY
    intensity = base * boost * ((1 - snt_share)[:, None] + snt_share[:, None] * post)
    cum = np.concatenate([np.zeros((n_sec, 1)), np.cumsum(intensity, axis=1)], axis=1)

    first = np.clip(traders.reg_day + 7 - start, 0, n_days - 1)
    last = np.clip(traders.last_day - start, first, n_days - 1)
    mass = cum[traders.sector, last + 1] - cum[traders.sector, first]
    p = traders.weight * mass
    n_docs = int(n_lines * 1.1 / hc.lines_per_document) + 10
    t = rng.choice(len(traders), size=n_docs, p=p / p.sum())
    sec = traders.sector[t]
    target = cum[sec, first[t]] + rng.random(n_docs) * (cum[sec, last[t] + 1] - cum[sec, first[t]])
    d_idx = np.zeros(n_docs, dtype=np.int64)
    for s in range(n_sec):
        rows = sec == s
        d_idx[rows] = np.searchsorted(cum[s], target[rows], side="right") - 1
    doc_day = start + np.clip(d_idx, first[t], last[t])

    pivoted = (doc_day >= traders.pivot_day[t]) & (rng.random(n_docs) < 0.7)
    eff_sector = np.where(pivoted, traders.sector2[t], sec)
    flow_p = np.repeat(SECTOR_FLOWS, 2, axis=0)
    flow_p[0::2, 4:] = 0  # before the SNT obligation: no waybills
    flow = itineraries.sample_grouped(rng, eff_sector * 2 + (doc_day >= SNT_DAY), flow_p)

    k = np.minimum(rng.geometric(1 / hc.lines_per_document, n_docs), 25)
    doc = expand(k)
    batch = goods_documents(rng, cfg, cat, traders, cps, n_brokers, t, doc_day, flow, pivoted, doc)
    reship = reshipments(rng, cfg, cat, traders, cps, n_brokers, batch, eff_sector)
    batch = with_followups(batch, reship)
    if batch.n_lines < n_lines:
        raise RuntimeError("honest trade generated too few lines; raise the overshoot")
    keep = np.sort(rng.choice(batch.n_lines, size=n_lines, replace=False))
    return batch.take_lines(keep)


def mix_items(rng: np.random.Generator, mix: np.ndarray, mix_cum: np.ndarray) -> np.ndarray:
    """One item per row from rows of (items, cumulative weights)."""
    slot = (rng.random(len(mix))[:, None] > mix_cum).sum(axis=1)
    return mix[np.arange(len(mix)), np.minimum(slot, mix.shape[1] - 1)]


def declarants(rng: np.random.Generator, traders: Traders, t: np.ndarray, flow: np.ndarray, n_brokers: int):
    """Declarant per document: the trader itself for SNTs and self-declarers, else a broker (-(b+1))."""
    broker = np.where(rng.random(len(t)) < 0.82, traders.broker[t], rng.integers(0, n_brokers, len(t)))
    self_ = IS_SNT[flow] | traders.self_declare[t]
    return np.where(self_, t, -(broker + 1))


def brands(rng: np.random.Generator, cat: GoodsCatalog, items: np.ndarray, share: float = 0.55) -> np.ndarray:
    """A brand (index into the flat brand table) for some lines of branded goods, else -1."""
    _, b_start, b_count = brand_table()
    g = cat.brand_group[items]
    has = (b_count[g] > 0) & (rng.random(len(items)) < share)
    pick = b_start[g] + (rng.random(len(items)) * np.maximum(b_count[g], 1)).astype(np.int64)
    return np.where(has, pick, -1)


def goods_documents(
    rng: np.random.Generator,
    cfg: SimulationConfig,
    cat: GoodsCatalog,
    traders: Traders,
    cps: Counterparties,
    n_brokers: int,
    t: np.ndarray,
    doc_day: np.ndarray,
    flow: np.ndarray,
    pivoted: np.ndarray,
    doc: np.ndarray,
) -> TradeArrays:
    """Lines of honest documents: items from the trader's mix, routes, parties, amounts, noise."""
    hc = cfg.honest
    start = day(cfg.start)
    n = len(doc)
    lt = t[doc]
    use2 = pivoted[doc]
    items = np.where(
        use2,
        mix_items(rng, traders.mix2[lt], traders.mix2_cum[lt]),
        mix_items(rng, traders.mix[lt], traders.mix_cum[lt]),
    )
    lflow, lday = flow[doc], doc_day[doc]
    origin = itineraries.origins(rng, cat, items, lflow, lday, hc.western_surge)
    first_line = np.concatenate([[0], np.cumsum(np.bincount(doc, minlength=len(t)))[:-1]])
    lead_item, lead_origin = items[first_line], origin[first_line]
    origin = np.where(rng.random(n) < 0.75, lead_origin[doc], origin)
    route = itineraries.documents_route(rng, cat, flow, lead_item, lead_origin, doc_day)
    snt_home = (lflow == SNT_IMP) & (rng.random(n) < 0.4) & ~cat.domestic[items]
    origin = np.where(snt_home, route["dispatch"][doc], origin)
    origin = np.where((lflow == IMP40) & geo.IS_EAEU[origin], route["dispatch"][doc], origin)
    origin = np.where((lflow == IMP40) & geo.IS_EAEU[origin], geo.C["CN"], origin)
    cp = cps.pick(rng, t, route["cp_country"])
    goods = amounts(rng, cat, items, origin, lday, start)
    value = goods["value"]
    outlier = rng.random(n) < hc.price_outlier_rate
    factor = np.exp(rng.uniform(np.log(3), np.log(10), n) * np.where(rng.random(n) < 0.5, 1, -1))
    value = np.where(outlier, np.round(value * factor, 2), value)
    violation = np.zeros(n, dtype=np.int8)
    rate = hc.violation_rate * np.where(IS_SNT[lflow], 0.3, 1.3)
    has = rng.random(n) < rate
    kind = rng.choice(np.arange(1, len(HONEST_VIOLATIONS)), size=n, p=[0.5, 0.2, 0.15, 0.15])
    violation[has] = kind[has]
    under = violation == 1
    value = np.where(under, np.round(value * rng.uniform(0.3, 0.75, n), 2), value)
    return TradeArrays(
        doc={
            "trader": t,
            "day": doc_day,
            "flow": flow,
            "cp": cp,
            "cp_country": route["cp_country"],
            "dispatch": route["dispatch"],
            "destination": route["destination"],
            "trading": route["trading"],
            "mode": route["mode"],
            "office": route["office"],
            "declarant": declarants(rng, traders, t, flow, n_brokers),
            "prev": np.full(len(t), -1, dtype=np.int64),
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
            "value": np.maximum(value, 0.01),
            "scheme": np.zeros(n, dtype=np.int8),
            "violation": violation,
            "leg": np.zeros(n, dtype=np.int8),
        },
    )


def reshipments(
    rng: np.random.Generator,
    cfg: SimulationConfig,
    cat: GoodsCatalog,
    traders: Traders,
    cps: Counterparties,
    n_brokers: int,
    imports: TradeArrays,
    eff_sector: np.ndarray,
) -> TradeArrays:
    """Honest re-shipments: a distributor sells on part of an import within weeks, mostly to Kyrgyzstan or
    Armenia (CHPL goods never to Russia or Belarus), sometimes re-exported (31) to Central Asia."""
    end = day(cfg.end)
    d = imports.doc
    chosen = (
        np.isin(d["flow"], (IMP40, SNT_IMP))
        & np.isin(eff_sector, DISTRIBUTORS)
        & (rng.random(len(d["flow"])) < cfg.honest.reship_rate)
    )
    src = np.flatnonzero(chosen)
    m = len(src)
    flow = np.where(rng.random(m) < 0.8, SNT_EXP, REX31)
    ex_day = d["day"][src] + 1 + np.round(rng.gamma(1.5, 12, m)).astype(np.int64)
    ok = (ex_day <= end) & ((flow != SNT_EXP) | (ex_day >= SNT_DAY))
    src, flow, ex_day = src[ok], flow[ok], ex_day[ok]
    m = len(src)
    # lines of the chosen import documents, each kept with p=0.8 (the first always)
    line_doc = imports.line["doc"]
    pos = np.full(imports.n_docs, -1, dtype=np.int64)
    pos[src] = np.arange(m)
    new_doc = pos[line_doc]
    is_first = np.concatenate([[True], line_doc[1:] != line_doc[:-1]])
    sel = np.flatnonzero((new_doc >= 0) & (is_first | (rng.random(len(line_doc)) < 0.8)))
    ldoc = new_doc[sel]
    items = imports.line["item"][sel]
    lead_item = items[np.searchsorted(ldoc, np.arange(m))]
    chpl = (cat.tier[lead_item] > 0) & (ex_day >= itineraries.INVASION_DAY)
    dest = np.where(
        flow == REX31,
        itineraries.pick_country(rng, m, {"UZ": 0.4, "TJ": 0.2, "AF": 0.1, "TM": 0.1, "MN": 0.1, "GE": 0.1}),
        np.where(
            chpl,
            itineraries.pick_country(rng, m, _RESHIP_TO_CHPL),
            itineraries.pick_country(rng, m, _RESHIP_TO),
        ),
    )
    mode = np.where(rng.random(m) < 0.8, ROAD, RAIL)
    kz = np.full(m, geo.C["KZ"], dtype=np.int64)
    office = itineraries.offices(rng, flow, mode, kz, dest)
    t = d["trader"][src]
    share = rng.beta(2.5, 2.0, m)[ldoc]
    markup = rng.uniform(1.03, 1.25, len(sel))
    qty = imports.line["quantity"][sel]
    new_qty = np.where(np.isnan(qty), np.nan, np.maximum(np.round(qty * share), 1.0))
    scale = np.where(np.isnan(qty), share, new_qty / np.where(np.isnan(qty), 1.0, np.maximum(qty, 1.0)))
    net = np.round(np.maximum(imports.line["net"][sel] * scale, 0.001), 3)
    link = (flow == REX31) | (rng.random(m) < 0.4)
    return TradeArrays(
        doc={
            "trader": t,
            "day": ex_day,
            "flow": flow,
            "cp": cps.pick(rng, t, dest),
            "cp_country": dest,
            "dispatch": kz,
            "destination": dest,
            "trading": dest,
            "mode": mode,
            "office": office,
            "declarant": declarants(rng, traders, t, flow, n_brokers),
            "prev": np.where(link, src, -1),  # documents of `imports`: see with_followups
        },
        line={
            "doc": ldoc,
            "item": items,
            "hs10": imports.line["hs10"][sel],
            "brand": imports.line["brand"][sel],
            "origin": imports.line["origin"][sel],
            "quantity": new_qty,
            "net": net,
            "gross": np.round(np.maximum(imports.line["gross"][sel] * scale, net), 3),
            "value": np.maximum(np.round(imports.line["value"][sel] * scale * markup, 2), 0.01),
            "scheme": np.zeros(len(sel), dtype=np.int8),
            "violation": np.zeros(len(sel), dtype=np.int8),
            "leg": np.zeros(len(sel), dtype=np.int8),
        },
    )


_ = (EXP10, TRN80)
