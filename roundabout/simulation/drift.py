"""Planted input drift: the world's lines change on purpose from a given day, so a drift monitor can be
shown to fire on a change whose day, columns and size are known.

Three kinds (`config.RouteShift`, `NewCode`, `PriceShock`), each touching lines dated on or after its
`starts`: a share of DT import declarations now dispatched (and traded) through a new hub, a share of lines
of some chapters declared under a code the world never used, customs values of some chapters multiplied.
Shifts run in the order the config lists them, each on the lines the previous ones left. They run on the
assembled lines before inspections, so the legacy rules see the drifted lines as customs would; truth is
untouched, since a drifted line is the same consignment, declared or priced otherwise. Every line stays
valid under the canonical rules. Each shift draws from its own child of the drift generator, which is a
child of the world's seed of its own: the rest of the world keeps its draws.
"""

from collections.abc import Sequence

import numpy as np
import pandas as pd

from roundabout.simulation.config import DriftShift, NewCode, PriceShock, RouteShift


def plant_drift(rng: np.random.Generator, lines: pd.DataFrame, shifts: Sequence[DriftShift]) -> pd.DataFrame:
    """A copy of the canonical `lines` with every shift applied, in order; same rows, same order."""
    out = lines.copy()
    for shift, child in zip(shifts, rng.spawn(len(shifts)), strict=True):
        if isinstance(shift, RouteShift):
            route_shift(child, out, shift)
        elif isinstance(shift, NewCode):
            new_code(child, out, shift)
        else:
            price_shock(child, out, shift)
    return out


def route_shift(rng: np.random.Generator, lines: pd.DataFrame, shift: RouteShift) -> None:
    """Dispatch (and trading) country of a share of DT import declarations set to `shift.to`, in place.

    A declaration has one route, so whole declarations shift; SNT imports are movements within the EAEU
    and keep theirs."""
    dt_import = lines["document_kind"].eq("DT") & lines["direction"].eq("import")
    route = lines["dispatch_country"].ne(shift.to)
    if shift.dispatch:
        route &= lines["dispatch_country"].isin(shift.dispatch)
    concerned = _from(lines, shift) & (dt_import & route).fillna(False).to_numpy(dtype=bool)
    doc, _ = pd.factorize(lines["document_id"])
    chosen = np.zeros(doc.max() + 1 if len(doc) else 0, dtype=bool)
    chosen[_pick(rng, np.unique(doc[concerned]), shift.share)] = True
    rows = concerned & chosen[doc]
    columns = ["dispatch_country", "trading_country"] if shift.traded else ["dispatch_country"]
    lines.loc[rows, columns] = shift.to


def new_code(rng: np.random.Generator, lines: pd.DataFrame, shift: NewCode) -> None:
    """`hs_code` of a share of the lines of `shift.chapters` set to `shift.code`, in place."""
    concerned = _from(lines, shift) & _of_chapters(lines, shift.chapters)
    rows = _pick(rng, np.flatnonzero(concerned), shift.share)
    lines.loc[lines.index[rows], "hs_code"] = shift.code


def price_shock(rng: np.random.Generator, lines: pd.DataFrame, shift: PriceShock) -> None:
    """`value_usd` of a share of the lines of `shift.chapters` times `shift.factor` (to cents), in place."""
    concerned = _from(lines, shift) & _of_chapters(lines, shift.chapters)
    rows = lines.index[_pick(rng, np.flatnonzero(concerned), shift.share)]
    lines.loc[rows, "value_usd"] = (lines.loc[rows, "value_usd"] * shift.factor).round(2)


def _from(lines: pd.DataFrame, shift: DriftShift) -> np.ndarray:
    """Lines dated on or after the shift's start."""
    if shift.starts is None:
        return np.ones(len(lines), dtype=bool)
    return (lines["date"] >= pd.Timestamp(shift.starts)).to_numpy(dtype=bool)


def _of_chapters(lines: pd.DataFrame, chapters: tuple[int, ...]) -> np.ndarray:
    """Lines of the given HS chapters (every line when none is given)."""
    if not chapters:
        return np.ones(len(lines), dtype=bool)
    wanted = [f"{c:02d}" for c in chapters]
    return lines["hs_code"].str.slice(0, 2).isin(wanted).to_numpy(dtype=bool)


def _pick(rng: np.random.Generator, items: np.ndarray, share: float) -> np.ndarray:
    """A random `share` of `items` (exactly, up to rounding), in their order."""
    return np.sort(rng.choice(items, size=round(share * len(items)), replace=False))
