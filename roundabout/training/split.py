"""Splitting lines by time into train / validation / holdout, and the labels the split uses.

Lines of one date always fall into one part, and the holdout is the most recent period, as it would be
when a model trained on history meets next month's traffic. With fixed folders (another administration's
train/valid/test files) the three folders are stacked in that order into one history, so point-in-time
features of a holdout line can still see the training lines before it.
"""

from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pandas as pd

from roundabout.data.history import stack
from roundabout.data.io import CanonicalData, read_folder
from roundabout.errors import ConfigError
from roundabout.features import FeatureArtifacts, build_features
from roundabout.parties.index import ScreeningIndex
from roundabout.training.config import SplitConfig

PARTS = ("train", "valid", "holdout")


@dataclass
class Split:
    """One history and a boolean mask per part over its lines."""

    data: CanonicalData
    train: np.ndarray
    valid: np.ndarray
    holdout: np.ndarray
    #: The sanctions lists the parties are screened against (None: party features missing).
    screening: ScreeningIndex | None = None
    #: The lines drawn uniformly from the history (None: `data` is the whole history). When `data` holds
    #: only part of a history too large for one process (`dask_split.py`), what estimates something of
    #: all lines (the anomaly detectors, the channel thresholds, the holdout) reads the drawn lines; the
    #: others are labelled lines kept for the classifier.
    drawn: np.ndarray | None = None
    #: Features of `data`'s lines as of the whole history, when that history is not `data` (Dask).
    feature_source: Callable[[FeatureArtifacts], pd.DataFrame] | None = None

    def mask(self, part: str) -> np.ndarray:
        return getattr(self, part)

    def drawn_lines(self) -> np.ndarray:
        """The mask of lines drawn uniformly (every line when the split holds the whole history)."""
        return np.ones(len(self.data.lines), dtype=bool) if self.drawn is None else self.drawn

    def features(self, artifacts: FeatureArtifacts) -> pd.DataFrame:
        """Point-in-time features of the split's lines with `artifacts` (rows in the lines' order)."""
        if self.feature_source is not None:
            return self.feature_source(artifacts)
        return build_features(self.data, artifacts, screening=self.screening)

    def summary(self) -> dict[str, dict[str, object]]:
        """Row counts and date range of each part (for the data fingerprint)."""
        dates = self.data.lines["date"]
        out: dict[str, dict[str, object]] = {}
        for part in PARTS:
            m = self.mask(part)
            d = dates[m]
            out[part] = {
                "lines": int(m.sum()),
                "start": str(d.min().date()) if m.any() else "",
                "end": str(d.max().date()) if m.any() else "",
            }
        return out


def labels(data: CanonicalData) -> np.ndarray:
    """Per line: 1.0 violation found, 0.0 inspected and clean, NaN never inspected."""
    outcome = data.inspections.drop_duplicates("line_id").set_index("line_id")["outcome"]
    mapped = data.lines["line_id"].map(outcome)
    return np.where(mapped == "violation", 1.0, np.where(mapped == "clean", 0.0, np.nan))


def selection_of(data: CanonicalData) -> tuple[np.ndarray, np.ndarray]:
    """Per line: how it was selected for inspection ("" when not inspected or not recorded) and its
    propensity (NaN when not inspected or not recorded)."""
    first = data.inspections.drop_duplicates("line_id").set_index("line_id")
    ids = data.lines["line_id"]
    if "selection" in first.columns:
        selection = ids.map(first["selection"]).astype(object).where(lambda s: s.notna(), "")
    else:
        selection = pd.Series("", index=ids.index, dtype=object)
    if "propensity" in first.columns:
        propensity = pd.to_numeric(ids.map(first["propensity"]), errors="coerce")
    else:
        propensity = pd.Series(np.nan, index=ids.index)
    return selection.to_numpy(dtype=object), propensity.to_numpy(dtype="float64", na_value=np.nan)


def cut_dates(day_counts: pd.Series, config: SplitConfig) -> tuple[np.datetime64, np.datetime64]:
    """The first day of the validation and of the holdout period, from the number of lines of each day
    (a `datetime64[D]` index): what `split_data` cuts by, computable from a history too large to hold."""
    if config.kind == "dates":
        return np.datetime64(config.valid_start, "D"), np.datetime64(config.holdout_start, "D")
    counts = day_counts[day_counts > 0].sort_index()
    ends = np.cumsum(counts.to_numpy(dtype="int64"))  # the sorted dates' positions where each day ends
    n = int(ends[-1]) if len(ends) else 0
    days = counts.index.to_numpy(dtype="datetime64[D]")

    def at(position: int) -> np.datetime64:
        return days[int(np.searchsorted(ends, position, side="right"))]

    if n == 0:
        raise ConfigError("split: the history has no lines")
    valid = at(min(n - 1, int(n * (1 - config.valid_fraction - config.holdout_fraction))))
    return valid, at(min(n - 1, int(n * (1 - config.holdout_fraction))))


def parts_of(dates: np.ndarray, valid_start: np.datetime64, holdout_start: np.datetime64
             ) -> tuple[np.ndarray, np.ndarray, np.ndarray]:  # fmt: skip
    """The train, validation and holdout masks of lines dated `dates` (each part must hold a line)."""
    train = dates < valid_start
    holdout = dates >= holdout_start
    valid = ~train & ~holdout
    for part, mask in (("train", train), ("validation", valid), ("holdout", holdout)):
        if not mask.any():
            raise ConfigError(
                f"split: the {part} period has no lines (cut dates {valid_start}, {holdout_start})"
            )
    return train, valid, holdout


def split_data(data: CanonicalData, config: SplitConfig) -> Split:
    """Split a history by date (fractions or dates); `folders` splits use `split_folders`."""
    if config.kind == "folders":
        raise ConfigError("a folders split is built from three folders: use split_folders")
    dates = data.lines["date"].to_numpy(dtype="datetime64[D]")
    valid_start, holdout_start = cut_dates(pd.Series(dates).value_counts(), config)
    return Split(data, *parts_of(dates, valid_start, holdout_start))


def split_folders(train_dir: Path, valid_dir: Path, holdout_dir: Path) -> Split:
    """Three canonical folders (same mapping) stacked into one history with fixed parts."""
    folders = (train_dir, valid_dir, holdout_dir)
    parts = [read_folder(p) for p in folders]
    names = [f"the {part} folder {folder}" for part, folder in zip(PARTS, folders, strict=True)]
    data = stack(parts, names, "split")
    owner = np.repeat(np.arange(3), [len(p.lines) for p in parts])
    return Split(data, owner == 0, owner == 1, owner == 2)
