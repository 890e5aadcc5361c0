"""Options of the oddness suite: how many lines of which kinds, from which months, with which seed.

Kept apart from the alterations so a benchmark or a test can say what it asks for in one typed object,
and a misspelt kind fails when the config is made, not after a world has been simulated and a model fitted.
"""

from typing import Self

from pydantic import BaseModel, ConfigDict, Field, model_validator

#: The single kinds, in the order they are applied and reported.
SINGLE_KINDS: tuple[str, ...] = (
    "value_per_kg_high",
    "value_per_kg_low",
    "quantity_per_kg",
    "gross_net",
    "origin_unseen",
    "dispatch_unseen",
    "mode_unseen",
    "office_unseen",
    "partner_unseen",
)
#: Combinations: several kinds on the same line, joined by "+" (their fields must not overlap).
COMBO_KINDS: tuple[str, ...] = (
    "value_per_kg_high+mode_unseen",
    "origin_unseen+gross_net",
    "value_per_kg_low+office_unseen",
    "dispatch_unseen+partner_unseen",
    "quantity_per_kg+origin_unseen",
    "value_per_kg_high+origin_unseen+dispatch_unseen",
)
COMBO_SEP = "+"


def parts(kind: str) -> tuple[str, ...]:
    """The single kinds a kind is made of (one for a single kind)."""
    return tuple(kind.split(COMBO_SEP))


class OdditiesConfig(BaseModel):
    """What `alter_world` plants. Same config and data, same altered lines."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    per_kind: int = Field(40, gt=0, description="Lines altered per kind (fewer if too few lines qualify)")
    months: int = Field(3, gt=0, description="Lines are drawn from this many last months of the test world")
    seed: int = Field(0, ge=0, description="Seed of the line choice and of every drawn value")
    kinds: tuple[str, ...] = Field(
        SINGLE_KINDS + COMBO_KINDS, description="Kinds to apply: single kinds, or combinations 'a+b[+c]'"
    )
    value_factor: tuple[float, float] = Field(
        (30.0, 300.0), description="Range (log-uniform) of the factor off the HS6's usual value per kg"
    )
    quantity_factor: float = Field(
        50.0, gt=1, description="Factor (times or divided, at random) off the HS6's usual units per kg"
    )
    gross_factor: tuple[float, float] = Field(
        (3.0, 10.0), description="Range of gross mass over net mass for gross_net"
    )

    @model_validator(mode="after")
    def _check(self) -> Self:
        for kind in self.kinds:
            names = parts(kind)
            unknown = [n for n in names if n not in SINGLE_KINDS]
            if unknown:
                raise ValueError(f"unknown kind {unknown[0]!r} in {kind!r}; known: {', '.join(SINGLE_KINDS)}")
            if len(set(names)) != len(names):
                raise ValueError(f"{kind!r} repeats a kind")
        if len(set(self.kinds)) != len(self.kinds):
            raise ValueError("a kind is listed twice")
        for name, (low, high) in (("value_factor", self.value_factor), ("gross_factor", self.gross_factor)):
            if not 1 < low <= high:
                raise ValueError(f"{name} must be a range (low, high) with 1 < low <= high")
        return self

    def is_combo(self, kind: str) -> bool:
        return len(parts(kind)) > 1
