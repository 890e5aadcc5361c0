"""The supervised part of the risk model: a LightGBM classifier of inspected lines (label: violation found).

A thin wrapper in scikit-learn's manner (configure in `__init__`, learn in `fit`) around `lightgbm.train`,
so that the native `Booster` is what is kept, saved and called: scoring goes straight to
`Booster.predict` on a 2-D float array, with no sklearn wrapper and no DataFrame on the way. Early
stopping watches the average precision on the validation period; class imbalance (violations are a few
percent of inspections) is handled with `scale_pos_weight` = negatives / positives unless set. That
weight distorts probabilities, which is fine: the fusion step calibrates the raw score afterwards.
Categorical features (fitted level codes) are declared to LightGBM as categorical.
"""

from pathlib import Path
from typing import Any, Self

import lightgbm as lgb
import numpy as np

DEFAULT_PARAMS: dict[str, Any] = {
    "objective": "binary",
    "learning_rate": 0.05,
    "num_leaves": 31,
    "min_data_in_leaf": 20,
    "feature_fraction": 0.8,
    "bagging_fraction": 0.8,
    "bagging_freq": 1,
    "lambda_l2": 1.0,
    "cat_smooth": 10.0,
    "max_cat_to_onehot": 8,
}


class RiskClassifier:
    """LightGBM binary classifier with early stopping on a validation set and imbalance weighting."""

    def __init__(
        self,
        params: dict[str, Any] | None = None,
        num_boost_round: int = 1000,
        early_stopping_rounds: int = 50,
        scale_pos_weight: float | None = None,
        seed: int = 0,
        num_threads: int = 0,
    ) -> None:
        self.params = {**DEFAULT_PARAMS, **(params or {})}
        self.num_boost_round = num_boost_round
        self.early_stopping_rounds = early_stopping_rounds
        self.scale_pos_weight = scale_pos_weight
        self.seed = seed
        self.num_threads = num_threads
        self.booster_: lgb.Booster | None = None
        self.best_iteration_: int = 0
        self.evals_: dict[str, list[float]] = {}

    def fit(
        self,
        X: np.ndarray,
        y: np.ndarray,
        feature_names: list[str],
        categorical: list[str],
        X_valid: np.ndarray | None = None,
        y_valid: np.ndarray | None = None,
    ) -> Self:
        """Train; with a validation set, stop when its average precision has not improved for a while."""
        y = np.asarray(y, dtype="float64")
        positives = float(y.sum())
        if positives == 0 or positives == len(y):
            raise ValueError("the training labels need both violations and clean inspections")
        spw = self.scale_pos_weight or (len(y) - positives) / positives
        params = {
            **self.params,
            "scale_pos_weight": spw,
            "metric": ["average_precision", "binary_logloss"],
            "seed": self.seed,
            "deterministic": True,
            "num_threads": self.num_threads,
            "verbosity": -1,
        }
        cats = [c for c in categorical if c in feature_names]
        train = lgb.Dataset(
            X, label=y, feature_name=feature_names, categorical_feature=cats, free_raw_data=False
        )
        sets, names = [train], ["train"]
        callbacks: list[Any] = [lgb.record_evaluation(self.evals_)]
        has_valid = X_valid is not None and y_valid is not None and 0 < np.sum(y_valid) < len(y_valid)
        if has_valid:
            valid = lgb.Dataset(X_valid, label=np.asarray(y_valid, dtype="float64"), reference=train)
            sets, names = [train, valid], ["train", "valid"]
            callbacks.append(
                lgb.early_stopping(self.early_stopping_rounds, first_metric_only=True, verbose=False)
            )
        booster = lgb.train(
            params, train, num_boost_round=self.num_boost_round, valid_sets=sets, valid_names=names,
            callbacks=callbacks,
        )  # fmt: skip
        self.best_iteration_ = (
            booster.best_iteration
            if has_valid and booster.best_iteration > 0
            else (booster.current_iteration())
        )
        # Keep only the trees up to the best iteration, so every later predict uses them by default.
        self.booster_ = lgb.Booster(model_str=booster.model_to_string(num_iteration=self.best_iteration_))
        return self

    @property
    def booster(self) -> lgb.Booster:
        if self.booster_ is None:
            raise RuntimeError("the classifier is not fitted")
        return self.booster_

    def raw_score(self, X: np.ndarray) -> np.ndarray:
        """Log-odds of the (imbalance-weighted) model, straight from the native booster."""
        return self.booster.predict(X, raw_score=True)

    def contributions(self, X: np.ndarray) -> np.ndarray:
        """TreeSHAP contributions (n, features + 1); the last column is the bias; rows sum to raw scores."""
        return self.booster.predict(X, pred_contrib=True)

    def importance(self) -> dict[str, float]:
        """Total gain of each feature."""
        gains = self.booster.feature_importance(importance_type="gain")
        return dict(zip(self.booster.feature_name(), map(float, gains), strict=True))

    def save(self, path: Path) -> None:
        self.booster.save_model(str(path))

    @classmethod
    def load(cls, path: Path) -> Self:
        out = cls()
        out.booster_ = lgb.Booster(model_file=str(path))
        out.best_iteration_ = out.booster_.current_iteration()
        return out
