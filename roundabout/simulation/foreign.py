"""The foreign shape: the simulated world's DT imports as another administration would hold them.

A declaration table of another administration holds import declarations only, with ids in its own formats,
6-digit codes, fewer fields than Kazakh declarations, and columns of its own (tax rate and type, process and
payment types: `own_columns.py`). `foreign_shape` derives such a table from the Kazakh world of the same
seed, so truth and inspection labels come from the existing machinery: the schemes' import legs are
circumvention lines, honest imports are not. Importer ids are one per Kazakh trader and seller ids one per
counterparty name, each numbered in a random order, so no registration date or sequence can be read from
them; declarant ids are drawn at random for every declaration, so they carry no signal at all. Inspections
keep the outcome only: the administration's label says fraud or not, not which kind.
"""

import numpy as np
import pandas as pd

from roundabout.data.io import CanonicalData
from roundabout.data.schema import LINE_COLUMNS, LINE_FIELDS, Kind
from roundabout.simulation.config import ForeignConfig
from roundabout.simulation.own_columns import EXTRA_COLUMNS, own_columns

#: Canonical fields a foreign declaration table does not have (stored empty).
MISSING: tuple[str, ...] = (
    "procedure", "trader_name", "counterparty_country", "description", "destination_country",
    "trading_country", "gross_mass_kg", "quantity", "transport_mode", "previous_document_id",
)  # fmt: skip
_NUMBERS = {f.name for f in LINE_FIELDS if f.kind is Kind.NUMBER}
IMPORTER_DIGITS, SELLER_DIGITS, DECLARANT_DIGITS, DECLARATION_DIGITS, ITEM_DIGITS = 6, 5, 4, 8, 3


def _ids(prefix: str, numbers: np.ndarray, digits: int) -> pd.Series:
    """`prefix` and each number zero-padded to `digits`; negative numbers give null."""
    text = pd.Series(numbers, dtype="int64").astype("str").str.zfill(digits)
    return (prefix + text).where(numbers >= 0).astype("str")


def renumber(rng: np.random.Generator, values: pd.Series, min_digits: int) -> tuple[np.ndarray, int]:
    """One number per distinct value, in a random order (numbers 1..k; nulls get -1), and the digits
    needed to write the largest: a number says nothing about the value it replaces."""
    codes, uniques = pd.factorize(values, sort=True)
    numbers = rng.permutation(len(uniques)) + 1
    return np.where(codes >= 0, numbers[codes], -1), max(min_digits, len(str(len(uniques))))


def foreign_shape(rng: np.random.Generator, world: CanonicalData, cfg: ForeignConfig) -> CanonicalData:
    """The DT import lines of a Kazakh-shaped `world` in the foreign shape, with their inspections (outcome
    only) and truth; lines keep the world's (date, declaration, item) order."""
    lines = world.lines
    if world.truth is None:
        raise ValueError("the foreign shape is derived from a simulated world with its truth")
    keep = lines["procedure"].eq("40").fillna(False).to_numpy(dtype=bool)
    imports = lines.loc[keep].reset_index(drop=True)
    circ = world.truth["is_circumvention"].to_numpy(dtype=bool)[keep]
    doc = pd.factorize(imports["document_id"])[0]  # declarations numbered in the world's order
    item = imports.groupby(doc).cumcount().to_numpy() + 1
    declaration = _ids("DEC", doc + 1, DECLARATION_DIGITS)
    line_id = declaration + "/" + _ids("", item, ITEM_DIGITS)

    importer, importer_digits = renumber(rng, imports["trader_id"], IMPORTER_DIGITS)
    seller, seller_digits = renumber(rng, imports["counterparty_name"], SELLER_DIGITS)
    n_docs = int(doc.max()) + 1 if len(doc) else 0
    declarant = rng.integers(1, cfg.declarants + 1, n_docs)  # independent of everything, by design
    own = own_columns(rng, imports, doc, np.maximum(importer - 1, 0), circ, cfg)

    out = imports.copy()
    out["line_id"] = line_id
    out["document_id"] = declaration
    out["trader_id"] = _ids("IMP", importer, importer_digits)
    out["counterparty_name"] = _ids("SEL", seller, seller_digits)
    out["declarant_id"] = _ids("DCL", declarant[doc], DECLARANT_DIGITS)
    out["hs_code"] = imports["hs_code"].str.slice(0, 6)
    for name in MISSING:
        out[name] = pd.Series(None, index=out.index, dtype="float64" if name in _NUMBERS else "str")
    for name in EXTRA_COLUMNS:
        out[name] = own[name]
    out = out[[*LINE_COLUMNS, *EXTRA_COLUMNS]]

    new_id = pd.Series(line_id.to_numpy(), index=imports["line_id"].to_numpy())
    inspections = world.inspections.loc[world.inspections["line_id"].isin(new_id.index)].reset_index(
        drop=True
    )
    inspections["line_id"] = inspections["line_id"].map(new_id).astype("str")
    inspections["violation_type"] = pd.Series(None, index=inspections.index, dtype="str")
    truth = world.truth.loc[keep].reset_index(drop=True)
    truth["line_id"] = line_id.to_numpy()
    return CanonicalData(out, inspections, truth, dict(EXTRA_COLUMNS))
