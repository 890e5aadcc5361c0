"""What a set of new lines and outcomes adds to the store's aggregates, computed in memory as frames.

The same definitions as the line-by-line writer (`store.writer`): each aggregate's `contributions`, the
stored key text of `reader.key_strings`, per-(key, day) sums by `upserts.sum_frame`, the first day of each
(key, value) pair as `upserts.first_pairs` records it. Only how they are written differs (`merge.py`), so
a store loaded in bulk holds what the same lines added one by one would have left.
"""

import numpy as np
import pandas as pd

from roundabout.features.columns import Columns
from roundabout.features.history import AGGREGATES, QUERIES
from roundabout.features.specs import Distinct, FirstDay
from roundabout.store.reader import key_strings
from roundabout.store.upserts import sum_frame

#: The columns of a pairs frame (the `feat_pairs` rows of first sightings).
PAIR_COLUMNS = ["rel", "key", "value", "first_day"]


def line_sums(cols: Columns) -> dict[str, pd.DataFrame]:
    """Per stage-0 aggregate of lines: the (key, day) sums these lines add."""
    out = {}
    for agg in AGGREGATES:
        if agg.source == "lines" and agg.stage == 0:
            out[agg.name] = sum_frame(
                key_strings(cols, agg.key), cols["day"], agg.contributions(cols, {}), agg.measures
            )
    return out


def stage1_sums(cols: Columns, stage0: dict[str, np.ndarray]) -> dict[str, pd.DataFrame]:
    """Per derived (stage-1) aggregate: the sums of RU/BY-bound exports `cols`, given their stage-0 query
    results `stage0` (read from the store once the stage-0 sums are in)."""
    return {
        agg.name: sum_frame(
            key_strings(cols, agg.key), cols["day"], agg.contributions(cols, stage0), agg.measures
        )
        for agg in AGGREGATES
        if agg.stage == 1
    }


def outcome_sums(cols: Columns, days: np.ndarray, violation: np.ndarray) -> dict[str, pd.DataFrame]:
    """Per aggregate of outcomes: the sums of outcomes on lines `cols` (one outcome per line), counted on
    their inspection `days`."""
    rows: Columns = {**cols, "day": days, "violation": violation}
    return {
        agg.name: sum_frame(key_strings(rows, agg.key), days, agg.contributions(rows, {}), agg.measures)
        for agg in AGGREGATES
        if agg.source == "outcomes"
    }


def _firsts(rel: str, keys: list[str | None], values: pd.Series, days: np.ndarray) -> pd.DataFrame:
    frame = pd.DataFrame({"key": pd.Series(keys, dtype=object), "value": values.to_numpy(), "day": days})
    frame = frame[frame["key"].notna() & frame["value"].notna()]
    first = frame.groupby(["key", "value"], sort=True)["day"].min().reset_index()
    first.insert(0, "rel", rel)
    return first.rename(columns={"day": "first_day"})


def pair_firsts(cols: Columns) -> pd.DataFrame:
    """The first day each (rel, key, value) pair is seen in these lines: a `FirstDay` key's first day with a
    positive measure (value ""), and each `Distinct` key's first day with each value."""
    frames = []
    days = cols["day"]
    for agg in AGGREGATES:
        if agg.source != "lines" or agg.stage != 0:
            continue
        keys = None
        for q in QUERIES:
            if isinstance(q, FirstDay) and q.aggregate == agg.name:
                keys = keys if keys is not None else key_strings(cols, agg.key)
                positive = agg.contributions(cols, {})[q.measure] > 0
                values = pd.Series(np.where(positive, "", None), dtype=object)
                frames.append(_firsts(q.name, keys, values, days))
    for q in QUERIES:
        if isinstance(q, Distinct) and q.rel is None:
            values = pd.Series(cols[q.value], dtype=object)
            frames.append(_firsts(q.name, key_strings(cols, q.key), values, days))
    if not frames:
        return pd.DataFrame(columns=PAIR_COLUMNS)
    out = pd.concat(frames, ignore_index=True)
    out["first_day"] = out["first_day"].astype("int64")
    return out[PAIR_COLUMNS]


def distinct_deltas(sighted: pd.DataFrame, known: pd.DataFrame) -> pd.DataFrame:
    """How the running distinct counts change (`rel`, `key`, `day`, `n`) when pairs `sighted` (rel, key,
    value, first_day) meet the store's `known` first days (rel, key, value, stored_day): a new pair counts
    from its first day; a known pair now seen earlier moves there (as `AggregateUpserts.count_new_pairs`)."""
    both = sighted.merge(known, on=["rel", "key", "value"], how="left")
    new = both[both["stored_day"].isna()]
    earlier = both[both["stored_day"].notna() & (both["first_day"] < both["stored_day"])]
    parts = [
        pd.DataFrame({"rel": new["rel"], "key": new["key"], "day": new["first_day"], "n": 1.0}),
        pd.DataFrame({"rel": earlier["rel"], "key": earlier["key"], "day": earlier["first_day"], "n": 1.0}),
        pd.DataFrame({"rel": earlier["rel"], "key": earlier["key"], "day": earlier["stored_day"], "n": -1.0}),
    ]
    frame = pd.concat(parts, ignore_index=True)
    frame["day"] = frame["day"].astype("int64")
    out = frame.groupby(["rel", "key", "day"], sort=True)["n"].sum().reset_index()
    return out[out["n"] != 0].reset_index(drop=True)
