"""From generated batches to the canonical lines table: ids, codes, strings and a deterministic order.

Document ids look like Kazakh ones: DTs are `office/ddmmyy/number` with a running number per office and year
(e.g. `55101/270322/0012345`), SNTs `KZ-SNT-yyyy-number`; a line id is the document id plus a 3-digit item
number. Lines are sorted by (date, document id, line id). Strings are built with Arrow compute kernels, so a
million lines take a second or two.
"""

from dataclasses import dataclass

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc

from roundabout.data.io import read_arrow
from roundabout.data.schema import LINES_SCHEMA
from roundabout.simulation import geo
from roundabout.simulation.goods import GoodsCatalog, brand_table
from roundabout.simulation.population import Counterparties, Traders
from roundabout.simulation.trade_arrays import (
    FLOW_DIRECTION,
    FLOW_KIND,
    FLOW_PROCEDURE,
    IS_SNT,
    MODES,
    TradeArrays,
)


@dataclass
class Assembled:
    """The canonical lines frame, and for each of its rows the batch line it came from."""

    lines: pd.DataFrame
    order: np.ndarray  # batch line index of each row of `lines`
    line_id: pa.Array  # line ids in `lines` order


def _take(values: np.ndarray | list, index: np.ndarray) -> pa.Array:
    """values[index] as an Arrow string array; negative indices become null."""
    mask = index < 0
    idx = pa.array(np.where(mask, 0, index), mask=mask if mask.any() else None)
    return pc.take(pa.array(list(values), type=pa.string()), idx)


def _digits(values: np.ndarray, width: int) -> pa.Array:
    return pc.utf8_lpad(pc.cast(pa.array(values), pa.string()), width=width, padding="0")


def _days(values: np.ndarray) -> pa.Array:
    return pa.array(values.astype(np.int32)).cast(pa.date32())


def document_ids(rng: np.random.Generator, b: TradeArrays) -> pa.Array:
    """Realistic, unique document ids with running numbers in date order."""
    d = b.doc
    n = b.n_docs
    snt = IS_SNT[d["flow"]]
    year = d["day"].astype("datetime64[D]").astype("datetime64[Y]").astype(np.int64) + 1970
    key = np.where(snt, -1, d["office"]) * 10_000 + year
    tiebreak = rng.random(n)
    order = np.lexsort((tiebreak, d["day"], key))
    sorted_key = key[order]
    group_start = np.flatnonzero(np.concatenate([[True], sorted_key[1:] != sorted_key[:-1]]))
    starts = np.repeat(group_start, np.diff(np.append(group_start, n)))
    rank = np.empty(n, dtype=np.int64)
    rank[order] = np.arange(n) - starts
    base = (key * 2654435761 % 2**31) % 4000  # each office-year starts its numbering somewhere
    number = rank + 1 + np.where(snt, 100_000 + base * 50, base)
    dates = _days(d["day"])
    office = _take(geo.OFFICE_CODES, np.where(snt, 0, d["office"]))
    dt_id = pc.binary_join_element_wise(office, pc.strftime(dates, format="%d%m%y"), _digits(number, 7), "/")
    snt_id = pc.binary_join_element_wise(
        pa.array(["KZ-SNT"] * n), pc.cast(pa.array(year), pa.string()), _digits(number, 10), "-"
    )
    return pc.if_else(pa.array(snt), snt_id, dt_id)


def assemble(
    rng: np.random.Generator,
    b: TradeArrays,
    cat: GoodsCatalog,
    traders: Traders,
    bins: np.ndarray,
    broker_bins: np.ndarray,
    cps: Counterparties,
) -> Assembled:
    """The canonical lines frame in (date, document id, line id) order."""
    d, ln = b.doc, b.line
    doc_id = document_ids(rng, b)
    doc_order = (
        pd.DataFrame({"day": d["day"], "id": doc_id.to_numpy(zero_copy_only=False)})
        .sort_values(["day", "id"], kind="stable")
        .index.to_numpy()
    )
    doc_rank = np.empty(b.n_docs, dtype=np.int64)
    doc_rank[doc_order] = np.arange(b.n_docs)
    order = np.lexsort((np.arange(b.n_lines), doc_rank[ln["doc"]]))
    doc = ln["doc"][order]
    new_doc = np.concatenate([[True], doc[1:] != doc[:-1]])
    starts = np.flatnonzero(new_doc)
    item_no = np.arange(len(doc)) - np.repeat(starts, np.diff(np.append(starts, len(doc)))) + 1
    if item_no.max(initial=0) > 999:
        raise ValueError("a document has more than 999 lines")
    docs_of_lines = pc.take(doc_id, pa.array(doc))
    line_id = pc.binary_join_element_wise(docs_of_lines, _digits(item_no, 3), "/")

    def per_doc(values: np.ndarray, index: np.ndarray) -> pa.Array:
        return _take(values, index[doc])

    def per_line(values: np.ndarray, index: np.ndarray) -> pa.Array:
        return _take(values, index[order])

    flow = d["flow"]
    declarant = d["declarant"]
    parties = np.concatenate([bins, broker_bins])
    party = np.where(declarant >= 0, declarant, len(bins) + (-declarant - 1))
    brand_flat, _, _ = brand_table()
    item = ln["item"][order]
    brand = ln["brand"][order]
    description = _take(cat.description, item)
    branded = pc.binary_join_element_wise(description, _take(brand_flat, np.maximum(brand, 0)), ", ")
    description = pc.if_else(pa.array(brand >= 0), branded, description)
    prev = d["prev"]
    prev_id = pc.take(doc_id, pa.array(np.where(prev >= 0, prev, 0), mask=prev < 0))
    columns = {
        "line_id": line_id,
        "document_id": docs_of_lines,
        "document_kind": per_doc(FLOW_KIND, flow),
        "direction": per_doc(FLOW_DIRECTION, flow),
        "procedure": per_doc(FLOW_PROCEDURE, np.where(IS_SNT[flow], -1, flow)),
        "date": _days(d["day"][doc]),
        "trader_id": per_doc(bins, d["trader"]),
        "trader_name": per_doc(traders.name, d["trader"]),
        "counterparty_name": per_doc(cps.name, d["cp"]),
        "counterparty_country": per_doc(geo.COUNTRY_CODES, d["cp_country"]),
        "declarant_id": per_doc(parties, party),
        "hs_code": per_line(cat.hs10, ln["hs10"]),
        "description": description,
        "origin_country": per_line(geo.COUNTRY_CODES, ln["origin"]),
        "dispatch_country": per_doc(geo.COUNTRY_CODES, d["dispatch"]),
        "destination_country": per_doc(geo.COUNTRY_CODES, d["destination"]),
        "trading_country": per_doc(geo.COUNTRY_CODES, d["trading"]),
        "value_usd": pa.array(ln["value"][order]),
        "net_mass_kg": pa.array(ln["net"][order]),
        "gross_mass_kg": pa.array(ln["gross"][order]),
        "quantity": pa.array(ln["quantity"][order], from_pandas=True),
        "transport_mode": per_doc(MODES, d["mode"]),
        "customs_office": per_doc(geo.OFFICE_CODES, d["office"]),
        "previous_document_id": pc.take(prev_id, pa.array(doc)),
    }
    table = pa.Table.from_arrays([columns[f.name] for f in LINES_SCHEMA], schema=LINES_SCHEMA)
    return Assembled(read_arrow(table), order, line_id)
