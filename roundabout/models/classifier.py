"""The supervised part of the risk model: a LightGBM classifier of inspected lines (label: violation found).

A thin wrapper in scikit-learn's manner (configure in `__init__`, learn in `fit`) around `lightgbm.train`,
so that the native `Booster` is what is kept, saved and called: scoring goes straight to
`Booster.predict` on a 2-D float array, with no sklearn wrapper and no DataFrame on the way. Early
stopping watches the average precision on the validation period; class imbalance (violations are a few
percent of inspections) is handled by a weight of violations (`class_weight`: negatives / positives, its
square root, or none; or a `scale_pos_weight` given outright). That
weight distorts probabilities, which is fine: the fusion step calibrates the raw score afterwards.
Categorical features (fitted level codes) are declared to LightGBM as categorical.

One line at a time (`raw_score_one`, `contributions_one`), the classifier skips `Booster.predict`, whose
Python side (a predictor object, input checks, a parameter string parsed in C++) costs several times the
trees of one row, and calls LightGBM's single-row fast path of the C API instead
(`LGBM_BoosterPredictForMatSingleRowFast*`, see `_SingleRowBooster`). Same trees, same native row
reader (NaN is missing, as in `Booster.predict`), same numbers.
"""

import ctypes
import threading
import weakref
from pathlib import Path
from typing import Any, Self

import lightgbm as lgb
import numpy as np
from lightgbm.basic import _LIB, _safe_call

from roundabout.errors import ConfigError

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


def positive_weight(class_weight: str, negatives: float, positives: float) -> float:
    """The weight of a violation: `balanced` evens the classes out, `sqrt` halfway (in log terms), `none`
    leaves them as they are (often best at the top of the ranking, which is what inspections use)."""
    if class_weight == "balanced":
        return negatives / positives
    if class_weight == "sqrt":
        return float(np.sqrt(negatives / positives))
    if class_weight == "none":
        return 1.0
    raise ValueError(f"class_weight must be balanced, sqrt or none, not {class_weight!r}")


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
        class_weight: str = "balanced",
    ) -> None:
        self.params = {**DEFAULT_PARAMS, **(params or {})}
        self.num_boost_round = num_boost_round
        self.early_stopping_rounds = early_stopping_rounds
        self.scale_pos_weight = scale_pos_weight
        self.class_weight = class_weight
        self.seed = seed
        self.num_threads = num_threads
        self.booster_: lgb.Booster | None = None
        self.best_iteration_: int = 0
        self.evals_: dict[str, list[float]] = {}
        #: How the booster was fitted, when not by `fit` in this process (`dask_classifier.py`).
        self.fitted_with: str | None = None
        # The single-row fast path, built on first use; never pickled.
        self._single_row: _SingleRowBooster | None = None

    def __getstate__(self) -> dict[str, Any]:
        state = self.__dict__.copy()
        state.pop("_single_row", None)
        return state

    def __setstate__(self, state: dict[str, Any]) -> None:
        self.__dict__.update(state)
        self.__dict__.setdefault("fitted_with", None)
        self._single_row = None

    def fit(
        self,
        X: np.ndarray,
        y: np.ndarray,
        feature_names: list[str],
        categorical: list[str],
        X_valid: np.ndarray | None = None,
        y_valid: np.ndarray | None = None,
        weight: np.ndarray | None = None,
        weight_valid: np.ndarray | None = None,
    ) -> Self:
        """Train; with a validation set, stop when its average precision has not improved for a while.
        `weight` and `weight_valid` weigh lines (inverse propensities); the class balance is then taken
        over the weighted counts."""
        y = np.asarray(y, dtype="float64")
        params = self.training_params(y, weight)
        cats = [c for c in categorical if c in feature_names]
        train = lgb.Dataset(
            X, label=y, weight=weight, feature_name=feature_names, categorical_feature=cats,
            free_raw_data=False,
        )  # fmt: skip
        sets, names = [train], ["train"]
        callbacks: list[Any] = [lgb.record_evaluation(self.evals_)]
        has_valid = X_valid is not None and y_valid is not None and 0 < np.sum(y_valid) < len(y_valid)
        if has_valid:
            valid = lgb.Dataset(
                X_valid, label=np.asarray(y_valid, dtype="float64"), weight=weight_valid, reference=train
            )
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

    def training_params(self, y: np.ndarray, weight: np.ndarray | None) -> dict[str, Any]:
        """LightGBM's parameters for labels `y` (weighted by `weight`): the configured ones, the weight of
        violations, the metrics early stopping watches, the seed."""
        positives = float(y.sum())
        if positives == 0 or positives == len(y):
            raise ConfigError(
                "the training period's inspections need both violations and clean ones: train on a longer "
                "history or give the split a longer training period"
            )
        w = np.ones(len(y)) if weight is None else np.asarray(weight, dtype="float64")
        weighted_pos = float(w @ y)
        spw = self.scale_pos_weight or positive_weight(
            self.class_weight, float(w.sum()) - weighted_pos, weighted_pos
        )
        return {
            **self.params,
            "scale_pos_weight": spw,
            "metric": ["average_precision", "binary_logloss"],
            "seed": self.seed,
            "deterministic": True,
            "num_threads": self.num_threads,
            "verbosity": -1,
        }

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

    def raw_score_one(self, x: np.ndarray) -> float:
        """`raw_score` of one row (1-D, one value per feature) through the C API single-row fast path."""
        return float(self._single_row_predictor(_PREDICT_RAW_SCORE).predict(x)[0])

    def contributions_one(self, x: np.ndarray) -> np.ndarray:
        """`contributions` of one row (1-D): an array of features + 1 values, the bias last."""
        return self._single_row_predictor(_PREDICT_CONTRIB).predict(x)

    def _single_row_predictor(self, predict_type: int) -> "_SingleRowPredictor":
        booster = self.booster
        single_row = self._single_row
        if single_row is None or single_row.source is not booster:
            with _BUILD_LOCK:
                if self._single_row is None or self._single_row.source is not booster:
                    self._single_row = _SingleRowBooster(booster)
                single_row = self._single_row
        return single_row.predictor(predict_type)

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


# The single-row fast path of LightGBM's C API (c_api.h), called with lightgbm's own loaded library.
# Own ctypes prototypes (not attributes of `_LIB`, which lightgbm shares): pointer arguments as void*, and
# the GIL released during the call, as for any CFUNCTYPE function.
_PREDICT_RAW_SCORE = 1  # C_API_PREDICT_RAW_SCORE
_PREDICT_CONTRIB = 3  # C_API_PREDICT_CONTRIB
_DTYPE_FLOAT64 = 1  # C_API_DTYPE_FLOAT64
#: What `Booster.predict(..., num_threads=1)` passed. The fast predictions run in the calling thread
#: whatever it says; FastInit only sets LightGBM's process-wide default thread count with it, once per
#: config, where the old path set it at every call (every predict call sets it from its own parameters).
_FAST_PARAMETERS = b"num_threads=1"

_c_int, _c_void_p = ctypes.c_int, ctypes.c_void_p
# int LGBM_BoosterPredictForMatSingleRowFastInit(BoosterHandle handle, const int predict_type,
#     const int start_iteration, const int num_iteration, const int data_type, const int32_t ncol,
#     const char* parameter, FastConfigHandle* out_fastConfig)
_fast_init = ctypes.CFUNCTYPE(
    _c_int, _c_void_p, _c_int, _c_int, _c_int, _c_int, ctypes.c_int32, ctypes.c_char_p, _c_void_p
)(("LGBM_BoosterPredictForMatSingleRowFastInit", _LIB))
# int LGBM_BoosterPredictForMatSingleRowFast(FastConfigHandle fastConfig_handle, const void* data,
#     int64_t* out_len, double* out_result)
_fast_predict = ctypes.CFUNCTYPE(_c_int, _c_void_p, _c_void_p, _c_void_p, _c_void_p)(
    ("LGBM_BoosterPredictForMatSingleRowFast", _LIB)
)
# int LGBM_FastConfigFree(FastConfigHandle fastConfig)
_fast_free = ctypes.CFUNCTYPE(_c_int, _c_void_p)(("LGBM_FastConfigFree", _LIB))
# int LGBM_BoosterCalcNumPredict(BoosterHandle handle, int num_row, int predict_type, int start_iteration,
#     int num_iteration, int64_t* out_len)
_calc_num_predict = ctypes.CFUNCTYPE(_c_int, _c_void_p, _c_int, _c_int, _c_int, _c_int, _c_void_p)(
    ("LGBM_BoosterCalcNumPredict", _LIB)
)

_BUILD_LOCK = threading.Lock()


class _FastConfig:
    """One LightGBM FastConfig with its own input and output buffers; used by one thread at a time."""

    __slots__ = ("__weakref__", "handle", "out", "out_addr", "out_len", "out_len_addr", "row", "row_addr")

    def __init__(self, booster: lgb.Booster, predict_type: int, num_feature: int, num_pred: int) -> None:
        handle = ctypes.c_void_p()
        # The whole booster (start 0, no iteration limit), float64 rows of num_feature values.
        ret = _fast_init(
            booster._handle, predict_type, 0, -1, _DTYPE_FLOAT64, num_feature, _FAST_PARAMETERS,
            ctypes.addressof(handle),
        )  # fmt: skip
        _safe_call(ret)
        self.handle = handle
        # Free the native object with this one; the finalizer holds the booster, so it outlives the config.
        # Not at interpreter exit: a daemon thread could still be inside a prediction then.
        weakref.finalize(self, _free_fast_config, handle, booster).atexit = False
        self.row = np.empty(num_feature, dtype=np.float64)
        self.out = np.empty(num_pred, dtype=np.float64)
        self.out_len = ctypes.c_int64(0)
        self.row_addr = self.row.ctypes.data
        self.out_addr = self.out.ctypes.data
        self.out_len_addr = ctypes.addressof(self.out_len)


def _free_fast_config(handle: ctypes.c_void_p, booster: lgb.Booster) -> None:
    """Finalizer of a `_FastConfig`; `booster`, an argument only, keeps the booster alive until then."""
    _safe_call(_fast_free(handle))


class _SingleRowBooster:
    """The single-row fast path of one booster: a private native copy of it, one predictor per type.

    - Same numbers as `Booster.predict`: the copy holds the trees `predict` uses by default (the best
      iteration when the booster has one, else all) and is used whole; the rows go through the same native
      dense-row reader (NaN is a missing value).
    - A private copy because, in LightGBM 4.7, a predictor's iteration range is written into the booster it
      was made from (lightgbm-org/LightGBM#6142, #4980): a `predict(num_iteration=k)` on the shared booster
      would silently change what a FastConfig on it computes. Nothing else ever predicts with the copy.
    - Native objects are freed when this object and the configs in use are garbage collected.
    """

    def __init__(self, source: lgb.Booster) -> None:
        self.source = source
        self.booster = lgb.Booster(model_str=source.model_to_string())
        self.num_feature = self.booster.num_feature()
        self._predictors: dict[int, _SingleRowPredictor] = {}

    def predictor(self, predict_type: int) -> "_SingleRowPredictor":
        predictor = self._predictors.get(predict_type)
        if predictor is None:
            with _BUILD_LOCK:
                predictor = self._predictors.get(predict_type)
                if predictor is None:
                    predictor = _SingleRowPredictor(self.booster, self.num_feature, predict_type)
                    self._predictors[predict_type] = predictor
        return predictor


class _SingleRowPredictor:
    """One prediction type through `LGBM_BoosterPredictForMatSingleRowFast`, safe from many threads.

    A FastConfig (its predictor buffers) serves one call at a time (LightGBM locks it since #6024), so
    calls take one from a free list (list pop/append are atomic) and make a new one when all are busy:
    as many configs as the peak of concurrent calls, none waiting for another, the GIL released inside
    LightGBM.
    """

    def __init__(self, booster: lgb.Booster, num_feature: int, predict_type: int) -> None:
        self.booster = booster
        self.num_feature = num_feature
        self.predict_type = predict_type
        num_pred = ctypes.c_int64(0)
        _safe_call(_calc_num_predict(booster._handle, 1, predict_type, 0, -1, ctypes.addressof(num_pred)))
        self.num_pred = num_pred.value
        if predict_type == _PREDICT_RAW_SCORE and self.num_pred != 1:
            raise ValueError(f"one raw score per row expected, the model gives {self.num_pred}")
        self._shape = (num_feature,)
        self._free: list[_FastConfig] = []

    def predict(self, x: np.ndarray) -> np.ndarray:
        """Prediction of one row (1-D array of `num_feature` values) as a new 1-D float64 array."""
        x = np.asarray(x)
        if x.shape != self._shape:
            raise ValueError(f"expected one row of {self.num_feature} features, got shape {x.shape}")
        try:
            config = self._free.pop()
        except IndexError:
            config = _FastConfig(self.booster, self.predict_type, self.num_feature, self.num_pred)
        try:
            np.copyto(config.row, x)  # contiguous float64 whatever x is
            ret = _fast_predict(config.handle, config.row_addr, config.out_len_addr, config.out_addr)
            if ret != 0:
                _safe_call(ret)
            if config.out_len.value != self.num_pred:
                raise lgb.basic.LightGBMError(
                    f"LightGBM returned {config.out_len.value} values, {self.num_pred} expected"
                )
            return config.out.copy()
        finally:
            self._free.append(config)
