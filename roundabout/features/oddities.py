"""Reasons for oddness in words an officer can check: what is odd about a line, against what is usual.

The oddness detector (`models/oddness.py`) names the input on which a line is most unusual; this module
turns that input back into the line's own values and the training statistics behind the feature: the
counts of the context tables for a rare origin, mode or office, the reference range for a ratio or a unit
value. The texts read the same tables the features read, so a reason never states a figure the model did
not use.
"""

from collections.abc import Mapping
from math import exp
from typing import Any

from roundabout.features.artifacts import FeatureArtifacts
from roundabout.features.columns import day_number
from roundabout.features.context import level_keys
from roundabout.features.context_tables import ATTRIBUTES
from roundabout.features.value import reference_of

_LABELS = {
    "origin": "Origin",
    "dispatch": "Dispatch country",
    "mode": "Transport mode",
    "office": "Customs office",
    "counterparty_country": "Counterparty country",
    "route": "Route (origin > dispatch > mode)",
}
_RATIO_LABELS = {
    "qty_per_kg": ("Quantity per kg", ("quantity", "net_mass_kg")),
    "gross_net": ("Gross-to-net mass ratio", ("gross_mass_kg", "net_mass_kg")),
}


def amount(value: float) -> str:
    """A figure with the digits an officer needs: 415,000 / 2.40 / 0.0123."""
    size = abs(value)
    if size >= 100:
        return f"{value:,.0f}"
    if size >= 1:
        return f"{value:,.2f}"
    return f"{value:.3g}"


def _times(ratio: float) -> str:
    """How a figure compares with the median: "36 times the median", "1/120 of the median"."""
    if ratio >= 1:
        return f"{amount(ratio)} times the median"
    return f"1/{amount(1 / ratio)} of the median"


def _scope(level: str, key: str) -> str:
    direction, _, code = key.partition("|")
    what = {"hs6": f"HS {code}", "hs4": f"HS {code}", "chapter": f"HS chapter {code}"}.get(level, "any goods")
    return f"{direction} lines of {what}"


def _text(line: Mapping[str, Any], field: str) -> str | None:
    value = line.get(field)
    if value is None or value == "" or (isinstance(value, float) and value != value):  # NaN: missing
        return None
    return str(value)


def _hs6(line: Mapping[str, Any]) -> str | None:
    code = _text(line, "hs_code")
    return code[:6] if code is not None and len(code) >= 6 else None


def _attribute_value(line: Mapping[str, Any], attribute: str) -> str | None:
    columns = ATTRIBUTES[attribute]
    values = [_text(line, c) for c in columns]
    if len(values) == 1:
        return values[0]
    return None if all(v is None for v in values) else ">".join(v or "-" for v in values)


def _rare(tables: dict[str, Any], line: Mapping[str, Any], attribute: str) -> str | None:
    value = _attribute_value(line, attribute)
    if value is None:
        return None
    day = line.get("date")
    first, last = tables["fit_days"]
    own = day is not None and first <= day_number(day) <= last
    for level, key in level_keys(_text(line, "direction"), _hs6(line)):
        group = tables["counts"][attribute][level].get(key)
        if group is None:
            continue
        n, _, seen = group
        c = seen.get(value, 0)
        if own and c > 0:  # the line itself was counted in training
            n, c = n - 1, c - 1
        label = f"{_LABELS[attribute]} {value}"
        if c == 0:
            return f"{label} was never seen on {_scope(level, key)} ({n:,} seen in training)"
        return f"{label} is rare on {_scope(level, key)}: {c:,} of {n:,} seen in training"
    return None


def _ratio(tables: dict[str, Any], line: Mapping[str, Any], ratio: str) -> str | None:
    label, (top, bottom) = _RATIO_LABELS[ratio]
    a, b = line.get(top), line.get(bottom)
    if a is None or b is None or not a > 0 or not b > 0:
        return None
    refs = tables["ratios"][ratio]
    for level, key in level_keys(_text(line, "direction"), _hs6(line)):
        row = refs[level].get(key)
        if row is None:
            continue
        median, scale, n, low, high = row
        value = float(a) / float(b)
        usual = f"{amount(exp(median - scale))}-{amount(exp(median + scale))}"
        if value > exp(high):
            where = f"above all {n:,.0f} seen"
        elif value < exp(low):
            where = f"below all {n:,.0f} seen"
        else:
            where = _times(value / exp(median))
        return f"{label} {amount(value)} against a usual {usual} for {_scope(level, key)} ({where})"
    return None


def _unit_value(artifacts: FeatureArtifacts, line: Mapping[str, Any], per: str) -> str | None:
    value, base = line.get("value_usd"), line.get("net_mass_kg" if per == "kg" else "quantity")
    if value is None or base is None or not value > 0 or not base > 0:
        return None
    hs6, origin = _hs6(line), _text(line, "origin_country")
    median, scale, level = reference_of(artifacts, per, hs6, origin)
    if level == 0 or hs6 is None:
        return None
    uv = float(value) / float(base)
    scope = {3: f"HS {hs6} from {origin}", 2: f"HS {hs6}", 1: f"HS chapter {hs6[:2]}"}[level]
    usual = f"USD {amount(exp(median - scale))}-{amount(exp(median + scale))}"
    times = _times(uv / exp(median))
    return f"Value per {per} USD {amount(uv)} against a usual {usual} for lines of {scope} ({times})"


def describe_oddity(artifacts: FeatureArtifacts, line: Mapping[str, Any] | None, feature: str) -> str | None:
    """What is odd about `line` on input `feature` (a context surprise, ratio z or unit-value z), in
    words and figures; None when the line lacks what the text needs."""
    if line is None:
        return None
    tables = artifacts.lookup()["context"]
    if feature.endswith("_surprise") and tables is not None:
        return _rare(tables, line, feature.removesuffix("_surprise"))
    if feature in ("qty_per_kg_z", "gross_net_z") and tables is not None:
        return _ratio(tables, line, feature.removesuffix("_z"))
    if feature in ("uv_kg_z", "uv_unit_z"):
        return _unit_value(artifacts, line, feature.removeprefix("uv_").removesuffix("_z"))
    return None
