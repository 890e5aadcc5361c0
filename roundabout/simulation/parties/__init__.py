"""The simulated world's sanctions list and how its names reach customs declarations.

`names` draws the listed parties (Russian end users, third-country intermediaries); `variants` turns a
listed name into what a declarant types, names fronts that echo it, and draws the honest look-alikes and
near misses that a name matcher must tell apart; `lexicon` holds the romanisations, legal forms and
common words both use.
"""

from roundabout.simulation.parties.names import PROGRAMMES, make_listed_entities
from roundabout.simulation.parties.variants import (
    NEGATIVE_KINDS,
    VARIANT_KINDS,
    front_name,
    lookalike_name,
    near_miss_name,
    pair_set,
    spelling_variant,
)

__all__ = [
    "NEGATIVE_KINDS",
    "PROGRAMMES",
    "VARIANT_KINDS",
    "front_name",
    "lookalike_name",
    "make_listed_entities",
    "near_miss_name",
    "pair_set",
    "spelling_variant",
]
