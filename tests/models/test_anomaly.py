"""The exported isolation forest scores exactly like scikit-learn's, one row or many, after a save/load."""

from pathlib import Path

import numpy as np
import pytest

from roundabout.models import anomaly as anomaly_module
from roundabout.models.anomaly import AnomalyDetector


@pytest.fixture(scope="module")
def data() -> np.ndarray:
    rng = np.random.default_rng(0)
    X = rng.normal(size=(3000, 12))
    X[:, 3] = rng.integers(0, 3, 3000)  # ties and few distinct values
    X[:, 5] = np.exp(rng.normal(size=3000) * 3)  # heavy tail
    X[rng.random(X.shape) < 0.1] = np.nan
    X[0, 2] = np.inf
    return X


def test_batch_scores_equal_sklearn(data: np.ndarray) -> None:
    detector = AnomalyDetector(n_estimators=100, max_samples=256, random_state=3).fit(data)
    expected = detector.forest_.score_samples(detector.impute(data))
    np.testing.assert_allclose(detector.score_samples(data), expected, rtol=0, atol=1e-9)
    np.testing.assert_allclose(detector.anomaly_score(data), -expected, rtol=0, atol=1e-9)


def test_single_row_scores_equal_sklearn(data: np.ndarray) -> None:
    detector = AnomalyDetector(n_estimators=100, random_state=4).fit(data)
    expected = -detector.forest_.score_samples(detector.impute(data[:200]))
    got = np.array([detector.anomaly_score_one(row) for row in data[:200]])
    np.testing.assert_allclose(got, expected, rtol=0, atol=1e-9)


def test_feature_subsampling_is_mapped_back(data: np.ndarray) -> None:
    """With max_features < 1 each tree sees a subset of columns; exported features must point at real ones."""
    detector = AnomalyDetector(n_estimators=30, random_state=5, max_features=0.5).fit(data)
    assert any(list(f) != sorted(f) for f in detector.forest_.estimators_features_)
    expected = detector.forest_.score_samples(detector.impute(data))
    np.testing.assert_allclose(detector.score_samples(data), expected, rtol=0, atol=1e-9)


def test_save_load_round_trip(tmp_path: Path, data: np.ndarray) -> None:
    detector = AnomalyDetector(n_estimators=40, random_state=6).fit(data)
    detector.save(tmp_path / "a.npz")
    loaded = AnomalyDetector.load(tmp_path / "a.npz")
    np.testing.assert_array_equal(loaded.score_samples(data), detector.score_samples(data))
    assert loaded.anomaly_score_one(data[7]) == detector.anomaly_score_one(data[7])


def test_outliers_score_higher(data: np.ndarray) -> None:
    clean = np.nan_to_num(data[:, :2], posinf=0.0)
    detector = AnomalyDetector(n_estimators=100, random_state=7).fit(clean)
    assert detector.anomaly_score_one(np.array([8.0, -8.0])) > detector.anomaly_score_one(
        np.array([0.0, 0.0])
    )


def test_rows_on_thresholds_and_one_leaf_trees_equal_sklearn() -> None:
    """Inputs equal to a split threshold (and one float32 step either side) route like sklearn's trees;
    trees whose sample is one repeated row are a single leaf."""
    rng = np.random.default_rng(1)
    X = rng.integers(0, 3, size=(400, 4)).astype("float64")
    X[:, 3] = rng.normal(size=400)
    X[:300] = X[0]  # most 2-row samples are one repeated row
    detector = AnomalyDetector(n_estimators=60, max_samples=2, random_state=8).fit(X)
    assert any(e.tree_.node_count == 1 for e in detector.forest_.estimators_)
    trees = [e.tree_ for e in detector.forest_.estimators_]
    cut = np.concatenate([t.threshold[t.children_left != -1] for t in trees]).astype(np.float32)
    near = np.concatenate(
        [cut, np.nextafter(cut, np.float32(np.inf)), np.nextafter(cut, np.float32(-np.inf))]
    )
    rows = np.tile(X[:1], (len(near), 1))
    rows[np.arange(len(near)), rng.integers(0, 4, len(near))] = near
    rows = np.vstack([rows, X])
    expected = detector.forest_.score_samples(detector.impute(rows))
    np.testing.assert_allclose(detector.score_samples(rows), expected, rtol=0, atol=1e-9)
    one = np.array([detector.anomaly_score_one(r) for r in rows[:300]])
    np.testing.assert_allclose(one, -expected[:300], rtol=0, atol=1e-9)


def test_threads_and_chunks_do_not_change_scores(data: np.ndarray, monkeypatch: pytest.MonkeyPatch) -> None:
    """Rows split into chunks walked by several threads: the same numbers bit for bit (each row's path
    lengths are added tree by tree in the same order), and still sklearn's."""
    detector = AnomalyDetector(n_estimators=60, random_state=9).fit(data)
    one_chunk = detector.score_samples(data, workers=1)
    np.testing.assert_allclose(
        one_chunk, detector.forest_.score_samples(detector.impute(data)), rtol=0, atol=1e-9
    )
    monkeypatch.setattr(anomaly_module, "CHUNK_ROWS", 128)  # 3000 rows: 24 chunks, the last one partial
    for workers in (None, 1, 2, 3, 64):
        np.testing.assert_array_equal(detector.score_samples(data, workers=workers), one_chunk)
    np.testing.assert_array_equal(detector.anomaly_score(data, workers=2), -one_chunk)


def test_columns_are_picked_per_chunk(data: np.ndarray, monkeypatch: pytest.MonkeyPatch) -> None:
    """`columns=` scores X[:, columns] without the copy, whatever X's layout or dtype."""
    cols = np.array([1, 4, 5, 7, 3])
    detector = AnomalyDetector(n_estimators=40, random_state=10).fit(data[:, cols])
    expected = detector.score_samples(np.ascontiguousarray(data[:, cols]), workers=1)
    monkeypatch.setattr(anomaly_module, "CHUNK_ROWS", 100)
    np.testing.assert_array_equal(detector.score_samples(data, columns=cols, workers=2), expected)
    np.testing.assert_array_equal(detector.score_samples(np.asfortranarray(data), columns=cols), expected)
    np.testing.assert_array_equal(detector.score_samples(data, columns=list(cols - 12)), expected)  # negative
    narrow = data.astype(np.float32)
    np.testing.assert_array_equal(
        detector.score_samples(narrow, columns=cols), detector.score_samples(narrow[:, cols])
    )
    np.testing.assert_allclose(
        detector.score_samples(narrow, columns=cols),
        detector.forest_.score_samples(detector.impute(narrow[:, cols])),
        rtol=0,
        atol=1e-9,
    )


def test_batch_edge_shapes(data: np.ndarray) -> None:
    detector = AnomalyDetector(n_estimators=20, random_state=11).fit(data)
    assert detector.score_samples(np.empty((0, 12))).shape == (0,)
    np.testing.assert_array_equal(detector.score_samples(data[5]), detector.score_samples(data[5:6]))
    with pytest.raises(ValueError, match="12 anomaly inputs"):
        detector.score_samples(data[:, :11])
    with pytest.raises(ValueError, match="12 anomaly inputs"):
        detector.score_samples(data, columns=[0, 1])
