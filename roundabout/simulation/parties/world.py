"""The simulated world's parties: its own sanctions list, and the names its lines carry.

After the schemes have run, the world publishes a list of fictional entities and plants, in the names its
declarations carry:

- listed buyers: a share of the schemes' Russian and Belarusian front buyers are listed entities, declared
  under a spelling variant (another romanisation, a changed legal form, word order, a typo);
- listed intermediaries: a share of the schemes' third-country fronts (UAE, Hong Kong, Türkiye, China,
  Central Asia) are listed entities of their country, declared under a variant;
- echoes: another share of the fronts carry names that echo a listed entity without being it;
- listed Kazakh traders: a share of the schemes' shell companies are on the list themselves;
- honest look-alikes: a few honest counterparties whose names share only common words with listed ones,
  or one distinctive word ("near misses").

Ground truth (`listed_party`) marks the lines whose counterparty or trader is a listed entity on or after
the day it was listed. The list is published as OpenSanctions' `targets.simple.csv` (`publish.py`).
"""

from dataclasses import dataclass
from datetime import date, timedelta

import numpy as np

from roundabout.parties.entries import ListEntry
from roundabout.simulation import geo
from roundabout.simulation.parties.names import make_listed_entities
from roundabout.simulation.parties.variants import (
    front_name,
    lookalike_name,
    near_miss_name,
    spelling_variant,
)
from roundabout.simulation.population import Counterparties, Traders

#: Listing waves run from the invasion for this many days (OFAC's and the EU's Russia designations of
#: 2022-2023), so most planted shipments come after their party was listed.
LISTING_SPAN_DAYS = 420
_INVASION = date(2022, 2, 24)
_RUSSIAN_FRONTS = ("RU", "BY")


@dataclass(frozen=True)
class PartyShares:
    """How much of each kind the world plants (shares of the scheme fronts, shells, honest pool)."""

    listed_buyers: float = 0.6
    listed_intermediaries: float = 0.35
    echoes: float = 0.3
    listed_shells: float = 0.15
    honest_lookalikes: float = 0.03
    honest_near_misses: float = 0.01
    #: Listed entities that never trade in the world (the bulk of any real list), per 1,000 traders.
    bystanders_per_1000: int = 60


@dataclass
class PlantedParties:
    """The published list, and the listing day of each declared name that stands for a listed entity."""

    entries: list[ListEntry]
    listed_names: dict[str, date]


def plant_parties(
    rng: np.random.Generator,
    cps: Counterparties,
    fronts: dict[str, np.ndarray],
    traders: Traders,
    n_honest: int,
    n_pool: int,
    shares: PartyShares | None = None,
) -> PlantedParties:
    """Rename fronts, shells and some honest counterparties in place (see the module docstring); the list."""
    sh = shares or PartyShares()
    russian_fronts = np.concatenate([fronts.get(c, np.zeros(0, np.int64)) for c in _RUSSIAN_FRONTS])
    third_fronts = np.concatenate(
        [pool for c, pool in sorted(fronts.items()) if c not in _RUSSIAN_FRONTS] or [np.zeros(0, np.int64)]
    )
    shells = np.arange(n_honest, len(traders))
    n_buyers = round(sh.listed_buyers * len(russian_fronts))
    n_inter = round(sh.listed_intermediaries * len(third_fronts))
    n_shells = round(sh.listed_shells * len(shells))
    bystanders = max(20, sh.bystanders_per_1000 * len(traders) // 1000)
    start, end = _INVASION, _INVASION + timedelta(days=LISTING_SPAN_DAYS)
    russian = make_listed_entities(rng, n_buyers + bystanders, 0, start, end)
    third = make_listed_entities(rng, 0, max(n_inter + n_shells, 1) * 3 + bystanders // 2, start, end)
    entries: list[ListEntry] = []
    listed: dict[str, date] = {}

    def use(entry: ListEntry) -> str:
        declared, _kind = spelling_variant(rng, entry)
        listed[declared] = entry.listed_on or start
        return declared

    for cp, entry in zip(rng.permutation(russian_fronts)[:n_buyers], russian, strict=False):
        cps.name[cp] = use(entry)
    by_country: dict[str, list[ListEntry]] = {}
    for entry in third:
        by_country.setdefault(entry.countries[0], []).append(entry)
    chosen = rng.permutation(third_fronts)
    for cp in chosen[:n_inter]:
        pool = by_country.get(geo.COUNTRIES[int(cps.country[cp])]) or by_country.get("AE") or []
        if pool:
            cps.name[cp] = use(pool.pop())
    echo_sources = russian[:n_buyers] or russian
    for cp in chosen[n_inter : n_inter + round(sh.echoes * len(third_fronts))]:
        cps.name[cp] = front_name(rng, echo_sources[int(rng.integers(len(echo_sources)))], russian)
    kazakh = by_country.get("KZ", [])
    for shell in rng.permutation(shells)[: min(n_shells, len(kazakh))]:
        traders.name[shell] = use(kazakh.pop())
    entries = sorted(russian + third, key=lambda e: (e.listed_on or start, e.name))
    honest = rng.permutation(n_pool)
    n_look, n_near = round(sh.honest_lookalikes * n_pool), round(sh.honest_near_misses * n_pool)
    for cp in honest[:n_look]:
        cps.name[cp] = lookalike_name(rng, entries)
    for cp in honest[n_look : n_look + n_near]:
        cps.name[cp] = near_miss_name(rng, entries)
    numbered = [
        ListEntry(
            f"SIM-{i + 1:06d}", e.name, e.aliases, e.kind, e.programmes, e.countries, e.addresses, e.listed_on
        )
        for i, e in enumerate(entries)
    ]
    return PlantedParties(numbered, listed)
