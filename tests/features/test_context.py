"""The context family: how unlike lines of the same commodity a line is (Witten-Bell surprise, ratio z's)."""

from datetime import date, timedelta

import numpy as np
import pytest

from roundabout.features import FeatureArtifacts, build_features
from roundabout.features.columns import columns_from_frame, columns_from_records
from roundabout.features.context import context_features
from roundabout.features.context_tables import MIN_CONTEXT_LINES
from tests.support.histories import data_of, line

START = date(2023, 1, 2)


def _training(n: int = 40) -> list[dict]:
    """Code 854231 always from DE by road; code 847150 from six origins; both through office 55201."""
    rows = []
    for i in range(n):
        day = START + timedelta(days=i)
        rows.append(line(f"c{i}", day, hs_code="8542310000", origin_country="DE"))
        origin = ["DE", "CN", "US", "JP", "KR", "TW"][i % 6]
        rows.append(line(f"m{i}", day, hs_code="8471500000", origin_country=origin, dispatch_country=origin))
    return rows


def _features(train: list[dict], later: list[dict]):
    data = data_of(train + later)
    artifacts = FeatureArtifacts().fit(data_of(train).lines)
    return build_features(data, artifacts), artifacts


def test_a_value_never_seen_with_a_code_that_always_came_one_way_is_the_most_surprising() -> None:
    later_day = START + timedelta(days=100)
    later = [
        line("usual", later_day, hs_code="8542310000", origin_country="DE"),
        line("new_for_chips", later_day, hs_code="8542310000", origin_country="AU"),
        line("new_for_computers", later_day, hs_code="8471500000", origin_country="AU"),
    ]
    feats, _ = _features(_training(), later)
    s = feats["origin_surprise"]
    assert s["usual"] < 0.2, "the one origin a code always has is no surprise"
    assert s["new_for_chips"] > s["new_for_computers"] > s["usual"], (
        "unseen with a code that always came from one origin is rarer than unseen with a varied one"
    )
    assert feats.loc["new_for_chips", "route_surprise"] > feats.loc["usual", "route_surprise"]


def test_a_training_line_is_judged_with_itself_left_out() -> None:
    """The one AU line of the training period is as surprising as a later AU line would be had the training
    period not held it: counting itself, it would look seen, and the detector would learn that such lines
    are ordinary."""
    au = line("au_in_training", START + timedelta(days=5), hs_code="8542310000", origin_country="AU")
    with_it, _ = _features([*_training(), au], [])
    later = [line("au_later", START + timedelta(days=100), hs_code="8542310000", origin_country="AU")]
    without_it, _ = _features(_training(), later)
    assert with_it.loc["au_in_training", "origin_surprise"] == pytest.approx(
        without_it.loc["au_later", "origin_surprise"], rel=0.05
    )
    assert with_it.loc["au_in_training", "origin_surprise"] > 5.0


def test_a_sparse_code_backs_off_to_its_heading() -> None:
    """Fewer than MIN_CONTEXT_LINES lines of an HS6 give it no table: its lines are judged by the heading."""
    train = _training()
    train += [
        line(f"s{i}", START + timedelta(days=i), hs_code="8542390000", origin_country="CN")
        for i in range(MIN_CONTEXT_LINES - 1)
    ]
    later_day = START + timedelta(days=100)
    later = [line("sparse_de", later_day, hs_code="8542390000", origin_country="DE")]
    feats, artifacts = _features(train, later)
    counts = artifacts.lookup()["context"]["counts"]["origin"]
    assert "import|854239" not in counts["hs6"] and "import|8542" in counts["hs4"]
    assert feats.loc["sparse_de", "origin_surprise"] < 1.0, "DE is the heading's usual origin"


def test_ratio_z_is_signed_and_judged_against_the_code() -> None:
    later_day = START + timedelta(days=100)
    later = [
        line("packed", later_day, gross_mass_kg=60.0),  # gross 6x net instead of 1.2x
        line("few_units", later_day, quantity=1.0),  # 0.1 units per kg instead of 10
        line("usual", later_day),
    ]
    train = _training()
    for i, row in enumerate(train):  # some spread so the scale is the data's, not the floor
        row["gross_mass_kg"] = 12.0 * (1 + 0.02 * (i % 5))
        row["quantity"] = 100.0 * (1 + 0.05 * (i % 7))
    feats, _ = _features(train, later)
    assert feats.loc["packed", "gross_net_z"] > 10
    assert feats.loc["few_units", "qty_per_kg_z"] < -10
    assert abs(feats.loc["usual", "gross_net_z"]) < 2 and abs(feats.loc["usual", "qty_per_kg_z"]) < 2


def test_artifacts_fitted_before_the_family_give_nan() -> None:
    data = data_of(_training())
    artifacts = FeatureArtifacts().fit(data.lines)
    out = context_features(columns_from_frame(data.lines), None)
    assert all(np.isnan(v).all() for v in out.values())
    assert artifacts.lookup()["context"] is not None


def test_one_line_and_the_whole_frame_give_the_same_values() -> None:
    """The online path (records) runs the same definitions as the batch path (frame)."""
    rows = [*_training(), line("x", START + timedelta(days=100), hs_code="8542310000", origin_country="AU")]
    data = data_of(rows)
    tables = FeatureArtifacts().fit(data.lines).lookup()["context"]
    batch = context_features(columns_from_frame(data.lines), tables)
    records = data.lines.to_dict("records")
    for i in (0, 7, len(rows) - 1):
        record = {**records[i], "date": records[i]["date"].date()}
        one = context_features(columns_from_records([record]), tables)
        for name, values in one.items():
            assert values[0] == pytest.approx(batch[name][i], nan_ok=True), name
