"""Fitting the context tables: what lines like a given one looked like in the training period.

A line is judged against lines of the same direction and commodity: its 6-digit code, falling back to the
heading (4 digits), the chapter and the whole direction where a code is sparse. For each categorical
attribute (origin, dispatch, transport mode, customs office, counterparty country and the route as
origin > dispatch > mode) the tables keep, per group, the number of lines, the number of distinct values
and each value's count: what a Witten-Bell back-off estimate of "how likely is this value for such goods"
needs (`context.py`). For each ratio (quantity per kg, gross over net mass) they keep the robust centre and
spread of its logarithm per group, with its range and count for reasons an officer can check.

Groups with fewer than `MIN_CONTEXT_LINES` training lines are not kept: their lines back off to the
broader group, whose estimate rests on more evidence. The tables are part of the fitted `FeatureArtifacts`.
"""

from collections.abc import Callable
from typing import Any

import numpy as np
import pandas as pd

from roundabout.features.columns import Columns, factorize, map_rows
from roundabout.features.robust import robust_groups

#: Commodity levels, most specific first; "all" is the whole direction.
LEVELS: tuple[str, ...] = ("hs6", "hs4", "chapter", "all")
#: Categorical attributes judged in context, and the line columns each is made of.
ATTRIBUTES: dict[str, tuple[str, ...]] = {
    "origin": ("origin_country",),
    "dispatch": ("dispatch_country",),
    "mode": ("transport_mode",),
    "office": ("customs_office",),
    "counterparty_country": ("counterparty_country",),
    "route": ("origin_country", "dispatch_country", "transport_mode"),
}
#: Ratios judged in context: name -> (numerator column, denominator column).
RATIOS: dict[str, tuple[str, str]] = {
    "qty_per_kg": ("quantity", "net_mass_kg"),
    "gross_net": ("gross_mass_kg", "net_mass_kg"),
}
#: A commodity group needs this many training lines with the attribute given to be kept (else back off).
MIN_CONTEXT_LINES = 10
#: A ratio's reference needs this many training lines in the group (as the unit-value references).
MIN_RATIO_LINES = 20
#: Robust scale floor of a log ratio: a 5% spread at least, so near-constant groups do not give huge z's.
RATIO_SCALE_FLOOR = 0.05


def _prefix(n: int | None) -> Callable[[str | None, str | None], str | None]:
    def key(direction: str | None, hs6: str | None) -> str | None:
        if direction is None:
            return None
        if n is None:
            return f"{direction}|*"
        if hs6 is None or len(hs6) < n:
            return None
        return f"{direction}|{hs6[:n]}"

    return key


_LEVEL_KEYS = {"hs6": _prefix(6), "hs4": _prefix(4), "chapter": _prefix(2), "all": _prefix(None)}


def group_keys(cols: Columns) -> dict[str, np.ndarray]:
    """Each line's group key at every level ("import|847130", "import|8471", ..., "import|*")."""
    pair = (cols["direction"], cols["hs6"])
    return {level: map_rows(fn, pair, object) for level, fn in _LEVEL_KEYS.items()}


def _route(origin: str | None, dispatch: str | None, mode: str | None) -> str | None:
    if origin is None and dispatch is None and mode is None:
        return None
    return f"{origin or '-'}>{dispatch or '-'}>{mode or '-'}"


def attribute_values(cols: Columns, attribute: str) -> np.ndarray:
    """The values of an attribute on every line (None where missing)."""
    columns = ATTRIBUTES[attribute]
    if len(columns) == 1:
        return cols[columns[0]]
    return map_rows(_route, tuple(cols[c] for c in columns), object)


def log_ratio(cols: Columns, ratio: str) -> np.ndarray:
    """log(numerator / denominator); NaN where either side is missing or not positive."""
    top, bottom = (cols[c] for c in RATIOS[ratio])
    with np.errstate(divide="ignore", invalid="ignore"):
        return np.where((top > 0) & (bottom > 0), np.log(top / bottom), np.nan)


def _count_table(keys: tuple[np.ndarray, Any], values: tuple[np.ndarray, Any]) -> dict[str, list[Any]]:
    """{group: [lines, distinct values, {value: lines}]} over groups of at least MIN_CONTEXT_LINES lines,
    from factorised keys and values ((codes, names); code -1 is missing).

    Counted on integer codes (numpy), not on a frame of strings: a million lines in a fraction of a second."""
    (k_codes, k_names), (v_codes, v_names) = keys, values
    ok = (k_codes >= 0) & (v_codes >= 0)
    if not ok.any():
        return {}
    k, v = k_codes[ok].astype(np.int64), v_codes[ok].astype(np.int64)
    pairs, counts = np.unique(k * len(v_names) + v, return_counts=True)
    pair_key, pair_value = np.divmod(pairs, len(v_names))
    totals = np.bincount(k, minlength=len(k_names))
    kept = totals >= MIN_CONTEXT_LINES
    out: dict[str, list[Any]] = {str(k_names[g]): [int(totals[g]), 0, {}] for g in np.flatnonzero(kept)}
    for g, value, c in zip(pair_key.tolist(), pair_value.tolist(), counts.tolist(), strict=True):
        if kept[g]:
            group = out[str(k_names[g])]
            group[2][str(v_names[value])] = c
            group[1] += 1
    return out


def _ratio_table(keys: np.ndarray, logs: np.ndarray) -> dict[str, list[float]]:
    """{group: [median, scale, lines, min, max]} of a log ratio over groups of at least MIN_RATIO_LINES."""
    stats = robust_groups(keys, logs, MIN_RATIO_LINES, RATIO_SCALE_FLOOR)
    return {str(k): [float(v) for v in row] for k, row in zip(stats.index, stats.to_numpy(), strict=True)}


def fit_context(cols: Columns) -> dict[str, Any]:
    """The context tables of training lines (the `context` part of the artifacts' payload)."""
    keys = group_keys(cols)
    coded = {level: factorize(k) for level, k in keys.items()}
    days = cols["day"]
    return {
        "levels": list(LEVELS),
        "min_context_lines": MIN_CONTEXT_LINES,
        "fit_days": [float(np.nanmin(days)), float(np.nanmax(days))] if len(days) else [0.0, -1.0],
        "vocabulary": {
            name: int(pd.Series(attribute_values(cols, name)).nunique(dropna=True)) for name in ATTRIBUTES
        },
        "counts": {
            name: {
                level: _count_table(coded[level], factorize(attribute_values(cols, name))) for level in LEVELS
            }
            for name in ATTRIBUTES
        },
        "ratios": {
            name: {level: _ratio_table(keys[level], log_ratio(cols, name)) for level in LEVELS}
            for name in RATIOS
        },
    }
