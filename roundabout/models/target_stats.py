"""Out-of-fold target statistics for high-cardinality ids (importer, declarant, seller, commodity code).

A raw id is useless to a tree model and a label code of it overfits: what generalises is how often lines
with that id turned out to be violations. For each configured id column the model gets two inputs:

- `te_<column>_rate`: the smoothed violation rate (violations + m * prior) / (inspections + m) of the id;
- `te_<column>_n`: log(1 + inspections of the id).

On training lines the statistics are *time-ordered out of fold*: the lines are cut by date into k blocks,
and a line's value comes from the blocks before its own, so it never sees its own label nor a later one
(random folds would let a trader's early lines learn from its later violations, which no line in service
can). Two consequences are corrected so that time does not leak in through them: the first block has no
earlier block, so its lines get no statistics at all (missing, not "an unseen id", which would teach the
model that the oldest traders are new); and a later block's counts come from fewer lines than the whole
training span the serving tables count over, so they are scaled up to that span (otherwise `n` grows
with the date and stands in for it). On every other line (validation, holdout, serving) they come from
all training lines. Unseen ids get the prior and 0. The fitted tables travel inside the model, so
serving looks an id up in a dict.
"""

from collections.abc import Mapping, Sequence
from typing import Any, Self

import numpy as np
import pandas as pd


def feature_names_for(columns: Sequence[str]) -> list[str]:
    return [name for col in columns for name in (f"te_{col}_rate", f"te_{col}_n")]


class TargetStats:
    """Smoothed per-id violation rates, fitted on training labels."""

    def __init__(self, columns: Sequence[str] = (), smoothing: float = 20.0, folds: int = 5, seed: int = 0):
        self.columns = list(columns)
        self.smoothing = smoothing
        self.folds = folds
        self.seed = seed
        self.prior_: float = 0.0
        self.tables_: dict[str, dict[str, tuple[float, float]]] = {}

    @property
    def feature_names(self) -> list[str]:
        return feature_names_for(self.columns)

    def fit_transform(self, lines: pd.DataFrame, y: np.ndarray) -> np.ndarray:
        """Fit on labelled training lines and return their statistics as of their dates (n, 2 * columns).

        The lines are cut by date into `folds` consecutive blocks; a line gets the statistics of the blocks
        before its own, counts scaled to the whole span (the first block: missing), so a training line
        never sees its own label nor any later one, as a line scored in service never does. Lines of one
        date fall in one block."""
        y = np.asarray(y, dtype="float64")
        self.prior_ = float(y.mean()) if len(y) else 0.0
        fold = time_blocks(lines, self.folds)
        out = np.full((len(y), 2 * len(self.columns)), np.nan)
        for j, col in enumerate(self.columns):
            keys = _keys(lines, col)
            for k in range(1, self.folds):
                held, before = fold == k, fold < k
                if held.any() and before.any():
                    table = self._table(keys[before], y[before], scale=len(y) / int(before.sum()))
                    out[held, 2 * j : 2 * j + 2] = self._lookup(keys[held], table)
            self.tables_[col] = self._table(keys, y)
        return out

    def transform(self, lines: pd.DataFrame | Sequence[Mapping[str, Any]]) -> np.ndarray:
        """Statistics from all training lines, for lines not used to fit them (a frame or records)."""
        out = np.empty((len(lines), 2 * len(self.columns)))
        for j, col in enumerate(self.columns):
            out[:, 2 * j : 2 * j + 2] = self._lookup(_keys(lines, col), self.tables_[col])
        return out

    def transform_one(self, line: Mapping[str, Any]) -> list[float]:
        """One line's statistics from a plain mapping of canonical fields (the serving path)."""
        values: list[float] = []
        for col in self.columns:
            rate, n = self.tables_[col].get(_key(line.get(col)), (self.prior_, 0.0))
            values += [rate, n]
        return values

    def _table(self, keys: np.ndarray, y: np.ndarray, scale: float = 1.0) -> dict[str, tuple[float, float]]:
        """Rate and log count per id; `scale` turns counts over part of the span into the whole span's."""
        frame = pd.DataFrame({"k": keys, "y": y})
        frame = frame[frame["k"].notna()]
        g = frame.groupby("k", sort=True)["y"].agg(["sum", "count"])
        rate = (g["sum"] + self.smoothing * self.prior_) / (g["count"] + self.smoothing)
        n = np.log1p(scale * g["count"].to_numpy(dtype="float64"))
        return {str(k): (float(r), float(c)) for k, r, c in zip(g.index, rate.to_numpy(), n, strict=True)}

    def _lookup(self, keys: np.ndarray, table: dict[str, tuple[float, float]]) -> np.ndarray:
        default = (self.prior_, 0.0)
        codes, uniques = pd.factorize(keys, use_na_sentinel=True)
        mapped = np.array([table.get(str(u), default) for u in uniques] + [default], dtype="float64")
        return mapped.reshape(-1, 2)[codes]

    def to_dict(self) -> dict[str, Any]:
        return {
            "columns": self.columns,
            "smoothing": self.smoothing,
            "folds": self.folds,
            "seed": self.seed,
            "prior": self.prior_,
            "tables": {col: {k: list(v) for k, v in t.items()} for col, t in self.tables_.items()},
        }

    @classmethod
    def from_dict(cls, body: dict[str, Any]) -> Self:
        out = cls(body["columns"], body["smoothing"], body["folds"], body["seed"])
        out.prior_ = float(body["prior"])
        out.tables_ = {
            col: {k: (float(v[0]), float(v[1])) for k, v in t.items()} for col, t in body["tables"].items()
        }
        return out


def time_blocks(lines: pd.DataFrame, folds: int) -> np.ndarray:
    """The block (0..folds-1) of each line: consecutive spans of dates holding about as many lines each
    (lines without a date column: consecutive spans of their order)."""
    if len(lines) == 0:
        return np.zeros(0, dtype=np.int64)
    if "date" in lines.columns:
        days = lines["date"].to_numpy(dtype="datetime64[D]").astype("int64")
    else:
        days = np.arange(len(lines), dtype=np.int64)
    order = np.sort(days)
    cuts = order[[len(order) * k // folds for k in range(1, folds)]]
    return np.searchsorted(cuts, days, side="right").astype(np.int64)


def _key(value: Any) -> str | None:
    if value is None or (isinstance(value, float) and np.isnan(value)) or value == "":
        return None
    return str(value)


def _keys(lines: pd.DataFrame | Sequence[Mapping[str, Any]], column: str) -> np.ndarray:
    if not isinstance(lines, pd.DataFrame):
        return np.array([_key(line.get(column)) for line in lines], dtype=object)
    if column not in lines.columns:
        return np.full(len(lines), None, dtype=object)
    return lines[column].astype(object).where(lines[column].notna(), None).to_numpy(dtype=object)
