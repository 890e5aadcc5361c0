"""The third executor of the feature specs: a whole history on Dask, past one machine's memory.

The specs (`history.py`) and their evaluation (`numpy_executor.py`) are not written again here. Every
history query reads the lines of one entity key, and every key of a query starts with its family's column
(trader, trader+HS6 and the trader's outcomes all start with `trader_id`), so the lines are shuffled by
each family's column in turn and the existing numpy code evaluates that family's queries per partition,
where all the lines of a key are. The one query that reads across families (`Linked`: a trader's
counterparties flagged by inspections of any trader's lines) gets its values' first positive days from
the pass of the family that holds them, collected and sent to the partitions that need them (one row per
counterparty). The results are joined back to the lines by `line_id`, and the stateless families and the
shared `finalize` run per partition. A parity test holds every feature of every line to the pandas
executor's within 1e-9.
"""

from collections.abc import Mapping
from dataclasses import dataclass

import dask
import dask.dataframe as dd
import numpy as np
import pandas as pd
from dask.delayed import Delayed

from roundabout.features.artifacts import PRIOR_WEIGHT, FeatureArtifacts
from roundabout.features.build import extra_features, feature_names, stateless_features
from roundabout.features.columns import Columns, columns_from_frame
from roundabout.features.history import AGGREGATES_BY_NAME, QUERIES, QUERIES_BY_NAME, finalize
from roundabout.features.numpy_executor import first_positive_days, run_queries
from roundabout.features.parties import party_columns
from roundabout.features.specs import Distinct, Linked, Query
from roundabout.parties.index import ScreeningIndex

#: The frames keep pandas' own string type: Dask's conversion of metadata alone would give the two sides of
#: a join on line_id two string types. Set around building a graph of these frames.
STRINGS_AS_GIVEN = {"dataframe.convert-string": False}
#: Screening columns computed once per line and carried through the shuffles.
PARTY_COLUMNS = ("cp_list_score", "trader_list_score", "cp_listed", "trader_listed", "listed_russia")
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


def _key_column(family: str) -> str:
    return f"_key_{family}"


def _cols(part: pd.DataFrame, extra: Mapping[str, str]) -> Columns:
    """The columns of a partition, with the screening columns it carries."""
    cols = columns_from_frame(part, extra)
    cols.update({name: part[name].to_numpy(dtype="float64") for name in PARTY_COLUMNS})
    return cols


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


def _prepare(part: pd.DataFrame, lists: _Lists, extra: Mapping[str, str], keys: list[str]) -> pd.DataFrame:
    """A partition of lines with each family's key column and the screening columns added."""
    cols = columns_from_frame(part, extra)
    added = {_key_column(k): pd.array(cols[k], dtype="str") for k in keys}
    added |= party_columns(cols, lists.index)
    return part.assign(**added)


def _family_pass(
    part: pd.DataFrame, names: list[str], extra: Mapping[str, str], flags: dict[str, pd.Series]
) -> pd.DataFrame:
    """The family's query results for the lines of a partition that holds all the lines of its keys."""
    if not len(part):
        return pd.DataFrame(
            {"line_id": pd.Series(dtype="str"), **{n: pd.Series(dtype="float64") for n in names}}
        )
    cols = _cols(part, extra)
    pos, rows = _outcomes(part)
    results = run_queries(cols, pos, rows, set(names), flags)
    return pd.DataFrame({"line_id": part["line_id"].to_numpy(), **{n: results[n] for n in names}})


def _concat(parts: list[pd.Series]) -> pd.Series:
    return pd.concat(parts) if parts else pd.Series(dtype="int64")


def _flags_pass(part: pd.DataFrame, need: _Needs, extra: Mapping[str, str]) -> pd.Series:
    if not len(part):
        return pd.Series(dtype="int64")
    cols = _cols(part, extra)
    pos, rows = _outcomes(part)
    return first_positive_days(need.aggregate, need.measure, cols, pos, rows)


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
    lines: dd.DataFrame,
    inspections: pd.DataFrame,
    artifacts: FeatureArtifacts,
    screening: ScreeningIndex | None = None,
) -> dd.DataFrame:
    """Point-in-time features of every line of `lines` (one row per line, indexed by line_id; partitions
    in no particular order), the same as `build.build_features` gives in one process."""
    names = feature_names(artifacts)
    queries = [q.name for q in QUERIES]
    index = pd.Index([], name="line_id", dtype="str")
    meta = pd.DataFrame({n: pd.Series(dtype="float64") for n in names}, index=index)
    with dask.config.set(STRINGS_AS_GIVEN):
        merged = _with_history(lines, inspections, artifacts, screening)
        return merged.map_partitions(_final_pass, artifacts, names, queries, meta=meta)


def with_history(
    lines: dd.DataFrame,
    inspections: pd.DataFrame,
    artifacts: FeatureArtifacts,
    screening: ScreeningIndex | None = None,
) -> dd.DataFrame:
    """The lines with their screening columns and every history query's result, one column each."""
    with dask.config.set(STRINGS_AS_GIVEN):
        return _with_history(lines, inspections, artifacts, screening)


def _with_history(
    lines: dd.DataFrame,
    inspections: pd.DataFrame,
    artifacts: FeatureArtifacts,
    screening: ScreeningIndex | None,
) -> dd.DataFrame:
    extra = dict(artifacts.extra_columns)
    grouped = families()
    first = inspections.drop_duplicates("line_id", keep="first")
    id_type = "str"  # one dtype for the id on both sides of every join
    lines = lines.assign(line_id=lines["line_id"].astype(id_type))
    outcomes = pd.DataFrame(
        {
            "line_id": first["line_id"].astype(id_type).to_numpy(),
            _OUTCOME_DAY: first["inspected_on"]
            .to_numpy(dtype="datetime64[D]")
            .astype("int64")
            .astype("float64"),
            _VIOLATION: (first["outcome"].to_numpy(dtype=object) == "violation").astype("float64"),
        }
    )
    keyed = lines.map_partitions(_prepare, _Lists(screening), extra, list(grouped))
    prepared = keyed.merge(outcomes, on="line_id", how="left").persist()
    needs = _linked_needs()
    order = sorted(grouped, key=lambda fam: 0 if any(n.family == fam for n in needs) else 1)
    flags: dict[str, Delayed] = {}
    found: dd.DataFrame | None = None  # the query results, narrow: joined to the wide lines once
    for family in order:
        shuffled = prepared.shuffle(on=_key_column(family))
        for need in needs:
            if need.family == family:
                parts = shuffled.map_partitions(_flags_pass, need, extra, meta=pd.Series(dtype="int64"))
                # lazy (a task gathering the partitions' rows), so one graph holds the whole job
                flags[need.query] = dask.delayed(_concat)(parts.to_delayed())
        names = grouped[family]
        meta = pd.DataFrame(
            {"line_id": pd.Series(dtype="str"), **{n: pd.Series(dtype="float64") for n in names}}
        )
        given = dask.delayed(dict)(**flags)
        results = shuffled.map_partitions(_family_pass, names, extra, given, meta=meta)
        found = results if found is None else found.merge(results, on="line_id", how="inner")
    assert found is not None
    return prepared.merge(found, on="line_id", how="left")
