"""Which model inputs a history can teach anything, and the families they are kept or dropped by.

An administration's table lacks fields the Kazakh features read (BINs, SNT waybills, transport modes...):
on its data such inputs are missing on every line, or constant, and teach the model nothing but noise and
cost. They are dropped before fitting and reported with why. The rest are grouped in families: the
catalogue's (goods, route, value, trader history, chains, counterparties), the declaration's raw fields
(codes, amounts, and each party id on its own), each declared extra column, and the violation rates of each
id column. A family is what selection keeps or drops as a whole (`selection.py`).
"""

import numpy as np
import pandas as pd

from roundabout.features.catalogue import BY_NAME
from roundabout.models.target_stats import feature_names_for

MISSING, CONSTANT = "missing on every training line", "the same value on every training line"

#: Raw inputs that get a family of their own: each party id may help on one table and only add noise on
#: another (ids carry no signal where brokers or sellers are assigned at random).
_OWN_FAMILY = {
    "raw_trader_id": "raw trader id",
    "raw_declarant_id": "raw declarant id",
    "raw_counterparty": "raw counterparty",
}
_RAW_AMOUNTS = frozenset({"raw_net_mass_kg", "raw_gross_mass_kg", "raw_quantity"})
#: Families a model starts without and takes only where they help: the declaration's raw fields, which the
#: engineered families already read through red flags on data like Kazakhstan's, and the context family,
#: which the oddness detector reads whatever the classifier keeps (given to the classifier from the start
#: it cost 10 points of recall at 5% inspected on the simulated world: docs/models.md).
OPTIONAL = frozenset({"raw codes", "raw amounts", "context", *_OWN_FAMILY.values()})


def usable_inputs(features: pd.DataFrame, rows: np.ndarray) -> tuple[list[str], dict[str, str]]:
    """The feature columns that vary on `rows` (the training lines), in order, and the others with why.

    A column with some values missing and the rest all equal still varies: a tree splits on missing."""
    kept: list[str] = []
    dropped: dict[str, str] = {}
    for name in features.columns:
        values = features[name].to_numpy(dtype="float64", na_value=np.nan)[rows]
        given = ~np.isnan(values)
        if not given.any():
            dropped[name] = MISSING
        elif given.all() and values.min() == values.max():
            dropped[name] = CONSTANT
        else:
            kept.append(name)
    return kept, dropped


def family_of(name: str) -> str:
    """The family a model input is kept or dropped with."""
    if name in _OWN_FAMILY:
        return _OWN_FAMILY[name]
    if name in _RAW_AMOUNTS:
        return "raw amounts"
    if name.startswith("raw_"):
        return "raw codes"
    if name.startswith("extra_"):
        return f"extra {name.removeprefix('extra_')}"
    if name in BY_NAME:
        return BY_NAME[name].family
    raise KeyError(f"no family for input {name!r}")


def families(base: list[str], id_columns: list[str]) -> dict[str, list[str]]:
    """Model inputs by family, in input order: base features, then each id column's violation rates."""
    out: dict[str, list[str]] = {}
    for name in base:
        out.setdefault(family_of(name), []).append(name)
    for column in id_columns:
        out[f"ids {column}"] = feature_names_for([column])
    return out
