"""The in-process executor of the history specs: every query of `history.QUERIES` over a whole history at
once, vectorised with pandas and numpy.

Aggregates become tables of per-(key, day) sums sorted by key then day; a line on day D with key k reads
rows (k, d) with d < D through binary search on a packed (key, day) integer, and sums a window of rows in
order (numpy `add.reduceat`, or a per-key running sum for all-history), the same rows the online store
sums with SQL (`roundabout.store`), so both executors agree to float rounding.
"""

import numpy as np
import pandas as pd

from roundabout.features.columns import Columns, factorize
from roundabout.features.history import AGGREGATES_BY_NAME, QUERIES, QUERIES_BY_NAME, query_stage
from roundabout.features.specs import Aggregate, Distinct, FirstDay, LastDay, Linked, Query, WindowSum

_SHIFT = 20
_OFFSET = 1 << 19  # day numbers of any plausible date fit in 20 bits after this offset


def _pack(code: np.ndarray, day: np.ndarray) -> np.ndarray:
    return (code.astype("int64") << _SHIFT) | (day.astype("int64") + _OFFSET)


def range_sums(values: np.ndarray, start: np.ndarray, end: np.ndarray) -> np.ndarray:
    """sum(values[start[i]:end[i]]) for every i, adding in row order; 0 for empty ranges."""
    out = np.zeros(len(start))
    nonempty = end > start
    if not nonempty.any():
        return out
    idx = np.empty(2 * int(nonempty.sum()), dtype="int64")
    idx[0::2], idx[1::2] = start[nonempty], end[nonempty]
    padded = np.append(values, 0.0)
    out[nonempty] = np.add.reduceat(padded, idx)[0::2]
    return out


class DayTable:
    """Per-(key code, day) sums of measures, sorted by key then day."""

    def __init__(self, codes: np.ndarray, days: np.ndarray, measures: dict[str, np.ndarray]) -> None:
        ok = codes >= 0
        frame = pd.DataFrame({"c": codes[ok], "d": days[ok], **{m: v[ok] for m, v in measures.items()}})
        grouped = frame.groupby(["c", "d"], sort=True).sum()
        self.code = grouped.index.get_level_values("c").to_numpy(dtype="int64")
        self.day = grouped.index.get_level_values("d").to_numpy(dtype="int64")
        self.packed = _pack(self.code, self.day)
        self.values = {m: grouped[m].to_numpy(dtype="float64") for m in measures}
        self.running = {m: grouped[m].groupby(level="c").cumsum().to_numpy(dtype="float64") for m in measures}
        self._found: dict[tuple[int, int, int], tuple[np.ndarray, np.ndarray, np.ndarray]] = {}

    def _find(self, code: np.ndarray, day: np.ndarray, offset: int = 0) -> np.ndarray:
        """Index of the first row at or after (code, day - offset); remembered per query-point arrays."""
        key = (id(code), id(day), offset)
        hit = self._found.get(key)
        if hit is not None and hit[0] is code and hit[1] is day:
            return hit[2]
        found = np.searchsorted(self.packed, _pack(code, day - offset if offset else day), side="left")
        self._found[key] = (code, day, found)
        return found

    def window_sum(self, measure: str, code: np.ndarray, day: np.ndarray, window: int | None) -> np.ndarray:
        end = self._find(code, day)
        if window is None:
            last = end - 1
            hit = (last >= 0) & (self.code[np.maximum(last, 0)] == code) if len(self.code) else last < -1
            total = np.where(hit, self.running[measure][np.maximum(last, 0)] if len(self.code) else 0.0, 0.0)
        else:
            start = self._find(code, day, window)
            total = range_sums(self.values[measure], start, end)
        return np.where(code >= 0, total, np.nan)

    def last_day(self, measure: str, code: np.ndarray, day: np.ndarray, lookback: int) -> np.ndarray:
        positive = self.values[measure] > 0
        packed, codes, days = self.packed[positive], self.code[positive], self.day[positive]
        idx = np.searchsorted(packed, _pack(code, day), side="left") - 1
        safe = np.maximum(idx, 0)
        hit = (idx >= 0) & (codes[safe] == code) & (days[safe] >= day - lookback) if len(codes) else idx < -1
        return np.where(hit, days[safe] if len(codes) else 0, np.nan).astype("float64")

    def first_day(self, measure: str, code: np.ndarray, day: np.ndarray) -> np.ndarray:
        positive = self.values[measure] > 0
        codes, days = self.code[positive], self.day[positive]
        firsts = np.flatnonzero(np.r_[True, codes[1:] != codes[:-1]]) if len(codes) else np.array([], "int64")
        ucodes, udays = codes[firsts], days[firsts]
        pos = np.minimum(np.searchsorted(ucodes, code), max(len(ucodes) - 1, 0))
        hit = (ucodes[pos] == code) & (udays[pos] < day) if len(ucodes) else np.zeros(len(code), bool)
        return np.where(hit, udays[pos] if len(ucodes) else 0, np.nan).astype("float64")


class _Keys:
    """Integer codes of entity keys (-1 where a component is missing), factorised once per column."""

    def __init__(self, cols: Columns) -> None:
        self.cols = cols
        self._single: dict[str, tuple[np.ndarray, int]] = {}
        self._uniques: dict[str, np.ndarray] = {}
        self._points: dict[str, tuple[np.ndarray, np.ndarray, np.ndarray]] = {}

    def points(
        self, name: str, codes: np.ndarray, day: np.ndarray
    ) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """`_unique_points` of an aggregate's key codes, computed once per aggregate."""
        if name not in self._points:
            self._points[name] = _unique_points(codes, day)
        return self._points[name]

    def _one(self, name: str) -> tuple[np.ndarray, int]:
        if name not in self._single:
            codes, uniques = factorize(self.cols[name])
            self._single[name] = (codes.astype("int64"), len(uniques))
            self._uniques[name] = np.asarray(uniques, dtype=object)
        return self._single[name]

    def uniques(self, name: str) -> np.ndarray:
        """The values of a key column, by code."""
        self._one(name)
        return self._uniques[name]

    def codes(self, key: tuple[str, ...]) -> np.ndarray:
        out, _ = self._one(key[0])
        for name in key[1:]:
            more, n = self._one(name)
            out = np.where((out < 0) | (more < 0), -1, out * (n + 1) + more)
        return out


def first_outcomes(inspections: pd.DataFrame) -> tuple[np.ndarray, Columns]:
    """Each inspected line's first outcome: the line ids, and per id the inspection day and violation."""
    first = inspections.drop_duplicates("line_id", keep="first")
    return first["line_id"].to_numpy(dtype=object), {
        "day": first["inspected_on"].to_numpy(dtype="datetime64[D]").astype("int64"),
        "violation": (first["outcome"].to_numpy(dtype=object) == "violation").astype("float64"),
    }


def outcome_rows(
    cols: Columns, line_ids: np.ndarray, inspections: pd.DataFrame
) -> tuple[np.ndarray, Columns]:
    """Outcomes of known lines (first per line id): their line positions, inspection day and violation."""
    ids, first = first_outcomes(inspections)
    position = pd.Index(line_ids).get_indexer(ids)
    known = position >= 0
    return position[known], {name: values[known] for name, values in first.items()}


def run_queries(
    cols: Columns,
    outcome_pos: np.ndarray,
    outcome_rows: Columns,
    names: set[str] | None = None,
    flags: dict[str, pd.Series] | None = None,
) -> dict[str, np.ndarray]:
    """Evaluate the queries of `history.QUERIES` (only those in `names` when given) for every line, stage
    0 then the derived stage 1. `flags`: for a `Linked` query, its values' first positive day (indexed by
    value) computed elsewhere, when its aggregate's rows are not among these lines (`dask_executor.py`)."""
    keys = _Keys(cols)
    day = cols["day"]
    results: dict[str, np.ndarray] = {}
    wanted = [q for q in QUERIES if names is None or q.name in names]
    for stage in (0, 1):
        tables: dict[str, tuple[DayTable, np.ndarray]] = {}
        for query in wanted:
            if query_stage(query) != stage:
                continue
            given = (flags or {}).get(query.name)
            for name in _aggregates_of(query) if given is None else ():
                if name not in tables:
                    tables[name] = _day_table(
                        AGGREGATES_BY_NAME[name], cols, keys, outcome_pos, outcome_rows, results
                    )
            results[query.name] = _evaluate(query, tables, keys, day, given)
    return results


def _aggregates_of(query: Query) -> tuple[str, ...]:
    return () if isinstance(query, Distinct) else (query.aggregate,)


def first_positive_days(
    aggregate: str, measure: str, cols: Columns, outcome_pos: np.ndarray, outcome_rows: Columns
) -> pd.Series:
    """The first day each key of a one-column `aggregate` had a positive `measure`, indexed by the key's
    value: what a `Linked` query reads of it, for lines whose aggregate rows live elsewhere."""
    agg = AGGREGATES_BY_NAME[aggregate]
    if len(agg.key) != 1:
        raise ValueError(f"{aggregate}: first positive days are kept for one-column keys only")
    keys = _Keys(cols)
    table, _ = _day_table(agg, cols, keys, outcome_pos, outcome_rows, {})
    positive = table.values[measure] > 0
    days = pd.Series(table.day[positive]).groupby(table.code[positive]).min()
    values = keys.uniques(agg.key[0])
    return pd.Series(
        days.to_numpy(dtype="int64"), index=pd.Index(values[days.index.to_numpy()], dtype=object)
    )


def _day_table(
    agg: Aggregate,
    cols: Columns,
    keys: _Keys,
    outcome_pos: np.ndarray,
    outcome_rows: Columns,
    stage0: dict[str, np.ndarray],
) -> tuple[DayTable, np.ndarray]:
    line_codes = keys.codes(agg.key)
    if agg.source == "outcomes":
        rows = {**{k: cols[k][outcome_pos] for k in agg.key}, **outcome_rows}
        contributions = agg.contributions(rows, {})
        return DayTable(line_codes[outcome_pos], rows["day"], contributions), line_codes
    return DayTable(line_codes, cols["day"], agg.contributions(cols, stage0)), line_codes


def _unique_points(codes: np.ndarray, day: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Distinct (key, day) query points in sorted order, and the inverse mapping back to the lines.

    Lines of one key and day share every answer; sorted points also make the row ranges of window sums
    advance monotonically, which keeps `add.reduceat` linear."""
    packed, inverse = np.unique(_pack(codes, day), return_inverse=True)
    return packed >> _SHIFT, (packed & ((1 << _SHIFT) - 1)) - _OFFSET, inverse


def _evaluate(
    query: Query,
    tables: dict[str, tuple[DayTable, np.ndarray]],
    keys: _Keys,
    day: np.ndarray,
    flags: pd.Series | None = None,
) -> np.ndarray:
    if isinstance(query, Distinct):
        return _distinct(query, keys, day)
    if isinstance(query, Linked):
        if flags is None:
            table = tables[query.aggregate][0]
            positive = table.values[query.measure] > 0
            flagged = pd.Series(table.day[positive]).groupby(table.code[positive]).min()
        else:  # first positive days by value: to the codes of these lines' values
            distinct = QUERIES_BY_NAME[query.pairs]
            assert isinstance(distinct, Distinct)
            days = flags.reindex(keys.uniques(distinct.value)).to_numpy(dtype="float64")
            known = ~np.isnan(days)
            flagged = pd.Series(days[known].astype("int64"), index=np.flatnonzero(known))
        return _linked(query, flagged, keys, day)
    table, codes = tables[query.aggregate]
    # Query points depend on the key only: aggregates of one key (trader, its outcomes...) share them.
    ucode, uday, inverse = keys.points("|".join(AGGREGATES_BY_NAME[query.aggregate].key), codes, day)
    if isinstance(query, WindowSum):
        out = table.window_sum(query.measure, ucode, uday, query.window)
    elif isinstance(query, LastDay):
        out = table.last_day(query.measure, ucode, uday, query.lookback)
    elif isinstance(query, FirstDay):
        out = np.where(ucode >= 0, table.first_day(query.measure, ucode, uday), np.nan)
    else:
        raise TypeError(f"unknown query {query!r}")
    return out[inverse]


def _first_pairs(query: Distinct, keys: _Keys, day: np.ndarray) -> pd.Series:
    """First day of each (key code, value code) pair of a `Distinct` query."""
    codes = keys.codes(query.key)
    values = keys.codes((query.value,))
    ok = (codes >= 0) & (values >= 0)
    return (
        pd.DataFrame({"k": codes[ok], "v": values[ok], "d": day[ok]})
        .groupby(["k", "v"], sort=False)["d"]
        .min()
    )


def _linked(query: Linked, flagged: pd.Series, keys: _Keys, day: np.ndarray) -> np.ndarray:
    """A pair counts from the later of its first day and its value's first positive day (`flagged`: that
    day by the value's code, the codes of the pairs' values)."""
    distinct = QUERIES_BY_NAME[query.pairs]
    assert isinstance(distinct, Distinct)
    pairs = _first_pairs(distinct, keys, day)
    value_day = pd.Series(pairs.index.get_level_values("v")).map(flagged).to_numpy(dtype="float64")
    known = ~np.isnan(value_day)
    since = np.maximum(pairs.to_numpy(dtype="int64")[known], value_day[known].astype("int64"))
    pair_keys = pairs.index.get_level_values("k").to_numpy(dtype="int64")[known]
    table = DayTable(pair_keys, since, {"n": np.ones(len(since))})
    ucode, uday, inverse = keys.points("|".join(distinct.key), keys.codes(distinct.key), day)
    return table.window_sum("n", ucode, uday, None)[inverse]


def _distinct(query: Distinct, keys: _Keys, day: np.ndarray) -> np.ndarray:
    codes = keys.codes(query.key)
    pairs = _first_pairs(query, keys, day)
    first_seen = pairs.to_numpy(dtype="int64")
    pair_keys = pairs.index.get_level_values("k").to_numpy(dtype="int64")
    table = DayTable(pair_keys, first_seen, {"new": np.ones(len(first_seen))})
    ucode, uday, inverse = keys.points("|".join(query.key), codes, day)
    return table.window_sum("new", ucode, uday, query.window)[inverse]
