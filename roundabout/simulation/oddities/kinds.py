"""The single kinds of oddity: each changes one field of an import line, and only that field.

An alteration reads the line (a mapping of canonical fields) and returns the changes it would make, or None
when the line cannot carry it (a field it replaces is empty, the commodity has no usual ratio, no value is
left unseen): it replaces a value, never fills a field the data contract leaves empty, so the altered line
is as valid as the original. Numbers keep the data's precision (cents, grams, whole pieces).
"""

from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any

import numpy as np

from roundabout.simulation.oddities.config import OdditiesConfig
from roundabout.simulation.oddities.reference import Seen, Usual, day_of


@dataclass(frozen=True)
class Change:
    """One field's new value, with a note saying why it is odd."""

    field: str
    before: Any
    after: Any
    note: str

    def describe(self) -> str:
        return f"{self.field} {_fmt(self.before)} -> {_fmt(self.after)} ({self.note})"


@dataclass
class Context:
    """What alterations measure against (usual ratios, seen values) and how far they go (the config)."""

    usual: Usual
    seen: Seen
    config: OdditiesConfig


Line = Mapping[str, Any]
Alteration = Callable[[Line, Context, np.random.Generator], list[Change] | None]


def _fmt(value: Any) -> str:
    if isinstance(value, float | np.floating):
        return f"{float(value):,.10g}"
    return "empty" if value is None else str(value)


def _number(value: Any) -> float | None:
    """A positive finite number, or None."""
    if value is None:
        return None
    x = float(value)
    return x if np.isfinite(x) and x > 0 else None


def _log_uniform(rng: np.random.Generator, low: float, high: float) -> float:
    return float(np.exp(rng.uniform(np.log(low), np.log(high))))


def _value_per_kg(line: Line, ctx: Context, rng: np.random.Generator, up: bool) -> list[Change] | None:
    net, usual = _number(line["net_mass_kg"]), ctx.usual.value(str(line["hs_code"]))
    factor = _log_uniform(rng, *ctx.config.value_factor)
    if net is None or usual is None:
        return None
    after = round(net * usual * factor, 2) if up else max(round(net * usual / factor, 2), 0.01)
    side = f"x{factor:.0f}" if up else f"/{factor:.0f}"
    note = f"{after / net:,.4g} USD/kg, {side} HS6 {str(line['hs_code'])[:6]}'s usual {usual:,.4g} USD/kg"
    return [Change("value_usd", line["value_usd"], after, note)]


def value_per_kg_high(line: Line, ctx: Context, rng: np.random.Generator) -> list[Change] | None:
    """Customs value 30-300x the commodity's usual value per kg (mass unchanged)."""
    return _value_per_kg(line, ctx, rng, up=True)


def value_per_kg_low(line: Line, ctx: Context, rng: np.random.Generator) -> list[Change] | None:
    """Customs value 30-300x below the commodity's usual value per kg (mass unchanged)."""
    return _value_per_kg(line, ctx, rng, up=False)


def quantity_per_kg(line: Line, ctx: Context, rng: np.random.Generator) -> list[Change] | None:
    """Supplementary quantity far off the commodity's usual units per kg (x or / quantity_factor)."""
    up = bool(rng.random() < 0.5)
    net, quantity = _number(line["net_mass_kg"]), _number(line["quantity"])
    if net is None or quantity is None:
        return None
    usual = ctx.usual.units(str(line["hs_code"])) or quantity / net
    factor = ctx.config.quantity_factor if up else 1 / ctx.config.quantity_factor
    raw = net * usual * factor
    after = float(round(raw)) if raw >= 1 else max(round(raw, 3), 0.001)
    if after == quantity:
        return None
    side = f"x{ctx.config.quantity_factor:g}" if up else f"/{ctx.config.quantity_factor:g}"
    note = f"{after / net:,.4g} units/kg, {side} HS6 {str(line['hs_code'])[:6]}'s usual {usual:,.4g}"
    return [Change("quantity", line["quantity"], after, note)]


def gross_net(line: Line, ctx: Context, rng: np.random.Generator) -> list[Change] | None:
    """Gross mass 3-10x the net mass (net unchanged)."""
    factor = float(rng.uniform(*ctx.config.gross_factor))
    net = _number(line["net_mass_kg"])
    if net is None or _number(line["gross_mass_kg"]) is None:
        return None
    after = round(net * factor, 3)
    return [Change("gross_mass_kg", line["gross_mass_kg"], after, f"{after / net:.2f}x the net mass")]


def _unseen(name: str) -> Alteration:
    def alter(line: Line, ctx: Context, rng: np.random.Generator) -> list[Change] | None:
        before = line[name]
        choices = ctx.seen.unseen(name, str(line["hs_code"]), day_of(line["date"]))
        pick = int(rng.integers(0, 1 << 30))
        if before is None or not choices:
            return None
        after = choices[pick % len(choices)]
        return [Change(name, before, after, f"never seen with HS6 {str(line['hs_code'])[:6]}")]

    alter.__doc__ = f"A {name} never declared with the line's HS6 in the reference nor earlier."
    return alter


#: Every single kind: the fields it changes and the alteration.
ALTERATIONS: dict[str, tuple[tuple[str, ...], Alteration]] = {
    "value_per_kg_high": (("value_usd",), value_per_kg_high),
    "value_per_kg_low": (("value_usd",), value_per_kg_low),
    "quantity_per_kg": (("quantity",), quantity_per_kg),
    "gross_net": (("gross_mass_kg",), gross_net),
    "origin_unseen": (("origin_country",), _unseen("origin_country")),
    "dispatch_unseen": (("dispatch_country",), _unseen("dispatch_country")),
    "mode_unseen": (("transport_mode",), _unseen("transport_mode")),
    "office_unseen": (("customs_office",), _unseen("customs_office")),
    "partner_unseen": (("counterparty_country",), _unseen("counterparty_country")),
}


def fields_of(kind: str) -> tuple[str, ...]:
    """The fields a kind (single or combination) changes."""
    return tuple(f for part in kind.split("+") for f in ALTERATIONS[part][0])
