"""Context features: how unlike lines of the same commodity a line is (the `context` family).

- `<attribute>_surprise`: -log of the probability of the line's origin (dispatch, transport mode, customs
  office, counterparty country, route) among training lines of the same direction and 6-digit code. The
  probability is a Witten-Bell back-off estimate (Witten and Bell 1991; as in language models): each
  level, from the whole direction down to the 6-digit code, mixes its own counts with the broader level's
  estimate in proportion to how many distinct values it has seen,

      p(v | g) = (count(g, v) + distinct(g) * p(v | broader g)) / (lines(g) + distinct(g)),

  so a value never seen with a code that has always come one way is far more surprising than one never
  seen with a code that comes from everywhere. A value unseen everywhere starts from 1 / (vocabulary + 1).
- `qty_per_kg_z`, `gross_net_z`: robust z of log(quantity / net kg) and log(gross / net kg) against the
  most specific commodity group with a reference (signed: both directions are odd).

Point in time: the tables are fitted on the training period only (`context_tables.py`). A line dated in
that period is judged with itself left out of the counts (leave-one-out), so a training line that was the
only one of its kind looks as new as it would have on the day it came; later lines are judged as they are.
"""

from functools import lru_cache
from math import log
from typing import Any

import numpy as np

from roundabout.features.columns import Columns, map_rows
from roundabout.features.context_tables import _LEVEL_KEYS, ATTRIBUTES, LEVELS, RATIOS, attribute_values
from roundabout.features.context_tables import log_ratio as log_ratio

SURPRISE = {name: f"{name}_surprise" for name in ATTRIBUTES}
RATIO_Z = {name: f"{name}_z" for name in RATIOS}
_PAIR = np.dtype([("median", "float64"), ("scale", "float64")])
_BOTH = np.dtype([("later", "float64"), ("loo", "float64")])
CONTEXT_FEATURES: tuple[str, ...] = (*SURPRISE.values(), *RATIO_Z.values())


@lru_cache(maxsize=1 << 16)
def level_keys(direction: str | None, hs6: str | None) -> tuple[tuple[str, str], ...]:
    """(level, group key) of a line, most specific first, levels the line has a key for (remembered: a
    serving process meets the same few thousand codes again and again)."""
    out = []
    for level in LEVELS:
        key = _LEVEL_KEYS[level](direction, hs6)
        if key is not None:
            out.append((level, key))
    return tuple(out)


def probability(
    tables: dict[str, Any], attribute: str, direction: str | None, hs6: str | None, value: str, loo: bool
) -> float:
    """Witten-Bell back-off probability of `value` for lines like this one (module docstring)."""
    p = 1.0 / (tables["vocabulary"][attribute] + 1.0)
    counts = tables["counts"][attribute]
    for level, key in level_keys(direction, hs6)[::-1]:
        group = counts[level].get(key)
        if group is None:
            continue
        n, distinct, seen = group
        c = seen.get(value, 0)
        if loo and c > 0:  # the line itself is one of the counted training lines
            n, c = n - 1, c - 1
            if c == 0:
                distinct -= 1
        if n <= 0 or distinct <= 0:
            continue
        p = (c + distinct * p) / (n + distinct)
    return p


def _surprise(tables: dict[str, Any], attribute: str, loo: bool):
    def fn(direction: str | None, hs6: str | None, value: str | None) -> float:
        if value is None:
            return np.nan
        return -log(probability(tables, attribute, direction, hs6, value, loo))

    return fn


def _surprises(tables: dict[str, Any], attribute: str):
    """Both surprises of a combination at once: as a later line, and leave-one-out (a training line)."""

    def fn(direction: str | None, hs6: str | None, value: str | None) -> tuple[float, float]:
        if value is None:
            return np.nan, np.nan
        later = probability(tables, attribute, direction, hs6, value, False)
        return -log(later), -log(probability(tables, attribute, direction, hs6, value, True))

    return fn


def ratio_reference(tables: dict[str, Any], ratio: str, direction: str | None, hs6: str | None):
    """(level, key, [median, scale, lines, min, max]) of the most specific group with a reference."""
    refs = tables["ratios"][ratio]
    for level, key in level_keys(direction, hs6):
        row = refs[level].get(key)
        if row is not None:
            return level, key, row
    return None


def _ratio_row(tables: dict[str, Any], ratio: str):
    def fn(direction: str | None, hs6: str | None) -> tuple[float, float]:
        hit = ratio_reference(tables, ratio, direction, hs6)
        return (np.nan, np.nan) if hit is None else (hit[2][0], hit[2][1])

    return fn


def in_fit_period(tables: dict[str, Any], days: np.ndarray) -> np.ndarray:
    """Lines dated within the training period the tables were fitted on (judged leave-one-out)."""
    first, last = tables["fit_days"]
    return (days >= first) & (days <= last)


def context_features(cols: Columns, tables: dict[str, Any] | None) -> dict[str, np.ndarray]:
    """The context family of every line; NaN throughout for artifacts fitted before it existed."""
    n = len(cols["day"])
    if tables is None:
        return {name: np.full(n, np.nan) for name in CONTEXT_FEATURES}
    inside = in_fit_period(tables, cols["day"])
    out: dict[str, np.ndarray] = {}
    for attribute, name in SURPRISE.items():
        row = (cols["direction"], cols["hs6"], attribute_values(cols, attribute))
        if inside.any():
            both = map_rows(_surprises(tables, attribute), row, _BOTH)
            out[name] = np.where(inside, both["loo"], both["later"])
        else:
            out[name] = map_rows(_surprise(tables, attribute, False), row, "float64")
    for ratio, name in RATIO_Z.items():
        ref = map_rows(_ratio_row(tables, ratio), (cols["direction"], cols["hs6"]), _PAIR)
        median, scale = ref["median"], ref["scale"]
        out[name] = (log_ratio(cols, ratio) - median) / scale
    return out
