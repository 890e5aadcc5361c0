"""The classifier fitted by LightGBM's Dask estimator (`lightgbm.dask`), for a labelled set large enough
that boosting on one machine's cores is the slow part of training.

The estimator trains one booster across the workers (each holds a share of the rows; LightGBM's own
network joins them), with the parameters `RiskClassifier` trains with. It does not support early stopping
(LightGBM issues #3712 and #4189), so the number of rounds comes from an early-stopped fit of the same
classifier on a uniform sample of the training lines, in process. What it leaves is a native booster like
any other: the model is saved, loaded and served exactly as one fitted in process.
"""

import copy
from typing import TYPE_CHECKING

import lightgbm as lgb
import numpy as np

from roundabout.models.classifier import RiskClassifier

if TYPE_CHECKING:
    from distributed import Client

#: Rows per Dask chunk of the training matrix (about 80 MB of 100 float inputs).
CHUNK_ROWS = 100_000


def fit_on_dask(
    classifier: RiskClassifier,
    client: "Client",
    X: np.ndarray,
    y: np.ndarray,
    feature_names: list[str],
    categorical: list[str],
    X_valid: np.ndarray | None,
    y_valid: np.ndarray | None,
    weight: np.ndarray | None,
    weight_valid: np.ndarray | None,
    sample_rows: int,
    chunk_rows: int = CHUNK_ROWS,
) -> RiskClassifier:
    """`classifier` fitted on every row by `lightgbm.dask`, for as many rounds as an early-stopped fit on
    `sample_rows` of them (drawn with the classifier's seed) kept; its `fitted_with` says so."""
    import dask.array as da
    from lightgbm.dask import DaskLGBMClassifier

    y = np.asarray(y, dtype="float64")
    rng = np.random.default_rng(classifier.seed)
    rows = np.sort(rng.choice(len(y), sample_rows, replace=False)) if len(y) > sample_rows else slice(None)
    probe = copy.deepcopy(classifier).fit(
        X[rows], y[rows], feature_names, categorical, X_valid, y_valid,
        None if weight is None else weight[rows], weight_valid,
    )  # fmt: skip
    rounds = max(1, probe.best_iteration_)
    params = classifier.training_params(y, weight)
    params.pop("num_threads")  # each worker boosts with its own threads
    estimator = DaskLGBMClassifier(client=client, n_estimators=rounds, **params)
    chunks = (min(chunk_rows, max(len(y), 1)), X.shape[1])
    dX = da.from_array(X, chunks=chunks)
    dy = da.from_array(y, chunks=chunks[0])
    dw = None if weight is None else da.from_array(np.asarray(weight, dtype="float64"), chunks=chunks[0])
    cats = [c for c in categorical if c in feature_names]
    estimator.fit(dX, dy, sample_weight=dw, feature_name=feature_names, categorical_feature=cats)
    classifier.booster_ = lgb.Booster(model_str=estimator.booster_.model_to_string())
    classifier.best_iteration_ = rounds
    classifier.evals_ = probe.evals_
    probed = min(len(y), sample_rows)
    classifier.fitted_with = (
        f"lightgbm.dask: {len(y):,} lines, {rounds} rounds (early stopping on {probed:,})"
    )
    return classifier
