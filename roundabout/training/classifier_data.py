"""The classifier's candidate inputs on the labelled lines of one run, and one fit scored on validation.

Selection (`selection.py`) and tuning (`tuning.py`) each fit the classifier many times, on subsets of the
inputs or with other settings: the input matrices are built once here and every fit reads columns of them.
The score of a fit is the average precision of its ranking of the validation period's inspected lines,
what inspections at any rate draw from (smoother than a precision at one rate on a few hundred lines).
"""

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
from sklearn.metrics import average_precision_score

from roundabout.models.classifier import RiskClassifier
from roundabout.training.config import ClassifierConfig


@dataclass
class ClassifierData:
    """Inputs (`names`, in column order) of the labelled training and validation lines, with labels."""

    names: list[str]
    categorical: frozenset[str]
    X_train: np.ndarray
    y_train: np.ndarray
    X_valid: np.ndarray
    y_valid: np.ndarray
    seed: int = 0
    #: Weights of the training and validation lines (inverse propensities; None: every line 1).
    w_train: np.ndarray | None = None
    w_valid: np.ndarray | None = None

    def __post_init__(self) -> None:
        self._index = {name: i for i, name in enumerate(self.names)}

    @property
    def scorable(self) -> bool:
        """Whether the validation period can tell fits apart: it holds violations and clean inspections."""
        return 0 < float(np.sum(self.y_valid)) < len(self.y_valid)

    def train_column(self, name: str) -> np.ndarray:
        """One input's values on the training lines."""
        return self.X_train[:, self._index[name]]

    def fit(self, inputs: Sequence[str], config: ClassifierConfig) -> RiskClassifier:
        """The classifier on `inputs` (a subset of `names`), early-stopped on the validation lines."""
        cols = np.asarray([self._index[name] for name in inputs], dtype=np.intp)
        return RiskClassifier(
            params=config.lgb_params(),
            num_boost_round=config.num_boost_round,
            early_stopping_rounds=config.early_stopping_rounds,
            scale_pos_weight=config.scale_pos_weight,
            seed=self.seed,
            num_threads=config.num_threads,
            class_weight=config.class_weight,
        ).fit(
            self.X_train[:, cols],
            self.y_train,
            list(inputs),
            [name for name in inputs if name in self.categorical],
            self.X_valid[:, cols],
            self.y_valid,
            self.w_train,
            self.w_valid,
        )

    def predict(self, inputs: Sequence[str], config: ClassifierConfig) -> np.ndarray:
        """The validation lines' scores by the classifier fitted on `inputs` with `config`."""
        cols = np.asarray([self._index[name] for name in inputs], dtype=np.intp)
        return self.fit(inputs, config).raw_score(self.X_valid[:, cols])

    def score(self, inputs: Sequence[str], config: ClassifierConfig) -> float:
        """Validation average precision of the classifier on `inputs` with `config`."""
        return float(
            average_precision_score(self.y_valid, self.predict(inputs, config), sample_weight=self.w_valid)
        )
