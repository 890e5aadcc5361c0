"""The synthetic world: a simulator of Kazakhstan's customs trade, 2021-2024, with planted circumvention.

Real declarations are confidential, so the demo, the tests, model training and the benchmarks all run on
this world. `config` holds the typed options (`SimulationConfig`); `goods` the goods catalogue (HS codes,
descriptions, unit values, masses); `population` the traders (with Kazakh BINs), foreign counterparties,
brokers and customs offices; `itineraries` the countries, transport modes and offices of a movement; `trade`
honest flows; `schemes` the planted circumvention schemes with ground truth; `inspections` the legacy
inspection rules, random quota and imperfect detection; `assemble` the canonical frames (ids, strings,
deterministic order); `foreign` (with `own_columns`) reshapes the world's imports as another administration
holds them, `handover` writes them as its CSV with an ingest mapping; `world.simulate` ties them together.
Same config and seed, same bytes.
"""

from roundabout.simulation.config import DEFAULT_LINES, SimulationConfig
from roundabout.simulation.world import STAGES, simulate, stages

__all__ = ["DEFAULT_LINES", "STAGES", "SimulationConfig", "simulate", "stages"]
