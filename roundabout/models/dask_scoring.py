"""Scoring a whole history on Dask: the features of each partition (`features/dask_executor.py`) scored by
the registered model there, with the same columns as the in-process `RiskModel.score_data`. Every per-line
part of scoring (the model's inputs, its scores, the channel, the exploration draw of a line's id) depends
on the line alone, so partitions are scored independently."""

import dask
import dask.dataframe as dd
import pandas as pd

from roundabout.data.dask_io import LineParts
from roundabout.features.dask_executor import STRINGS_AS_GIVEN, features_of_partition, with_history
from roundabout.models.policy import draws
from roundabout.models.risk_model import RiskModel
from roundabout.models.scores import LineRecords, scores_frame
from roundabout.parties.index import ScreeningIndex


def _score_partition(part: pd.DataFrame, model: RiskModel, key: bytes | None, explain: bool) -> pd.DataFrame:
    features = features_of_partition(part, model.artifacts)
    ids = features.index.to_numpy(dtype=object)
    u = draws(key, ids) if key is not None and model.policy.rate else None
    records = LineRecords(part) if explain else None
    frame = scores_frame(
        ids, model.score_batch(model.matrix(features, part), explain, lines=records, draws=u)
    )
    # texts as pandas strings: Dask cannot tell an object column's type from an empty partition (where the
    # JSON columns of reasons and contributions have no values either)
    texts = [c for c in frame.columns if frame[c].dtype == object or c in ("reasons", "contributions")]
    return frame.astype(dict.fromkeys(texts, "str"))


def dask_scores(
    lines: LineParts,
    inspections: pd.DataFrame,
    model: RiskModel,
    screening: ScreeningIndex | None = None,
    key: bytes | None = None,
    explain: bool = False,
) -> dd.DataFrame:
    """The scores of every line of `lines` (one row per line, partitions in the order of the lines' row
    groups), with reasons and contributions when `explain`."""
    with dask.config.set(STRINGS_AS_GIVEN):
        merged = with_history(lines, inspections, model.artifacts, screening)
        meta = _score_partition(merged._meta, model, None, explain)
        # the model as one task's result, fetched once by each worker (not a copy in every task)
        shared = dask.delayed(model)
        return merged.map_partitions(_score_partition, shared, key, explain, meta=meta)
