"""The risk model survives save/load (folder and MLflow pyfunc) with identical scores; paths agree."""

import json
from pathlib import Path

import mlflow
import numpy as np
import pandas as pd
import pytest

from roundabout.models.persistence import ANOMALY_FILE, CLASSIFIER_FILE
from roundabout.models.pyfunc import FEATURE_PREFIX, load_risk_model, predict_frame, save_risk_model
from roundabout.models.risk_model import RiskModel
from roundabout.training.fit import Fitted
from roundabout.training.split import Split


def _holdout(split: Split, fitted: Fitted, n: int = 300) -> tuple[pd.DataFrame, pd.DataFrame]:
    lines = split.data.lines[split.holdout].head(n).reset_index(drop=True)
    features = fitted.features[split.holdout].head(n)[fitted.model.base_features]  # the model's inputs
    return lines, features


def test_folder_round_trip_gives_identical_scores(split: Split, fitted: Fitted, model_dir: Path) -> None:
    model = fitted.model
    lines, features = _holdout(split, fitted)
    before = model.score_batch(model.matrix(features, lines), explain=True)
    loaded = RiskModel.load(model_dir)
    after = loaded.score_batch(loaded.matrix(features, lines), explain=True)
    np.testing.assert_array_equal(after.risk_score, before.risk_score)
    np.testing.assert_array_equal(after.anomaly_score, before.anomaly_score)
    np.testing.assert_array_equal(after.channel, before.channel)
    assert after.reasons == before.reasons
    assert loaded.thresholds == model.thresholds and loaded.fusion == model.fusion
    assert loaded.feature_names == model.feature_names


def test_holdout_scores_match_training(split: Split, fitted: Fitted) -> None:
    """What the job evaluated is what the model object scores."""
    model = fitted.model
    features = fitted.features[split.holdout]
    scores = model.score_batch(model.matrix(features, split.data.lines[split.holdout]))
    np.testing.assert_allclose(scores.risk_score, fitted.holdout_risk, rtol=0, atol=1e-12)


def test_batch_matrix_and_anomaly_columns(split: Split, fitted: Fitted) -> None:
    """The input matrix is the features then the id statistics (C order, as np.hstack gives), and the
    batch anomaly part reads its columns of it in place, with the same numbers as on a copy of them."""
    model = fitted.model
    lines, features = _holdout(split, fitted)
    X = model.matrix(features, lines)
    expected = np.hstack([features[model.base_features].to_numpy(), model.target_stats.transform(lines)])
    np.testing.assert_array_equal(X, expected)
    assert X.flags.c_contiguous
    scores = model.score_batch(X)
    alone = model.anomaly.anomaly_score(np.ascontiguousarray(X[:, model.anomaly_columns]), workers=1)
    np.testing.assert_array_equal(scores.anomaly_score, alone)


def test_single_line_path_equals_batch(split: Split, fitted: Fitted) -> None:
    model = fitted.model
    lines, features = _holdout(split, fitted, 50)
    batch = model.score_batch(model.matrix(features, lines), explain=True)
    records = lines.to_dict("records")
    for i in range(50):
        one = model.score_one(features.iloc[i].to_numpy(), records[i])
        assert one.risk_score == pytest.approx(batch.risk_score[i], abs=1e-12)
        assert one.anomaly_score == pytest.approx(batch.anomaly_score[i], abs=1e-12)
        assert one.channel == batch.channel[i]
        assert [r.feature for r in one.reasons] == [r.feature for r in batch.reasons[i]]
    by_name = model.score_one(dict(features.iloc[0]), records[0], explain=False)
    assert by_name.risk_score == pytest.approx(batch.risk_score[0], abs=1e-12)


def test_mlflow_pyfunc_round_trip(tmp_path: Path, split: Split, fitted: Fitted) -> None:
    model = fitted.model
    lines, features = _holdout(split, fitted, 40)
    path = save_risk_model(model, tmp_path / "mlflow_model", input_example=lines)
    expected = predict_frame(model, lines)

    pyfunc = mlflow.pyfunc.load_model(str(path))
    got = pyfunc.predict(lines)
    pd.testing.assert_frame_equal(got, expected)
    assert set(got.columns) == {
        "line_id",
        "risk_score",
        "oddness_score",
        "anomaly_score",
        "channel",
        "selection",
        "propensity",
        "reasons",
        "contributions",
    }
    assert set(got["selection"]) <= {"model", "rule"}  # no key, no draw
    assert got["risk_score"].between(0, 1).all()
    assert isinstance(json.loads(got["reasons"][0]), list)

    # With the store's features given as feat_ columns, the features are used as they are.
    with_features = pd.concat([lines, features.reset_index(drop=True).add_prefix(FEATURE_PREFIX)], axis=1)
    direct = model.score_batch(model.matrix(features, lines))
    np.testing.assert_allclose(pyfunc.predict(with_features)["risk_score"], direct.risk_score, atol=1e-12)

    inner = load_risk_model(str(path))
    again = inner.score_batch(inner.matrix(features, lines))
    np.testing.assert_array_equal(again.risk_score, direct.risk_score)


def test_tampered_model_fails_to_load(model_dir: Path) -> None:
    body = json.loads((model_dir / "model.json").read_text())
    body["base_features"] = body["base_features"][:-1]
    (model_dir / "model.json").write_text(json.dumps(body))
    with pytest.raises(ValueError):
        RiskModel.load(model_dir)


def test_missing_part_fails_to_load(model_dir: Path) -> None:
    (model_dir / ANOMALY_FILE).unlink()
    with pytest.raises(FileNotFoundError):
        RiskModel.load(model_dir)


def test_changed_trees_change_scores(model_dir: Path, split: Split, fitted: Fitted) -> None:
    """The round-trip comparison is sensitive: one altered leaf value changes the scores it compares."""
    lines_text = (model_dir / CLASSIFIER_FILE).read_text().splitlines()
    i = next(i for i, line in enumerate(lines_text) if line.startswith("leaf_value="))
    # One digit of the first leaf value changed in place: LightGBM checks each tree's size in bytes.
    values = lines_text[i].removeprefix("leaf_value=").split()
    point = values[0].index(".") + 1
    digit = str((int(values[0][point]) + 5) % 10)
    values[0] = values[0][:point] + digit + values[0][point + 1 :]
    lines_text[i] = "leaf_value=" + " ".join(values)
    (model_dir / CLASSIFIER_FILE).write_text("\n".join(lines_text) + "\n")
    lines, features = _holdout(split, fitted, 200)
    loaded = RiskModel.load(model_dir)
    original = fitted.model.score_batch(fitted.model.matrix(features, lines)).risk_score
    assert not np.array_equal(loaded.score_batch(loaded.matrix(features, lines)).risk_score, original)
