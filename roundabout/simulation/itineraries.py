"""Where goods come from and go: origins, dispatch/destination/trading countries, transport mode and office.

Everything is consistent with the flow: DT imports (40) come from outside the EAEU, SNT imports from RU,
BY, KG or AM; exports leave Kazakhstan; transits (80) pass through from one foreign country to another and
are declared at the post of exit. Modes follow the goods and the region (chips fly, machinery from China
goes by rail, grain by rail, crude oil by pipeline); offices follow the mode and the route.
"""

import numpy as np

from roundabout.reference import INVASION
from roundabout.simulation import geo
from roundabout.simulation.goods import GoodsCatalog
from roundabout.simulation.population import day
from roundabout.simulation.trade_arrays import (
    AIR,
    EXP10,
    IMP40,
    PIPE,
    POST,
    RAIL,
    REX31,
    ROAD,
    SEA,
    SNT_EXP,
    SNT_IMP,
    TRN80,
)

N_COUNTRIES = len(geo.COUNTRIES)
INVASION_DAY = day(INVASION)
_SURGE_CHAPTERS = ("84", "85", "88", "90")


def sample_grouped(rng: np.random.Generator, groups: np.ndarray, probs: np.ndarray) -> np.ndarray:
    """For each row, a category drawn from `probs[groups[row]]` (probs: groups x categories)."""
    probs = probs / probs.sum(axis=1, keepdims=True)
    cum = np.cumsum(probs, axis=1)
    u = rng.random(len(groups))
    out = np.zeros(len(groups), dtype=np.int64)
    order = np.argsort(groups, kind="stable")
    bounds = np.searchsorted(groups[order], np.arange(len(probs) + 1))
    for g in range(len(probs)):
        rows = order[bounds[g] : bounds[g + 1]]
        if len(rows):
            out[rows] = np.searchsorted(cum[g], u[rows], side="right")
    return np.minimum(out, probs.shape[1] - 1)


def dist(spec: dict[str, float]) -> np.ndarray:
    """A {country: weight} spec as a probability row over all countries."""
    row = np.zeros(N_COUNTRIES)
    codes, p = geo.weights(spec)
    row[codes] = p
    return row


def pick_country(rng: np.random.Generator, n: int, spec: dict[str, float]) -> np.ndarray:
    """n countries from one spec."""
    codes, p = geo.weights(spec)
    return codes[rng.choice(len(codes), size=n, p=p)].astype(np.int64)


def origins(
    rng: np.random.Generator,
    cat: GoodsCatalog,
    items: np.ndarray,
    flow: np.ndarray,
    days: np.ndarray,
    surge: float,
) -> np.ndarray:
    """Country of origin per line. Imports from outside the EAEU exclude EAEU origins; after the invasion,
    coalition origins of ch. 84/85/88/90 goods gain weight (the 'roundabout' rise in Western exports)."""
    base = cat.origin_p  # profiles x countries
    no_eaeu = base * ~geo.IS_EAEU
    surged = no_eaeu * (1 + surge * geo.IS_COALITION)
    no_kz = base.copy()
    no_kz[:, geo.C["KZ"]] = 0
    # groups: profile x {any, no EAEU, no EAEU surged, half surged}
    half = no_eaeu * (1 + 0.5 * surge * geo.IS_COALITION)
    table = np.concatenate([no_kz, no_eaeu, surged, half])
    n_prof = len(base)
    chapter = np.array([h[:2] for h in cat.hs6])
    surge_item = np.isin(chapter, _SURGE_CHAPTERS)[items]
    after = days >= INVASION_DAY
    ramped = days >= INVASION_DAY + 120
    foreign_only = np.isin(flow, (IMP40, REX31, TRN80))
    variant = np.where(foreign_only, np.where(surge_item & ramped, 2, np.where(surge_item & after, 3, 1)), 0)
    out = sample_grouped(rng, cat.profile[items] + n_prof * variant, table)
    domestic = cat.domestic[items]
    home = np.isin(flow, (EXP10, SNT_EXP)) & (domestic | (rng.random(len(items)) < 0.15))
    return np.where(home & (rng.random(len(items)) < 0.95), geo.C["KZ"], out)


_IMPORT_HUBS = {"CN": 0.3, "AE": 0.15, "TR": 0.15, "DE": 0.1, "NL": 0.07, "LT": 0.08, "PL": 0.05, "HK": 0.05,
                "UZ": 0.05}  # fmt: skip
_TRADE_HUBS = {"HK": 0.3, "AE": 0.25, "CH": 0.15, "SG": 0.1, "CN": 0.1, "TR": 0.1}
_EXPORT_BULK = {"CN": 0.3, "UZ": 0.15, "TR": 0.1, "IT": 0.08, "NL": 0.08, "TJ": 0.07, "AF": 0.07, "IR": 0.05,
                "CH": 0.05, "AZ": 0.05, "GE": 0.05}  # fmt: skip
_EXPORT_GENERAL = {"UZ": 0.3, "TJ": 0.15, "AF": 0.12, "CN": 0.1, "TM": 0.08, "TR": 0.06, "MN": 0.06,
                   "AZ": 0.05, "GE": 0.05, "DE": 0.03}  # fmt: skip
_EXPORT_OIL = {"IT": 0.3, "NL": 0.15, "FR": 0.1, "CN": 0.15, "ES": 0.1, "DE": 0.1, "GB": 0.1}
_REEXPORT = {"UZ": 0.35, "TJ": 0.15, "AF": 0.1, "TM": 0.1, "MN": 0.08, "CN": 0.07, "AZ": 0.05, "GE": 0.05,
             "TR": 0.05}  # fmt: skip
_TRANSIT_FROM_EAST = {"UZ": 0.3, "KG": 0.15, "TJ": 0.1, "TM": 0.05, "AF": 0.05, "RU": 0.12, "BY": 0.03,
                      "DE": 0.07, "PL": 0.06, "IR": 0.04, "AZ": 0.03}  # fmt: skip
_TRANSIT_FROM_WEST = {"UZ": 0.3, "KG": 0.15, "TJ": 0.15, "TM": 0.1, "AF": 0.1, "CN": 0.15, "MN": 0.05}
_SNT_FROM = {"RU": 0.75, "BY": 0.1, "KG": 0.1, "AM": 0.05}
SNT_TO = {"RU": 0.55, "KG": 0.28, "BY": 0.07, "AM": 0.10}
#: Honest SNT exports of CHPL goods after the invasion: mostly to Kyrgyzstan and Armenia, rarely to Russia.
SNT_TO_CHPL = {"RU": 0.12, "KG": 0.65, "BY": 0.03, "AM": 0.20}
_EAST = geo.idx(["CN", "HK", "KR", "JP", "VN", "TW", "MY", "SG", "TH", "PH", "IN", "BD"])


def documents_route(
    rng: np.random.Generator,
    cat: GoodsCatalog,
    flow: np.ndarray,
    lead_item: np.ndarray,
    lead_origin: np.ndarray,
    days: np.ndarray,
) -> dict[str, np.ndarray]:
    """Dispatch, destination, trading and counterparty country, mode and office of each document."""
    n = len(flow)
    kz = geo.C["KZ"]
    dispatch = np.full(n, kz, dtype=np.int64)
    destination = np.full(n, kz, dtype=np.int64)
    chpl_after = (cat.tier[lead_item] > 0) & (days >= INVASION_DAY)
    bulk = cat.mode_class[lead_item] >= 3
    oil = cat.mode_class[lead_item] == 4

    m = flow == IMP40
    via_hub = rng.random(n) < 0.28
    dispatch[m] = np.where(via_hub[m], pick_country(rng, n, _IMPORT_HUBS)[m], lead_origin[m])
    m = flow == EXP10
    exp_dest = np.where(oil, pick_country(rng, n, _EXPORT_OIL), np.where(
        bulk, pick_country(rng, n, _EXPORT_BULK), pick_country(rng, n, _EXPORT_GENERAL)))  # fmt: skip
    destination[m] = exp_dest[m]
    m = flow == REX31
    destination[m] = pick_country(rng, n, _REEXPORT)[m]
    m = flow == TRN80
    east = np.isin(lead_origin, _EAST) | (rng.random(n) < 0.3)
    dispatch[m] = np.where(east, np.where(rng.random(n) < 0.5, geo.C["CN"], lead_origin), lead_origin)[m]
    from_east = np.isin(dispatch, _EAST)
    tdest = np.where(
        from_east, pick_country(rng, n, _TRANSIT_FROM_EAST), pick_country(rng, n, _TRANSIT_FROM_WEST)
    )
    tdest = np.where(tdest == dispatch, geo.C["UZ"], tdest)
    destination[m] = tdest[m]
    m = flow == SNT_IMP
    dispatch[m] = pick_country(rng, n, _SNT_FROM)[m]
    m = flow == SNT_EXP
    destination[m] = np.where(chpl_after, pick_country(rng, n, SNT_TO_CHPL), pick_country(rng, n, SNT_TO))[m]

    partner = np.where(np.isin(flow, (IMP40, SNT_IMP)), dispatch, destination)
    hub = rng.random(n) < np.where(np.isin(flow, (SNT_IMP, SNT_EXP)), 0.0, 0.18)
    trading = np.where(hub, pick_country(rng, n, _TRADE_HUBS), partner)
    cp_country = np.where(flow == TRN80, destination, trading)
    mode = transport_modes(rng, cat, flow, lead_item, dispatch)
    office = offices(rng, flow, mode, dispatch, destination)
    return {
        "dispatch": dispatch,
        "destination": destination,
        "trading": trading,
        "cp_country": cp_country,
        "mode": mode,
        "office": office,
    }


# mode probability rows over (road, rail, air, sea, pipeline, post) per group
_MODE_TABLE = np.array(
    [
        # IMP40 from China (by class: small, general, heavy, bulk, pipe)
        [0.55, 0.15, 0.25, 0, 0, 0.05], [0.55, 0.45, 0, 0, 0, 0], [0.35, 0.65, 0, 0, 0, 0],
        [0.2, 0.8, 0, 0, 0, 0], [0.2, 0.8, 0, 0, 0, 0],
        # IMP40 from neighbours (UZ, TJ, TM, AF, ...)
        [0.85, 0.15, 0, 0, 0, 0], [0.85, 0.15, 0, 0, 0, 0], [0.7, 0.3, 0, 0, 0, 0], [0.5, 0.5, 0, 0, 0, 0],
        [0.5, 0.5, 0, 0, 0, 0],
        # IMP40 from far away
        [0.3, 0, 0.6, 0, 0, 0.1], [0.7, 0.15, 0.05, 0.1, 0, 0], [0.45, 0.3, 0, 0.25, 0, 0],
        [0.2, 0.6, 0, 0.2, 0, 0], [0.2, 0.6, 0, 0.2, 0, 0],
        # exports and re-exports
        [0.6, 0.1, 0.3, 0, 0, 0], [0.7, 0.3, 0, 0, 0, 0], [0.5, 0.5, 0, 0, 0, 0], [0.2, 0.8, 0, 0, 0, 0],
        [0, 0, 0, 0, 1, 0],
        # transits
        [0.6, 0.3, 0.1, 0, 0, 0], [0.45, 0.55, 0, 0, 0, 0], [0.4, 0.6, 0, 0, 0, 0], [0.3, 0.7, 0, 0, 0, 0],
        [0.3, 0.7, 0, 0, 0, 0],
        # SNT (within the EAEU)
        [0.85, 0.05, 0.1, 0, 0, 0], [0.7, 0.3, 0, 0, 0, 0], [0.5, 0.5, 0, 0, 0, 0], [0.2, 0.8, 0, 0, 0, 0],
        [0.2, 0.8, 0, 0, 0, 0],
    ]
)  # fmt: skip
_NEAR = geo.idx(["UZ", "TJ", "TM", "AF", "KG", "MN", "IR", "AZ", "GE"])


def transport_modes(
    rng: np.random.Generator, cat: GoodsCatalog, flow: np.ndarray, lead_item: np.ndarray, dispatch: np.ndarray
) -> np.ndarray:
    """Mode of transport at the border per document."""
    region = np.where(dispatch == geo.C["CN"], 0, np.where(np.isin(dispatch, _NEAR), 1, 2))
    block = np.select(
        [flow == IMP40, np.isin(flow, (EXP10, REX31)), flow == TRN80], [region, 3, 4], default=5
    )
    return sample_grouped(rng, block * 5 + cat.mode_class[lead_item], _MODE_TABLE)


def _pick_office(rng: np.random.Generator, kinds: np.ndarray, names: list[str]) -> np.ndarray:
    """An office of the given kind (index into names) per row; inland offices weighted by size."""
    out = np.full(len(kinds), -1, dtype=np.int64)
    u = rng.random(len(kinds))
    for k, name in enumerate(names):
        rows = kinds == k
        if name == "none" or not rows.any():
            continue
        cand = geo.offices_of(name)
        if name == "inland":
            w = np.array([geo.INLAND_WEIGHTS[geo.OFFICE_CODES[c]] for c in cand])
        else:
            w = np.ones(len(cand))
        cum = np.cumsum(w / w.sum())
        out[rows] = cand[np.minimum(np.searchsorted(cum, u[rows], side="right"), len(cand) - 1)]
    return out


OFFICE_KIND_NAMES = ["none", "air", "post", "sea", "cn_road", "cn_rail", "ru_border", "south_uz", "south_kg",
                     "inland", "atyrau"]  # fmt: skip
_K = {name: i for i, name in enumerate(OFFICE_KIND_NAMES)}
_SOUTH_UZ = geo.idx(["UZ", "TJ", "TM", "AF"])


def offices(
    rng: np.random.Generator,
    flow: np.ndarray,
    mode: np.ndarray,
    dispatch: np.ndarray,
    destination: np.ndarray,
) -> np.ndarray:
    """Customs office per document: the clearance office for DTs, the post of exit for transits, none for
    SNTs (there are no customs on EAEU borders)."""
    n = len(flow)
    u = rng.random(n)
    cn = geo.C["CN"]
    border_cn = np.where(mode == RAIL, _K["cn_rail"], _K["cn_road"])
    imp = np.select(
        [mode == AIR, mode == POST, mode == SEA, (dispatch == cn) & (u < 0.45),
         np.isin(dispatch, _SOUTH_UZ) & (u < 0.4), u < 0.05],
        [_K["air"], _K["post"], _K["sea"], border_cn, _K["south_uz"], _K["ru_border"]],
        default=_K["inland"],
    )  # fmt: skip
    exp = np.select(
        [mode == AIR, mode == PIPE, destination == cn, np.isin(destination, _SOUTH_UZ) & (u < 0.5),
         mode == SEA, u < 0.2],
        [_K["air"], _K["atyrau"], border_cn, _K["south_uz"], _K["sea"], _K["ru_border"]],
        default=_K["inland"],
    )  # fmt: skip
    trn = np.select(
        [destination == geo.C["KG"], np.isin(destination, _SOUTH_UZ), destination == cn,
         np.isin(destination, geo.idx(["IR", "AZ"])), u < 0.02],
        [_K["south_kg"], _K["south_uz"], border_cn, _K["sea"], _K["inland"]],
        default=_K["ru_border"],
    )  # fmt: skip
    kinds = np.select(
        [flow == IMP40, np.isin(flow, (EXP10, REX31)), flow == TRN80], [imp, exp, trn], default=_K["none"]
    )
    out = _pick_office(rng, kinds, OFFICE_KIND_NAMES[:-1])
    return np.where(kinds == _K["atyrau"], int(np.flatnonzero(geo.OFFICE_CODES == "60102")[0]), out)


_ = (ROAD, SNT_EXP)
