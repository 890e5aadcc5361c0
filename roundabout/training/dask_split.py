"""The split of a history too large for one process, drawn from a folder on Dask (`train|evaluate --engine
dask`).

The model is then fitted and evaluated in process by the same code as always (`fit.py`, `evaluate.py`), on
the lines those steps read: every labelled line of the training and validation periods (the classifier's
examples: a few percent of a history, as inspections are) and a uniform draw of all lines, at most
`draw_lines` of them (what the artifacts, the anomaly detectors, the channel thresholds and the holdout
estimate things of every line from). Their features come from the whole history on Dask
(`features/dask_executor.py`), point in time, exactly as in one process. A history of at most
`draw_lines` lines is drawn whole, and the model is the one the in-process job makes.
"""

from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import dask
import numpy as np
import pandas as pd

from roundabout.data.dask_io import LineParts, line_parts, read_inspections
from roundabout.data.io import TRUTH_FILE, CanonicalData, extra_columns_of, read_table
from roundabout.errors import ConfigError
from roundabout.features import FeatureArtifacts
from roundabout.features.dask_executor import STRINGS_AS_GIVEN, dask_features
from roundabout.parties.index import ScreeningIndex
from roundabout.training.config import SplitConfig
from roundabout.training.split import Split, cut_dates, parts_of

_DRAWN = "_drawn"
#: Computes a Dask collection into pandas objects (`cli/cluster.computer`: a frame a partition at a time).
Compute = Callable[[Any], Any]


def drawn_mask(line_ids: np.ndarray, rate: float) -> np.ndarray:
    """Lines drawn at `rate` by a hash of their ids: the same lines whoever draws them, in any partition."""
    if rate >= 1.0:
        return np.ones(len(line_ids), dtype=bool)
    hashed = pd.util.hash_array(np.asarray(line_ids, dtype=object))
    return hashed < np.uint64(min(int(rate * 2.0**64), 2**64 - 1))


def _kept(lines: pd.DataFrame, rate: float, labelled: pd.Index, until: np.datetime64) -> pd.DataFrame:
    """The lines of a partition that are drawn, or labelled and dated before `until`; with `_drawn`."""
    ids = lines["line_id"].to_numpy(dtype=object)
    drawn = drawn_mask(ids, rate)
    early = lines["date"].to_numpy(dtype="datetime64[D]") < until
    keep = drawn | (early & (labelled.get_indexer(ids) >= 0))
    return lines[keep].assign(**{_DRAWN: drawn[keep]})


def _labelled_ids(inspections: pd.DataFrame) -> pd.Index:
    """Ids of the lines with a label (a first outcome of violation or clean, as `split.labels` reads)."""
    first = inspections.drop_duplicates("line_id")
    known = first["outcome"].isin(["violation", "clean"]).to_numpy()
    return pd.Index(first["line_id"].to_numpy(dtype=object)[known], dtype=object)


def _among(features: pd.DataFrame, wanted: pd.Index) -> pd.DataFrame:
    return features[wanted.get_indexer(features.index.to_numpy(dtype=object)) >= 0]


def history_features(
    parts: LineParts,
    inspections: pd.DataFrame,
    screening: ScreeningIndex | None,
    compute: Compute,
    line_ids: np.ndarray,
) -> Callable[[FeatureArtifacts], pd.DataFrame]:
    """The features of the lines `line_ids` (rows in that order) as of the whole history, on Dask."""
    wanted = pd.Index(np.asarray(line_ids, dtype=object), dtype=object)

    def source(artifacts: FeatureArtifacts) -> pd.DataFrame:
        with dask.config.set(STRINGS_AS_GIVEN):
            features = dask_features(parts, inspections, artifacts, screening)
            kept = features.map_partitions(_among, dask.delayed(wanted), meta=features._meta)
        got = compute(kept)
        got.index = pd.Index(got.index.to_numpy(dtype=object), name="line_id", dtype=object)
        missing = wanted.difference(got.index)
        if len(missing) or not got.index.is_unique:
            raise RuntimeError(
                f"Dask features: {len(missing)} lines missing, ids unique: {got.index.is_unique}"
            )
        return got.reindex(wanted)

    return source


@dataclass
class Drawn:
    """Lines gathered from a history on Dask, and how to get their features as of the whole history."""

    data: CanonicalData
    drawn: np.ndarray
    rate: float
    features: Callable[[FeatureArtifacts], pd.DataFrame]


def draw_history(
    data_dir: Path,
    compute: Compute,
    screening: ScreeningIndex | None,
    draw_lines: int,
    cuts: Callable[[pd.Series], np.datetime64] | None = None,
) -> Drawn:
    """A uniform draw of at most `draw_lines` lines of the history in `data_dir`, with every labelled
    line dated before `cuts(lines per day)` when given (a split's holdout start)."""
    if draw_lines < 1:
        raise ConfigError(f"draw_lines: must be at least 1, got {draw_lines}")
    parts = line_parts(data_dir)
    inspections = read_inspections(data_dir)
    frame = parts.frame()
    with dask.config.set(STRINGS_AS_GIVEN):
        day_counts = compute(frame["date"].value_counts())
    until = cuts(day_counts) if cuts is not None else np.datetime64("NaT")
    rate = min(1.0, draw_lines / max(int(day_counts.sum()), 1))
    labelled = dask.delayed(_labelled_ids(inspections))
    meta = frame._meta.assign(**{_DRAWN: pd.Series(dtype=bool)})
    with dask.config.set(STRINGS_AS_GIVEN):
        gathered = compute(frame.map_partitions(_kept, rate, labelled, until, meta=meta))
    gathered = gathered.reset_index(drop=True)
    drawn = gathered.pop(_DRAWN).to_numpy(dtype=bool)
    ids = gathered["line_id"].to_numpy(dtype=object)
    truth = None
    if (Path(data_dir) / TRUTH_FILE).exists():
        truth = read_table(Path(data_dir) / TRUTH_FILE)
        truth = truth[truth["line_id"].isin(ids)].reset_index(drop=True)
    data = CanonicalData(gathered, inspections, truth, extra_columns_of(data_dir))
    return Drawn(data, drawn, rate, history_features(parts, inspections, screening, compute, ids))


def dask_split(
    data_dir: Path,
    config: SplitConfig,
    compute: Compute,
    screening: ScreeningIndex | None,
    draw_lines: int,
) -> Split:
    """The split of the history in `data_dir` over the lines a fit reads (see the module docstring)."""
    if config.kind == "folders":
        raise ConfigError(
            "--engine dask: split.kind 'folders' is not available on Dask; stack the folders into one "
            "(ingest --append) and split by dates"
        )
    found: list[np.datetime64] = []

    def holdout_start(day_counts: pd.Series) -> np.datetime64:
        found.extend(cut_dates(day_counts, config))
        return found[1]

    history = draw_history(data_dir, compute, screening, draw_lines, holdout_start)
    dates = history.data.lines["date"].to_numpy(dtype="datetime64[D]")
    train, valid, holdout = parts_of(dates, *found)
    drawn = history.drawn if history.rate < 1.0 else None
    return Split(history.data, train, valid, holdout, screening, drawn, history.features)
