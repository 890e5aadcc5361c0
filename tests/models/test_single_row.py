"""The classifier's single-row fast path (LightGBM C API) gives exactly `Booster.predict`'s numbers."""

import copy
import gc
import pickle
import threading
import weakref
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import lightgbm as lgb
import numpy as np
import pytest

from roundabout.models import classifier as classifier_module
from roundabout.models.classifier import RiskClassifier
from roundabout.models.persistence import CLASSIFIER_FILE
from roundabout.training.fit import Fitted
from roundabout.training.split import Split


def _rows(split: Split, fitted: Fitted) -> np.ndarray:
    """Holdout rows, the same rows with a quarter of their values missing, and edge rows."""
    model = fitted.model
    X = model.matrix(fitted.features[split.holdout], split.data.lines[split.holdout])[:1000]
    rng = np.random.default_rng(5)
    holes = X.copy()
    holes[rng.random(holes.shape) < 0.25] = np.nan
    n = X.shape[1]
    edge = np.array([np.full(n, np.nan), np.zeros(n), np.full(n, -1.0), np.full(n, 1e9)])
    return np.ascontiguousarray(np.vstack([X, holes, edge]))


def _sequential(classifier: RiskClassifier, X: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    raw = np.array([classifier.raw_score_one(x) for x in X])
    contrib = np.array([classifier.contributions_one(x) for x in X])
    return raw, contrib


def _small_booster(best_iteration: int) -> lgb.Booster:
    rng = np.random.default_rng(0)
    X = rng.normal(size=(400, 5))
    X[rng.random(X.shape) < 0.1] = np.nan
    y = (np.nan_to_num(X[:, 0]) + rng.normal(size=400) > 0).astype(float)
    params = {"objective": "binary", "num_leaves": 7, "verbosity": -1, "num_threads": 1, "seed": 0}
    booster = lgb.train(params, lgb.Dataset(X, label=y), num_boost_round=30)
    booster.best_iteration = best_iteration
    return booster


def test_equals_booster_predict(split: Split, fitted: Fitted) -> None:
    classifier = fitted.model.classifier
    booster = classifier.booster
    X = _rows(split, fitted)
    assert np.isnan(X).any()
    raw, contrib = _sequential(classifier, X)
    np.testing.assert_array_equal(raw, booster.predict(X, raw_score=True))
    np.testing.assert_array_equal(contrib, booster.predict(X, pred_contrib=True))
    assert contrib.shape == (len(X), booster.num_feature() + 1)
    # ... and the old single-row call, one thread, row by row
    for x, r, c in zip(X[::50], raw[::50], contrib[::50], strict=True):
        assert r == booster.predict(x.reshape(1, -1), raw_score=True, num_threads=1)[0]
        np.testing.assert_array_equal(
            c, booster.predict(x.reshape(1, -1), pred_contrib=True, num_threads=1)[0]
        )


def test_any_row_layout_and_bad_shapes(split: Split, fitted: Fitted) -> None:
    classifier = fitted.model.classifier
    X = _rows(split, fitted)[:20]
    expected = classifier.booster.predict(X, raw_score=True)
    strided = np.asfortranarray(X)  # rows are non-contiguous views
    assert [classifier.raw_score_one(x) for x in strided] == list(expected)
    assert [classifier.raw_score_one(x.astype(np.float32)) for x in X] == list(
        classifier.booster.predict(X.astype(np.float32), raw_score=True)
    )
    with pytest.raises(ValueError, match="features"):
        classifier.raw_score_one(X[0][:-1])
    with pytest.raises(ValueError, match="features"):
        classifier.contributions_one(X[:2])
    with pytest.raises(ValueError, match="features"):
        classifier.raw_score_one(np.float64(1.0))


def test_default_iterations_and_other_predicts() -> None:
    """The trees Booster.predict uses by default (best iteration), whatever else predicts meanwhile."""
    booster = _small_booster(best_iteration=10)
    classifier = RiskClassifier()
    classifier.booster_ = booster
    X = np.ascontiguousarray(np.random.default_rng(1).normal(size=(200, 5)))
    X[::7, 2] = np.nan
    expected = booster.predict(X, raw_score=True)
    assert not np.array_equal(expected, booster.predict(X, raw_score=True, num_iteration=30))
    raw, contrib = _sequential(classifier, X)
    np.testing.assert_array_equal(raw, expected)
    np.testing.assert_array_equal(contrib, booster.predict(X, pred_contrib=True))
    # In LightGBM 4.7 a predict with another iteration range rewrites the range of the booster it runs on;
    # the fast path has its own copy of the booster, so it keeps its numbers.
    booster.predict(X, raw_score=True, num_iteration=3)
    booster.predict(X, pred_contrib=True, start_iteration=2, num_iteration=4)
    np.testing.assert_array_equal(_sequential(classifier, X)[0], expected)
    # A new booster (refit, load) gets a new fast path.
    classifier.booster_ = _small_booster(best_iteration=-1)
    np.testing.assert_array_equal(
        _sequential(classifier, X)[0], classifier.booster_.predict(X, raw_score=True)
    )


def test_threads_agree_with_sequential(split: Split, fitted: Fitted, model_dir: Path) -> None:
    X = _rows(split, fitted)
    expected_raw, expected_contrib = _sequential(fitted.model.classifier, X)
    classifier = RiskClassifier.load(model_dir / CLASSIFIER_FILE)  # fresh: the lazy build races too
    n_threads = 8
    start = threading.Barrier(n_threads)

    def work(seed: int) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        order = np.random.default_rng(seed).permutation(len(X))
        start.wait()
        raw = np.empty(len(X))
        contrib = np.empty_like(expected_contrib)
        for i in order:
            raw[i] = classifier.raw_score_one(X[i])
            contrib[i] = classifier.contributions_one(X[i])
            if i % 97 == 0:  # other predictions on the same booster, with another iteration range
                classifier.booster.predict(X[i : i + 1], raw_score=True, num_iteration=1)
        return order, raw, contrib

    with ThreadPoolExecutor(n_threads) as pool:
        results = list(pool.map(work, range(n_threads)))
    for _, raw, contrib in results:
        np.testing.assert_array_equal(raw, expected_raw)
        np.testing.assert_array_equal(contrib, expected_contrib)
    predictors = classifier._single_row._predictors
    assert 1 <= len(predictors[classifier_module._PREDICT_RAW_SCORE]._free) <= n_threads


def test_not_pickled_and_freed(
    split: Split, fitted: Fitted, model_dir: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    freed: list[object] = []
    real_free = classifier_module._fast_free

    def free(handle: object) -> int:
        freed.append(handle)
        return real_free(handle)

    monkeypatch.setattr(classifier_module, "_fast_free", free)
    X = _rows(split, fitted)[:30]
    classifier = RiskClassifier.load(model_dir / CLASSIFIER_FILE)
    assert classifier._single_row is None  # nothing built before the first call
    raw, contrib = _sequential(classifier, X)
    assert "_single_row" not in classifier.__getstate__()
    for other in (pickle.loads(pickle.dumps(classifier)), copy.deepcopy(classifier)):
        assert other._single_row is None
        other_raw, other_contrib = _sequential(other, X)
        np.testing.assert_array_equal(other_raw, raw)
        np.testing.assert_array_equal(other_contrib, contrib)
    del other
    gc.collect()
    assert len(freed) == 4  # the copies' FastConfigs, one per prediction type each
    config = weakref.ref(classifier._single_row._predictors[classifier_module._PREDICT_CONTRIB]._free[0])
    del classifier
    gc.collect()
    assert config() is None
    assert len(freed) == 6


def test_score_one_from_threads(split: Split, fitted: Fitted) -> None:
    model = fitted.model
    lines = split.data.lines[split.holdout].head(60).reset_index(drop=True)
    features = fitted.features[split.holdout].head(60)[fitted.model.base_features].to_numpy(dtype="float64")
    records = lines.to_dict("records")
    sequential = [model.score_one(features[i], records[i]) for i in range(60)]

    def work(seed: int) -> list[tuple[int, object]]:
        order = np.random.default_rng(seed).permutation(60)
        return [(int(i), model.score_one(features[i], records[i])) for i in order]

    with ThreadPoolExecutor(6) as pool:
        for result in pool.map(work, range(6)):
            assert all(score == sequential[i] for i, score in result)
