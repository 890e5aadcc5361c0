"""Goods lines as a dict of numpy arrays ("columns"): the one input every feature definition reads.

Both paths build the same columns: the batch path from a whole DataFrame, the online path from a few
typed records, without pandas per call. Per-value derivations (HS6 of a code, registration date of a BIN,
tier of a code) are plain Python functions applied through `map_values`, which walks the unique values of
a big array and the values themselves of a small one, so both paths run the very same function;
`map_rows` does the same for functions of several columns (distinct combinations of a big array's rows).
Within `shared_factorizations` (the batch build) each big column is factorised once, however many
definitions map it.
"""

from collections.abc import Callable, Iterator, Mapping, Sequence
from contextlib import contextmanager
from contextvars import ContextVar
from datetime import date, datetime
from typing import Any

import numpy as np
import pandas as pd

from roundabout.data.schema import LINE_FIELDS, Kind
from roundabout.reference import INVASION
from roundabout.reference.chpl import chpl_tier_rank

Columns = dict[str, np.ndarray]

TEXT_FIELDS: tuple[str, ...] = tuple(f.name for f in LINE_FIELDS if f.kind is Kind.TEXT)
NUMBER_FIELDS: tuple[str, ...] = tuple(f.name for f in LINE_FIELDS if f.kind is Kind.NUMBER)

_EPOCH = date(1970, 1, 1)
#: Day number (days since 1970-01-01) of the invasion: the sanctions cut-off used by several features.
INVASION_DAY = (INVASION - _EPOCH).days
#: Arrays at most this long are mapped value by value; longer ones through their unique values.
_SMALL = 64
#: Combination codes of `map_rows` stay below this (renumbered first if the next column could pass it).
_KEY_LIMIT = 1 << 62


def day_number(value: date) -> int:
    """Days since 1970-01-01: the integer time axis of every feature (a datetime counts by its date)."""
    if isinstance(value, datetime):
        value = value.date()
    return (value - _EPOCH).days


def map_values(values: np.ndarray, fn: Callable[[Any], Any], dtype: Any) -> np.ndarray:
    """Apply `fn` to each value; `None` stands for a missing value."""
    if len(values) <= _SMALL:
        return np.array([fn(v) for v in values], dtype=dtype)
    codes, uniques = factorize(values)
    mapped = np.array([fn(v) for v in uniques] + [fn(None)], dtype=dtype)
    return mapped[codes]


def map_rows(fn: Callable[..., Any], columns: Sequence[np.ndarray], dtype: Any) -> np.ndarray:
    """Apply `fn(a, b, ...)` to each row of equally long columns (values as stored, `None` missing).

    Small arrays row by row; big ones through their distinct combinations of values: `fn` is called once
    on the first row of each combination (rows with equal values in every column get equal results).
    """
    if len(columns[0]) <= _SMALL:
        return np.array([fn(*row) for row in zip(*columns, strict=True)], dtype=dtype)
    codes, first = _combinations(columns)
    mapped = np.array([fn(*row) for row in zip(*(c[first] for c in columns), strict=True)], dtype=dtype)
    return mapped[codes]


#: Per-batch memo of factorisations, by array identity (see `shared_factorizations`).
_MEMO: ContextVar[dict[Any, tuple[Any, ...]] | None] = ContextVar("roundabout_factorizations", default=None)


@contextmanager
def shared_factorizations() -> Iterator[None]:
    """Within this block (one thread), `factorize` and `map_rows` remember what they computed per array
    (kept alive, by identity), so a column that several features map is hashed once. The arrays must not
    be modified in place meanwhile; the batch feature build holds it over its read-only columns."""
    token = _MEMO.set({})
    try:
        yield
    finally:
        _MEMO.reset(token)


def factorize(values: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """`pd.factorize(values, use_na_sentinel=True)`; once per array inside `shared_factorizations`."""
    memo = _MEMO.get()
    if memo is None:
        return pd.factorize(values, use_na_sentinel=True)
    hit = memo.get(id(values))
    if hit is not None and hit[0] is values:
        return hit[1], hit[2]
    codes, uniques = pd.factorize(values, use_na_sentinel=True)
    memo[id(values)] = (values, codes, uniques)
    return codes, uniques


def _combinations(columns: Sequence[np.ndarray]) -> tuple[np.ndarray, np.ndarray]:
    """Code of each row's combination of values (0.. in order of first appearance; a missing value is a
    value of its own) and the first row of each combination."""
    memo = _MEMO.get()
    key = tuple(id(c) for c in columns)
    hit = memo.get(key) if memo is not None else None
    if hit is not None and all(a is b for a, b in zip(hit[0], columns, strict=True)):
        return hit[1], hit[2]
    combined, size = np.zeros(len(columns[0]), dtype=np.int64), 1
    for values in columns:
        codes, uniques = factorize(values)
        width = len(uniques) + 1
        if size * width >= _KEY_LIMIT:  # renumber the combinations so far before the key could overflow
            combined, seen = pd.factorize(combined)
            size = len(seen)
        combined = combined * width + (codes.astype(np.int64) + 1)
        size *= width
    codes, _ = pd.factorize(combined)  # numbered in order of first appearance
    running = np.maximum.accumulate(codes)
    first = np.flatnonzero(np.diff(running, prepend=-1) > 0)
    if memo is not None:
        memo[key] = (tuple(columns), codes, first)
    return codes, first


def bin_registration_day(trader_id: str | None) -> float:
    """Registration day encoded in a Kazakh BIN (first 4 digits = YYMM), NaN when the id is not a BIN."""
    if trader_id is None or len(trader_id) != 12 or not trader_id.isdigit():
        return np.nan
    yy, mm = int(trader_id[:2]), int(trader_id[2:4])
    if not 1 <= mm <= 12:
        return np.nan
    year = 1900 + yy if yy >= 90 else 2000 + yy
    return float(day_number(date(year, mm, 1)))


def _hs6(code: str | None) -> str | None:
    return code[:6] if code is not None and len(code) >= 6 else None


def _digits_prefix(n: int) -> Callable[[str | None], float]:
    def fn(code: str | None) -> float:
        if code is None or len(code) < n or not code[:n].isdigit():
            return np.nan
        return float(code[:n])

    return fn


def _tier(code: str | None) -> float:
    return float(chpl_tier_rank(code)) if code is not None and len(code) >= 6 else np.nan


def normalise_name(name: str | None) -> str | None:
    """Counterparty names compared case- and spacing-blind ("ООО  Альфа" == "ооо альфа")."""
    if name is None:
        return None
    out = " ".join(name.casefold().split())
    return out or None


#: Derived key columns and the stored field and function they come from (to key rows read back from the
#: store's lines, such as the line of an inspection outcome).
DERIVED_KEYS: dict[str, tuple[str, Callable[[str | None], str | None]]] = {
    "counterparty_key": ("counterparty_name", normalise_name)
}


def _text_array(values: Sequence[Any]) -> np.ndarray:
    out = np.empty(len(values), dtype=object)
    for i, v in enumerate(values):
        out[i] = None if v is None or (isinstance(v, float) and np.isnan(v)) or v == "" else str(v)
    return out


#: Text fields no feature reads: the batch path leaves them out (the store keeps them, to re-read history).
BOOKKEEPING_FIELDS = frozenset({"line_id", "document_id", "previous_document_id"})


def raw_from_frame(
    frame: pd.DataFrame, extra: Mapping[str, str] | None = None, all_fields: bool = False
) -> Columns:
    """Canonical columns of a typed frame (as `read_folder` or `validate_lines` give); absent ones null.
    Bookkeeping text fields are included only with `all_fields`."""
    n = len(frame)
    raw: Columns = {}
    for name in TEXT_FIELDS:
        if name in BOOKKEEPING_FIELDS and not all_fields:
            continue
        if name in frame.columns:
            raw[name] = _shared_strings(frame[name])
        else:
            raw[name] = np.full(n, None, dtype=object)
    for name in NUMBER_FIELDS:
        raw[name] = (
            frame[name].to_numpy(dtype="float64", na_value=np.nan)
            if name in frame.columns
            else np.full(n, np.nan)
        )
    raw["day"] = frame["date"].to_numpy(dtype="datetime64[D]").astype("int64")
    for name, kind in (extra or {}).items():
        raw[f"extra:{name}"] = _extra_array(frame[name] if name in frame.columns else None, kind, n)
    return raw


def _shared_strings(series: pd.Series) -> np.ndarray:
    """Text column as an object array whose equal values share one str object (8 bytes a row, not a
    new string per row); missing and empty values are None."""
    codes, uniques = pd.factorize(series, use_na_sentinel=True)
    values = np.asarray(uniques, dtype=object)
    empty = values == ""
    lookup = np.empty(len(values) + 1, dtype=object)
    lookup[:-1] = values
    lookup[:-1][empty] = None
    lookup[-1] = None
    out = lookup[codes]
    memo = _MEMO.get()
    if memo is not None:
        # The factorisation of `out` follows from this one (empty strings become missing): remembered, so
        # mapping the column later hashes no Python strings. Same codes and uniques as pd.factorize(out).
        keep = ~empty
        renumber = np.full(len(values) + 1, -1, dtype=np.intp)
        renumber[:-1][keep] = np.arange(int(keep.sum()))
        memo[id(out)] = (out, renumber[codes], values[keep])
    return out


def _extra_array(series: pd.Series | None, kind: str, n: int) -> np.ndarray:
    if series is None:
        return np.full(n, np.nan) if kind == "numeric" else np.full(n, None, dtype=object)
    if kind == "numeric":
        return pd.to_numeric(series, errors="coerce").to_numpy(dtype="float64", na_value=np.nan)
    return _shared_strings(series)


def raw_from_records(records: Sequence[Mapping[str, Any]], extra: Mapping[str, str] | None = None) -> Columns:
    """Canonical columns of typed records (dates as `date`, numbers as float, missing as None)."""
    raw: Columns = {name: _text_array([r.get(name) for r in records]) for name in TEXT_FIELDS}
    for name in NUMBER_FIELDS:
        raw[name] = np.array([_float(r.get(name)) for r in records], dtype="float64")
    raw["day"] = np.array([day_number(r["date"]) for r in records], dtype="int64")
    for name, kind in (extra or {}).items():
        values = [r.get(name) for r in records]
        raw[f"extra:{name}"] = (
            np.array([_float(v) for v in values], dtype="float64")
            if kind == "numeric"
            else _text_array(values)
        )
    return raw


def _float(value: Any) -> float:
    return np.nan if value is None else float(value)


def derive(raw: Columns) -> Columns:
    """Add the derived columns every family reads (HS prefixes, tier, BIN registration day, flags)."""
    cols = dict(raw)
    hs = raw["hs_code"]
    cols["hs6"] = map_values(hs, _hs6, object)
    cols["hs_heading"] = map_values(hs, _digits_prefix(4), "float64")
    cols["hs_chapter"] = map_values(hs, _digits_prefix(2), "float64")
    cols["tier_rank"] = map_values(hs, _tier, "float64")
    cols["tier12"] = ((cols["tier_rank"] == 1) | (cols["tier_rank"] == 2)).astype("float64")
    cols["chpl"] = (cols["tier_rank"] > 0).astype("float64")
    cols["bin_reg_day"] = map_values(raw["trader_id"], bin_registration_day, "float64")
    cols["counterparty_key"] = map_values(raw["counterparty_name"], normalise_name, object)
    direction = raw["direction"]
    cols["is_import"] = (direction == "import").astype("float64")
    cols["is_export"] = (direction == "export").astype("float64")
    cols["is_transit"] = (direction == "transit").astype("float64")
    dest_ru_by = map_values(raw["destination_country"], lambda c: c in ("RU", "BY"), bool)
    cols["dest_ru_by"] = dest_ru_by.astype("float64")
    cols["ru_by_export"] = (dest_ru_by & (direction == "export")).astype("float64")
    return cols


def columns_from_frame(
    frame: pd.DataFrame, extra: Mapping[str, str] | None = None, all_fields: bool = False
) -> Columns:
    """All columns of a whole frame (batch path)."""
    return derive(raw_from_frame(frame, extra, all_fields))


def columns_from_records(
    records: Sequence[Mapping[str, Any]], extra: Mapping[str, str] | None = None
) -> Columns:
    """All columns of a few typed records (online path)."""
    return derive(raw_from_records(records, extra))


__all__ = [
    "DERIVED_KEYS",
    "INVASION_DAY",
    "Columns",
    "bin_registration_day",
    "columns_from_frame",
    "columns_from_records",
    "day_number",
    "factorize",
    "map_rows",
    "map_values",
    "normalise_name",
    "shared_factorizations",
]
