"""The third executor of the feature specs: a whole history on Dask, past one machine's memory.

The specs (`history.py`) and their evaluation (`numpy_executor.py`) are not written again here. Every
history query reads the lines of one entity key, and every key of a query starts with its family's column
(trader, trader+HS6 and the trader's outcomes all start with `trader_id`), so the lines are shuffled by
each family's column in turn and the existing numpy code evaluates that family's queries per partition,
where all the lines of a key are. The one query that reads across families (`Linked`: a trader's
counterparties flagged by inspections of any trader's lines) gets its values' first positive days from
the pass of the family that holds them (one row per counterparty).

Memory is what a cluster runs out of, so the shuffles carry only what a family's queries read (found by
running them once on no lines and recording the columns they touch), and the lines themselves are not
kept: the results go back to the partitions the lines came from (by partition number and row), where the
lines are read again and the stateless families and the shared `finalize` run. A parity test holds every
feature of every line to the pandas executor's within 1e-9.
"""

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

import dask
import dask.dataframe as dd
import numpy as np
import pandas as pd

from roundabout.data.dask_io import LineParts
from roundabout.data.io import empty_frame, lines_schema
from roundabout.features.artifacts import PRIOR_WEIGHT, FeatureArtifacts
from roundabout.features.build import extra_features, feature_names, stateless_features
from roundabout.features.columns import Columns, columns_from_frame
from roundabout.features.history import AGGREGATES_BY_NAME, QUERIES, QUERIES_BY_NAME, finalize
from roundabout.features.numpy_executor import first_outcomes, first_positive_days, run_queries
from roundabout.features.parties import party_columns
from roundabout.features.specs import Distinct, Linked, Query
from roundabout.parties.index import ScreeningIndex

#: The frames keep pandas' own string type: Dask's conversion of metadata alone would give the two sides of
#: a join on line_id two string types. Set around building a graph of these frames.
STRINGS_AS_GIVEN = {"dataframe.convert-string": False}
#: Screening columns computed once per line.
PARTY_COLUMNS = ("cp_list_score", "trader_list_score", "cp_listed", "trader_listed", "listed_russia")
_PART, _ROW = "_part", "_row"
_OUTCOME_DAY, _VIOLATION = "_outcome_day", "_violation"


def _key_of(query: Query) -> tuple[str, ...]:
    if isinstance(query, Distinct):
        return query.key
    if isinstance(query, Linked):
        pairs = QUERIES_BY_NAME[query.pairs]
        assert isinstance(pairs, Distinct)
        return pairs.key
    return AGGREGATES_BY_NAME[query.aggregate].key


def families() -> dict[str, list[str]]:
    """The history queries by the first column of their key (what their lines are shuffled by)."""
    out: dict[str, list[str]] = {}
    for query in QUERIES:
        out.setdefault(_key_of(query)[0], []).append(query.name)
    return out


@dataclass(frozen=True)
class _Needs:
    """A `Linked` query's flags: which aggregate and measure, of which family."""

    query: str
    aggregate: str
    measure: str
    family: str


def _linked_needs() -> list[_Needs]:
    return [
        _Needs(q.name, q.aggregate, q.measure, AGGREGATES_BY_NAME[q.aggregate].key[0])
        for q in QUERIES
        if isinstance(q, Linked)
    ]


class _Reads(dict):  # type: ignore[type-arg]
    """Columns that record which of them were read."""

    def __init__(self, cols: Columns) -> None:
        super().__init__(cols)
        self.read: set[str] = set()

    def __getitem__(self, name: str) -> np.ndarray:
        self.read.add(name)
        return super().__getitem__(name)

    def get(self, name: str, default: Any = None) -> Any:
        self.read.add(name)
        return super().get(name, default)


def _empty_outcomes() -> tuple[np.ndarray, Columns]:
    return np.array([], "int64"), {"day": np.array([], "int64"), "violation": np.array([], "float64")}


def family_reads(cols: Columns, family: str) -> list[str]:
    """The columns a family's queries (and the flags it gives other families) read, in `cols`' order:
    found by running them on `cols` (the columns of no lines) and recording what they touch."""
    names = set(families()[family])
    pos, rows = _empty_outcomes()
    reads = _Reads(cols)
    given = {n.query: pd.Series(dtype="int64") for n in _linked_needs() if n.family != family}
    run_queries(reads, pos, rows, names, {k: v for k, v in given.items() if k in names})
    for need in _linked_needs():
        if need.family == family:
            first_positive_days(need.aggregate, need.measure, reads, pos, rows)
    return [name for name in cols if name in reads.read]


def columns_of_no_lines(extra: Mapping[str, str]) -> Columns:
    """The columns (and screening columns) of no lines: their names and types, to trace reads with."""
    cols = columns_from_frame(empty_frame(lines_schema(extra)), extra)
    return cols | {name: np.array([], "float64") for name in PARTY_COLUMNS}


def _screened(
    part: pd.DataFrame,
    lists: "_Lists",
    extra: Mapping[str, str],
    keep: list[str],
    partition_info: dict[str, Any] | None = None,
) -> pd.DataFrame:
    """What the family passes read of a partition's lines (screening columns included), with the lines'
    partition number and row to send the results back."""
    number = partition_info["number"] if partition_info else 0
    cols = columns_from_frame(part, extra)
    cols |= party_columns(cols, lists.index)
    out = pd.DataFrame({_PART: np.full(len(part), number, "int64"), _ROW: np.arange(len(part))})
    for name in keep:
        values = cols[name]
        out[name] = pd.array(values, dtype="str") if values.dtype == object else values
    out["line_id"] = part["line_id"].astype(object).to_numpy()
    return out


def _with_outcomes(part: pd.DataFrame, outcomes: pd.DataFrame) -> pd.DataFrame:
    """Each line's first outcome (day number, violation; NaN if none), in place of its id."""
    found = outcomes.reindex(part["line_id"].to_numpy(dtype=object))
    return part.drop(columns="line_id").assign(
        **{
            _OUTCOME_DAY: found[_OUTCOME_DAY].to_numpy(dtype="float64"),
            _VIOLATION: found[_VIOLATION].to_numpy(dtype="float64"),
        }
    )


def _columns(part: pd.DataFrame, names: list[str]) -> Columns:
    """Columns of a shuffled frame as the numpy executor reads them (texts as objects, missing as None)."""
    out: Columns = {}
    for name in names:
        series = part[name]
        if pd.api.types.is_float_dtype(series.dtype) or pd.api.types.is_integer_dtype(series.dtype):
            out[name] = series.to_numpy()
        else:
            out[name] = series.to_numpy(dtype=object, na_value=None)
    return out


def _outcomes(part: pd.DataFrame) -> tuple[np.ndarray, Columns]:
    day = part[_OUTCOME_DAY].to_numpy(dtype="float64")
    pos = np.flatnonzero(~np.isnan(day))
    return pos, {
        "day": day[pos].astype("int64"),
        "violation": part[_VIOLATION].to_numpy(dtype="float64")[pos],
    }


@dataclass(frozen=True)
class _Lists:
    """The screening index as a task argument: Dask names tasks by their arguments, and an index is named
    by the list versions it holds (hashing its contents would take longer than screening)."""

    index: ScreeningIndex | None

    def __dask_tokenize__(self) -> tuple[object, ...]:
        if self.index is None:
            return ("no lists",)
        return (self.index.threshold, *(str(v) for v in self.index.versions))


def _family_pass(part: pd.DataFrame, names: list[str], reads: list[str], flags: dict[str, pd.Series]
                 ) -> pd.DataFrame:  # fmt: skip
    """The family's query results for the lines of a partition that holds all the lines of its keys."""
    out = pd.DataFrame({_PART: part[_PART].to_numpy(dtype="int64"), _ROW: part[_ROW].to_numpy(dtype="int64")})
    if not len(part):
        return out.assign(**{n: pd.Series(dtype="float64") for n in names})
    pos, rows = _outcomes(part)
    results = run_queries(_columns(part, reads), pos, rows, set(names), flags)
    return out.assign(**{n: results[n] for n in names})


def _concat(parts: list[pd.Series]) -> pd.Series:
    return pd.concat(parts) if parts else pd.Series(dtype="int64")


def _flags_pass(part: pd.DataFrame, need: _Needs, reads: list[str]) -> pd.Series:
    if not len(part):
        return pd.Series(dtype="int64")
    pos, rows = _outcomes(part)
    return first_positive_days(need.aggregate, need.measure, _columns(part, reads), pos, rows)


def _rejoined(
    part: pd.DataFrame, *found: pd.DataFrame, partition_info: dict[str, Any] | None = None
) -> pd.DataFrame:
    """A partition's lines (read again) with what the passes found for them, put back in row order. Every
    line must have exactly one row of each: a lost or doubled row is an error, never a silent gap."""
    number = partition_info["number"] if partition_info else 0
    added: dict[str, np.ndarray] = {}
    for frame in found:
        rows = frame[_ROW].to_numpy(dtype="int64")
        if len(rows) != len(part) or (len(rows) and np.bincount(rows, minlength=len(part)).max() > 1):
            raise RuntimeError(f"partition {number}: {len(rows)} results for {len(part)} lines")
        order = np.argsort(rows, kind="stable")
        added |= {c: frame[c].to_numpy()[order] for c in frame.columns if c not in (_PART, _ROW)}
    return part.assign(**added)


def _cols(part: pd.DataFrame, extra: Mapping[str, str]) -> Columns:
    """The columns of a partition of `with_history`, with the screening columns it carries."""
    cols = columns_from_frame(part, extra)
    cols.update({name: part[name].to_numpy(dtype="float64") for name in PARTY_COLUMNS})
    return cols


def features_of_partition(part: pd.DataFrame, artifacts: FeatureArtifacts) -> pd.DataFrame:
    """The features of a partition of `with_history` (its lines and their query results), indexed by
    line_id: what models read, per partition (`models/dask_scoring.py`)."""
    return _final_pass(part, artifacts, feature_names(artifacts), [q.name for q in QUERIES])


def _final_pass(
    part: pd.DataFrame, artifacts: FeatureArtifacts, names: list[str], queries: list[str]
) -> pd.DataFrame:
    """The features of a partition's lines from their columns and their query results."""
    index = pd.Index(part["line_id"], name="line_id", dtype="str")
    if not len(part):
        return pd.DataFrame({n: pd.Series(dtype="float64") for n in names}, index=index)
    cols = _cols(part, artifacts.extra_columns)
    q = {name: part[name].to_numpy(dtype="float64") for name in queries}
    feats = {
        **stateless_features(cols, artifacts),
        **finalize(cols, q, artifacts.prior_violation_rate, PRIOR_WEIGHT),
        **extra_features(cols, artifacts),
    }
    return pd.DataFrame({n: feats[n] for n in names}, index=index)


def dask_features(
    lines: LineParts,
    inspections: pd.DataFrame,
    artifacts: FeatureArtifacts,
    screening: ScreeningIndex | None = None,
) -> dd.DataFrame:
    """Point-in-time features of every line of `lines` (one row per line, indexed by line_id, partitions
    in the order of the lines' row groups), the same as `build.build_features` gives in one process."""
    names = feature_names(artifacts)
    queries = [q.name for q in QUERIES]
    index = pd.Index([], name="line_id", dtype="str")
    meta = pd.DataFrame({n: pd.Series(dtype="float64") for n in names}, index=index)
    with dask.config.set(STRINGS_AS_GIVEN):
        merged = _with_history(lines, inspections, artifacts, screening)
        # the artifacts as one task's result: not a copy in every task (see `_with_history`)
        shared = dask.delayed(artifacts)
        return merged.map_partitions(_final_pass, shared, names, queries, meta=meta)


def with_history(
    lines: LineParts,
    inspections: pd.DataFrame,
    artifacts: FeatureArtifacts,
    screening: ScreeningIndex | None = None,
) -> dd.DataFrame:
    """The lines (a partition per row group, in order) with their screening columns and every history
    query's result, one column each."""
    with dask.config.set(STRINGS_AS_GIVEN):
        return _with_history(lines, inspections, artifacts, screening)


def _first_outcomes(inspections: pd.DataFrame) -> pd.DataFrame:
    """Each inspected line's first outcome (day number, violation), indexed by line id."""
    ids, first = first_outcomes(inspections)
    return pd.DataFrame(
        {_OUTCOME_DAY: first["day"].astype("float64"), _VIOLATION: first["violation"]},
        index=pd.Index(ids, dtype=object),
    )


def _with_history(
    lines: LineParts,
    inspections: pd.DataFrame,
    artifacts: FeatureArtifacts,
    screening: ScreeningIndex | None,
) -> dd.DataFrame:
    extra = dict(artifacts.extra_columns)
    grouped = families()
    none = columns_of_no_lines(extra)
    reads = {family: family_reads(none, family) for family in grouped}
    keep = [name for name in none if any(name in r for r in reads.values()) or name in PARTY_COLUMNS]
    kinds = {name: "str" if a.dtype == object else str(a.dtype) for name, a in none.items()}
    meta = pd.DataFrame({_PART: pd.Series(dtype="int64"), _ROW: pd.Series(dtype="int64")})
    meta = meta.assign(**{n: pd.Series(dtype=kinds[n]) for n in keep})
    meta = meta.assign(**{_OUTCOME_DAY: pd.Series(dtype="float64"), _VIOLATION: pd.Series(dtype="float64")})
    with_ids = meta.assign(line_id=pd.Series(dtype=object)).drop(columns=[_OUTCOME_DAY, _VIOLATION])
    # What every partition reads (the lists, the outcomes) is one task's result each, fetched once by each
    # worker: an argument given as such is a copy in every task, held by every task a worker waits on.
    lists = dask.delayed(_Lists(screening))
    screened = lines.frame(label="screened").map_partitions(_screened, lists, extra, keep, meta=with_ids)
    outcomes = dask.delayed(_first_outcomes)(inspections)
    screened = screened.map_partitions(_with_outcomes, outcomes, meta=meta)
    needs = _linked_needs()
    order = sorted(grouped, key=lambda fam: 0 if any(n.family == fam for n in needs) else 1)
    divisions = tuple(range(max(lines.npartitions, 1) + 1))
    flags: dict[str, Any] = {}
    found = [screened[[_PART, _ROW, *PARTY_COLUMNS]]]  # already in the lines' partitions
    for family in order:
        wanted = [_PART, _ROW, *reads[family], _OUTCOME_DAY, _VIOLATION]
        shuffled = screened[wanted].shuffle(on=family)
        for need in needs:
            if need.family == family:
                parts = shuffled.map_partitions(
                    _flags_pass, need, reads[family], meta=pd.Series(dtype="int64")
                )
                # lazy (a task gathering the partitions' rows), so one graph holds the whole job
                flags[need.query] = dask.delayed(_concat)(parts.to_delayed())
        names = grouped[family]
        result_meta = meta[[_PART, _ROW]].assign(**{n: pd.Series(dtype="float64") for n in names})
        given = dask.delayed(dict)(**{k: v for k, v in flags.items() if k in names})
        results = shuffled.map_partitions(_family_pass, names, reads[family], given, meta=result_meta)
        # back to the partition the lines came from: partition k holds the rows of partition number k
        found.append(results.set_index(_PART, divisions=divisions, drop=False))
    again = lines.frame(label="lines-again")  # read again rather than kept through the passes
    out_meta = _rejoined(lines.meta(), *(f._meta for f in found))
    return dd.map_partitions(_rejoined, again, *found, meta=out_meta, align_dataframes=False)
