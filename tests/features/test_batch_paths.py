"""The batch path's shortcuts (shared factorisations, distinct value combinations, remembered searches)
give what the plain definitions give, bit for bit."""

import numpy as np

from roundabout.data.io import CanonicalData
from roundabout.features import FeatureArtifacts, build_features
from roundabout.features import columns as columns_module
from roundabout.features.artifacts import PRIOR_WEIGHT
from roundabout.features.build import stateless_features
from roundabout.features.columns import columns_from_frame
from roundabout.features.history import finalize
from roundabout.features.numpy_executor import DayTable, outcome_rows, run_queries


def _assert_identical(a: np.ndarray, b: np.ndarray) -> None:
    assert a.shape == b.shape
    same = (a == b) | (np.isnan(a) & np.isnan(b))
    assert same.all(), f"{int((~same).sum())} values differ"


def test_whole_history_equals_slices_mapped_row_by_row(hist) -> None:
    """Stateless and finalize features of the whole history (through distinct values and combinations)
    equal those of slices small enough to be mapped row by row, as the online store maps one line."""
    data = hist.random_history(1500, seed=21)
    artifacts = FeatureArtifacts().fit(data.lines, data.inspections)
    full = build_features(data, artifacts)
    cols = columns_from_frame(data.lines, artifacts.extra_columns)
    line_ids = data.lines["line_id"].to_numpy(dtype=object)
    results = run_queries(cols, *outcome_rows(cols, line_ids, data.inspections))
    for start in range(0, len(line_ids), 50):
        part = slice(start, start + 50)
        small = columns_from_frame(data.lines.iloc[part], artifacts.extra_columns)
        feats = stateless_features(small, artifacts)
        feats.update(
            finalize(
                small, {k: v[part] for k, v in results.items()}, artifacts.prior_violation_rate, PRIOR_WEIGHT
            )
        )
        for name, values in feats.items():
            _assert_identical(np.asarray(values, dtype="float64"), full[name].to_numpy()[part])


def test_combination_overflow_fallback_gives_the_same_features(hist, monkeypatch) -> None:
    """Combination codes renumbered before every column give the same features."""
    data = hist.random_history(1200, seed=22)
    artifacts = FeatureArtifacts().fit(data.lines, data.inspections)
    expected = build_features(data, artifacts)
    monkeypatch.setattr(columns_module, "_KEY_LIMIT", 1)
    got = build_features(data, artifacts)
    _assert_identical(got.to_numpy(), expected.to_numpy())
    assert list(got.columns) == list(expected.columns) and list(got.index) == list(expected.index)


def test_empty_day_table() -> None:
    empty = DayTable(np.full(3, -1), np.zeros(3, dtype="int64"), {"a": np.ones(3)})
    assert len(empty.code) == 0
    assert np.isnan(empty.window_sum("a", np.array([-1]), np.array([5]), None)).all()
    np.testing.assert_array_equal(empty.window_sum("a", np.array([0, 1]), np.array([5, 6]), 30), [0.0, 0.0])


def test_window_sums_reuse_searches_only_for_the_same_points() -> None:
    table = DayTable(np.array([0, 0, 1]), np.array([10, 12, 11]), {"a": np.array([1.0, 2.0, 4.0])})
    code, day = np.array([0, 0, 1]), np.array([11, 13, 12])
    np.testing.assert_array_equal(table.window_sum("a", code, day, 30), [1.0, 3.0, 4.0])
    np.testing.assert_array_equal(table.window_sum("a", code, day, 1), [1.0, 2.0, 4.0])
    np.testing.assert_array_equal(table.window_sum("a", code, day + 1, 1), [0.0, 0.0, 0.0])
    np.testing.assert_array_equal(table.window_sum("a", code, day, None), [1.0, 3.0, 4.0])


def test_frame_is_one_float_block_in_catalogue_order(hist) -> None:
    data = hist.random_history(300, seed=23)
    artifacts = FeatureArtifacts().fit(data.lines, data.inspections)
    frame = build_features(CanonicalData(data.lines, data.inspections), artifacts)
    assert (frame.dtypes == "float64").all()
    assert list(frame.index) == list(data.lines["line_id"])
    assert frame.index.name == "line_id"
