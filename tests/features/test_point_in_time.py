"""Point-in-time: a line's features do not change when data dated on or after its day is removed."""

from datetime import date

import pandas as pd
import pytest

from roundabout.data.io import CanonicalData
from roundabout.features import FeatureArtifacts, build_features


@pytest.mark.parametrize("cut", [date(2021, 9, 1), date(2022, 2, 24), date(2022, 9, 15), date(2023, 6, 1)])
def test_features_before_a_cut_ignore_later_data(hist, cut: date) -> None:
    data = hist.random_history(2500, seed=11)
    artifacts = FeatureArtifacts().fit(data.lines, data.inspections)  # fixed, as at scoring time
    full = build_features(data, artifacts)
    when = pd.Timestamp(cut)
    lines = data.lines[data.lines["date"] < when].reset_index(drop=True)
    known = data.inspections[data.inspections["inspected_on"] < when]
    cut_data = CanonicalData(lines, known[known["line_id"].isin(lines["line_id"])].reset_index(drop=True))
    before = build_features(cut_data, artifacts)
    assert 100 < len(before) < len(full)
    pd.testing.assert_frame_equal(before, full.loc[before.index], check_exact=True)


def test_line_order_does_not_matter(hist) -> None:
    data = hist.random_history(800, seed=5)
    artifacts = FeatureArtifacts().fit(data.lines, data.inspections)
    shuffled = CanonicalData(
        data.lines.sample(frac=1.0, random_state=1).reset_index(drop=True), data.inspections
    )
    a = build_features(data, artifacts)
    b = build_features(shuffled, artifacts)
    assert list(b.index) == list(shuffled.lines["line_id"])  # rows follow the input order
    hist.assert_same_features(b, a, rtol=1e-12)
