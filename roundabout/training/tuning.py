"""Tuning the classifier's settings on the validation period, within a time budget (Optuna).

Fixed settings that suit one administration's table lose points on another's: how much violations are
weighted, how big the trees are, how fast they learn, how categories are smoothed. A Tree-structured Parzen
Estimator (Optuna's `TPESampler`, seeded) searches them; its first trial is the configuration as given,
and the best trial replaces it only when its validation ranking is better beyond chance: the best of
thirty noisy tries always looks better than the first. Each trial is reported (`on_trial`; the
training job makes it an MLflow child run). The chosen settings are plain `ClassifierConfig` values: the
run's `chosen.yaml` reproduces the model without searching again.
"""

import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import optuna

from roundabout.training.config import ClassifierConfig
from roundabout.training.significance import Gain, average_precision, paired_gain

#: Trial number, settings tried, validation score, seconds it took.
TrialReport = Callable[[int, dict[str, Any], float, float], None]


@dataclass
class Tuning:
    """The chosen settings and what the search saw."""

    chosen: ClassifierConfig
    score_given: float
    score_best: float
    trials: int
    trace: list[dict[str, Any]] = field(default_factory=list)
    #: The best trial's gain over the given settings, and whether it was enough to take them.
    gain: Gain | None = None
    taken: bool = False

    def to_dict(self) -> dict[str, object]:
        return {
            "chosen": self.chosen.model_dump(mode="json"),
            "score_given": self.score_given,
            "score_best": self.score_best,
            "best_gain": self.gain.to_dict() if self.gain else None,
            "taken": self.taken,
            "trials": self.trials,
            "trace": self.trace,
        }


#: The settings searched (the rest of `ClassifierConfig` stays as given).
SEARCHED = (
    "learning_rate",
    "num_leaves",
    "min_data_in_leaf",
    "feature_fraction",
    "bagging_fraction",
    "lambda_l2",
    "class_weight",
    "cat_smooth",
    "min_data_per_group",
)


def leaf_bound(positives: int) -> int:
    """The most training lines a leaf may be made to hold: enough that a pattern seen in an eighth of the
    violations can still have a leaf of its own. A bigger floor fits the common cases of the labels better
    and loses the rare schemes (with 200 violations, leaves of 150 lines lost a tenth of the recall)."""
    return max(10, positives // 8)


def _suggest(trial: optuna.Trial, most_in_leaf: int = 200) -> dict[str, Any]:
    """The search space: what matters on tabular declaration data, within plausible bounds."""
    return {
        "learning_rate": trial.suggest_float("learning_rate", 0.01, 0.2, log=True),
        "num_leaves": trial.suggest_int("num_leaves", 7, 255, log=True),
        "min_data_in_leaf": trial.suggest_int(
            "min_data_in_leaf", 5, max(6, min(200, most_in_leaf)), log=True
        ),
        "feature_fraction": trial.suggest_float("feature_fraction", 0.4, 1.0),
        "bagging_fraction": trial.suggest_float("bagging_fraction", 0.5, 1.0),
        "lambda_l2": trial.suggest_float("lambda_l2", 1e-3, 30.0, log=True),
        "class_weight": trial.suggest_categorical("class_weight", ["balanced", "sqrt", "none"]),
        "cat_smooth": trial.suggest_float("cat_smooth", 1.0, 100.0, log=True),
        "min_data_per_group": trial.suggest_int("min_data_per_group", 5, 200, log=True),
    }


def tune(
    given: ClassifierConfig,
    predict: Callable[[ClassifierConfig], np.ndarray],
    y: np.ndarray,
    deadline: float,
    max_trials: int,
    seed: int,
    min_gain: float,
    on_trial: TrialReport | None = None,
    most_in_leaf: int = 200,
) -> Tuning:
    """Search settings until `deadline` (`time.monotonic()`) or `max_trials`; `predict(config)` fits the
    classifier with a config and returns its scores of the validation lines (labels `y`). The best trial
    replaces the given settings only when it is better beyond chance (`significance.py`)."""
    optuna.logging.set_verbosity(optuna.logging.WARNING)
    study = optuna.create_study(direction="maximize", sampler=optuna.samplers.TPESampler(seed=seed))
    fields = given.model_dump()
    study.enqueue_trial({name: fields[name] for name in SEARCHED}, skip_if_exists=True)
    trace: list[dict[str, Any]] = []
    preds: dict[int, np.ndarray] = {}

    def objective(trial: optuna.Trial) -> float:
        settings = _suggest(trial, most_in_leaf)
        started = time.monotonic()
        preds[trial.number] = predict(given.model_copy(update=settings))
        value = average_precision(y, preds[trial.number])
        seconds = time.monotonic() - started
        trace.append({"trial": trial.number, **settings, "score": value, "seconds": round(seconds, 3)})
        if on_trial is not None:
            on_trial(trial.number, settings, value, seconds)
        return value

    study.optimize(objective, n_trials=max_trials, timeout=max(0.0, deadline - time.monotonic()))
    best = study.best_trial
    gain = paired_gain(y, preds[best.number], preds[0], seed)
    taken = best.number != 0 and gain.beats(min_gain, 2.0)
    chosen = given.model_copy(update=best.params) if taken else given
    return Tuning(chosen, trace[0]["score"], float(best.value), len(trace), trace, gain, taken)
