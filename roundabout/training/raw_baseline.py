"""The yardstick every run is held to: a plain LightGBM on the declaration's raw columns.

What a data scientist with twenty lines of LightGBM would fit on an administration's own table: every
mapped column as it is (codes, countries, ids and the administration's extra columns as categories, amounts
as numbers), LightGBM's default settings, no weighting, early stopping on the validation period. The
product's model must rank the holdout better than this; every training run reports both, and by how much.
Row ids, free text and the date are left out, as anyone would (they identify a line, they do not describe
it).
"""

from typing import Any

import lightgbm as lgb
import numpy as np
import pandas as pd

from roundabout.data.schema import LINE_FIELDS, Kind

#: The scorer's name in a holdout report.
RAW_BASELINE = "raw_lightgbm"
#: Columns no one would give a model as they are: the line's own ids, free text, the date.
LEFT_OUT = frozenset({"line_id", "document_id", "previous_document_id", "description", "trader_name", "date"})
PARAMS: dict[str, Any] = {
    "objective": "binary",
    "learning_rate": 0.1,
    "num_leaves": 31,
    "metric": "average_precision",
    "deterministic": True,
    "num_threads": 1,
    "verbosity": -1,
}


class RawLightGBM:
    """LightGBM on the raw columns (sklearn's manner: configure in `__init__`, learn in `fit`)."""

    def __init__(self, extra_columns: dict[str, str] | None = None, seed: int = 0) -> None:
        self.extra_columns = dict(extra_columns or {})
        self.seed = seed
        self.columns_: list[str] = []
        self.categories_: dict[str, pd.Index] = {}
        self.booster_: lgb.Booster | None = None

    def _frame(self, lines: pd.DataFrame) -> pd.DataFrame:
        out = {}
        for name in self.columns_:
            values = lines[name] if name in lines.columns else pd.Series(np.nan, index=lines.index)
            if name in self.categories_:
                # A level unseen in training is missing to LightGBM; codes say so without a warning.
                text = pd.Index([None if pd.isna(v) else str(v) for v in values.to_numpy(dtype=object)])
                codes = self.categories_[name].get_indexer(text)
                out[name] = pd.Categorical.from_codes(codes, categories=self.categories_[name])
            else:
                out[name] = pd.to_numeric(values, errors="coerce").astype("float64")
        return pd.DataFrame(out, index=lines.index)

    def fit(
        self, lines: pd.DataFrame, y: np.ndarray, valid_lines: pd.DataFrame, valid_y: np.ndarray
    ) -> "RawLightGBM":
        """Fit on labelled training lines, early-stopped on labelled validation lines."""
        numeric = {f.name for f in LINE_FIELDS if f.kind is Kind.NUMBER}
        numeric |= {name for name, kind in self.extra_columns.items() if kind == "numeric"}
        candidates = [f.name for f in LINE_FIELDS if f.name not in LEFT_OUT] + list(self.extra_columns)
        self.columns_ = [c for c in candidates if c in lines.columns and lines[c].notna().any()]
        self.categories_ = {
            c: pd.Index(sorted(lines[c].dropna().astype(str).unique()))
            for c in self.columns_
            if c not in numeric
        }
        train = lgb.Dataset(self._frame(lines), label=np.asarray(y, dtype="float64"))
        sets, callbacks = [train], []
        if 0 < np.sum(valid_y) < len(valid_y):
            sets.append(
                lgb.Dataset(
                    self._frame(valid_lines), label=np.asarray(valid_y, dtype="float64"), reference=train
                )
            )
            callbacks.append(lgb.early_stopping(50, verbose=False))
        booster = lgb.train(
            {**PARAMS, "seed": self.seed},
            train,
            num_boost_round=1000,
            valid_sets=sets[1:],
            callbacks=callbacks,
        )
        self.booster_ = booster
        return self

    def score(self, lines: pd.DataFrame) -> np.ndarray:
        """The violation score of each line (higher: riskier)."""
        if self.booster_ is None:
            raise RuntimeError("the raw-column baseline is not fitted")
        best = self.booster_.best_iteration or None
        return np.asarray(self.booster_.predict(self._frame(lines), num_iteration=best), dtype="float64")


def raw_baseline_scores(split: Any, seed: int = 0) -> np.ndarray | None:
    """The raw-column baseline's scores of the holdout lines, fitted on the training period's inspected lines
    (None when they hold no violation, or nothing but violations: there is nothing to fit)."""
    from roundabout.training.split import labels

    lines, label = split.data.lines, labels(split.data)
    train = split.train & ~np.isnan(label)
    valid = split.valid & ~np.isnan(label)
    if not 0 < np.nansum(label[train]) < train.sum():
        return None
    model = RawLightGBM(split.data.extra_columns, seed).fit(
        lines[train], label[train], lines[valid], label[valid]
    )
    return model.score(lines[split.holdout])
