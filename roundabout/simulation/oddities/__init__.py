"""Odd consignments planted in a held-out world: the suite that measures whether the product finds lines
unlike any it has seen, without labels.

`config` holds the typed options (`OdditiesConfig`: lines per kind, months, seed, kinds); `reference` what
"usual" and "never seen" mean (the training world, and the test world up to the line's date); `kinds` the
single alterations (value per kg far off, quantity per kg far off, gross far above net, an origin,
dispatch country, transport mode, customs office or partner country never seen with the HS6); `alter`
applies them, alone and combined, to honest import lines and writes the manifest (`alter_world`,
`alter_data`). bench/bench_oddness.py measures how well the model ranks them; docs/simulation.md says how.
"""

from roundabout.simulation.oddities.alter import (
    LABEL_COLUMNS,
    MANIFEST_COLUMNS,
    AlteredWorld,
    alter_data,
    alter_world,
)
from roundabout.simulation.oddities.config import COMBO_KINDS, SINGLE_KINDS, OdditiesConfig, parts
from roundabout.simulation.oddities.kinds import ALTERATIONS, fields_of

__all__ = [
    "ALTERATIONS",
    "COMBO_KINDS",
    "LABEL_COLUMNS",
    "MANIFEST_COLUMNS",
    "SINGLE_KINDS",
    "AlteredWorld",
    "OdditiesConfig",
    "alter_data",
    "alter_world",
    "fields_of",
    "parts",
]
