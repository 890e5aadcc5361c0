"""`roundabout score`: a whole canonical folder scored offline, with the registered model."""

import json
import os
import subprocess
import sys
from pathlib import Path

import pandas as pd
import pytest

from roundabout.data.io import read_folder
from tests.support.server import Registry

pytestmark = pytest.mark.slow


def test_score_writes_one_row_per_line_with_its_id(registry: Registry, tmp_path: Path) -> None:
    out = tmp_path / "scores.parquet"
    env = {**os.environ, "MLFLOW_TRACKING_URI": registry.tracking_uri, "ROUNDABOUT_HOME": str(registry.home)}
    done = subprocess.run(
        [sys.executable, "-m", "roundabout.cli", "score", "--model", "models:/roundabout@champion",
         "--data", str(registry.data_dir), "--out", str(out)],
        env=env, capture_output=True, text=True, timeout=600,
    )  # fmt: skip
    assert done.returncode == 0, done.stdout + done.stderr
    scores = pd.read_parquet(out)
    lines = read_folder(registry.data_dir).lines
    assert list(scores.columns) == [
        "line_id", "risk_score", "anomaly_score", "oddness_score", "channel", "selection", "propensity"
    ]  # fmt: skip
    assert sorted(scores["line_id"]) == sorted(lines["line_id"])
    assert scores["risk_score"].between(0, 1).all()
    assert set(scores["channel"]) <= {"green", "yellow", "red"}
    assert (scores["channel"] == "red").any()


def test_score_of_a_missing_folder_fails_with_a_message(registry: Registry, tmp_path: Path) -> None:
    env = {**os.environ, "MLFLOW_TRACKING_URI": registry.tracking_uri, "ROUNDABOUT_HOME": str(registry.home)}
    done = subprocess.run(
        [sys.executable, "-m", "roundabout.cli", "score", "--model", "models:/roundabout@champion",
         "--data", str(tmp_path / "nowhere"), "--out", str(tmp_path / "s.parquet")],
        env=env, capture_output=True, text=True, timeout=600,
    )  # fmt: skip
    assert done.returncode != 0
    assert "nowhere" in done.stdout + done.stderr
    assert "Traceback" not in done.stdout + done.stderr


def test_score_with_reasons_writes_json_columns_that_read_back(registry: Registry, tmp_path: Path) -> None:
    out = tmp_path / "scores.parquet"
    env = {**os.environ, "MLFLOW_TRACKING_URI": registry.tracking_uri, "ROUNDABOUT_HOME": str(registry.home)}
    done = subprocess.run(
        [sys.executable, "-m", "roundabout.cli", "score", "--model", "models:/roundabout@champion",
         "--data", str(registry.data_dir), "--out", str(out), "--explain"],
        env=env, capture_output=True, text=True, timeout=600,
    )  # fmt: skip
    assert done.returncode == 0, done.stdout + done.stderr
    scores = pd.read_parquet(out)
    assert list(scores.columns) == [
        "line_id",
        "risk_score",
        "anomaly_score",
        "oddness_score",
        "channel",
        "selection",
        "propensity",
        "reasons",
        "contributions",
    ]
    reasons = [json.loads(text) for text in scores["reasons"]]
    assert any(reasons) and all(isinstance(r, list) for r in reasons)
    assert {"feature", "value", "contribution", "text"} == set(next(r for r in reasons if r)[0])
    contributions = [json.loads(text) for text in scores["contributions"]]
    assert all(isinstance(c, dict) for c in contributions) and any(contributions)


def test_score_on_dask_writes_the_scores_of_the_in_process_command(
    registry: Registry, tmp_path: Path
) -> None:
    """A model trained the usual way scores on a Dask LocalCluster: the same rows, columns and values,
    reasons and contributions included."""
    env = {**os.environ, "MLFLOW_TRACKING_URI": registry.tracking_uri, "ROUNDABOUT_HOME": str(registry.home)}
    base = [sys.executable, "-m", "roundabout.cli", "score", "--model", "models:/roundabout@champion",
            "--data", str(registry.data_dir), "--explain"]  # fmt: skip
    plain = subprocess.run(
        [*base, "--out", str(tmp_path / "s.parquet")], env=env, capture_output=True, text=True
    )
    assert plain.returncode == 0, plain.stdout + plain.stderr
    done = subprocess.run(
        [*base, "--out", str(tmp_path / "d"), "--engine", "dask", "--workers", "2", "--worker-memory", "1GB"],
        env=env, capture_output=True, text=True, timeout=600,
    )  # fmt: skip
    assert done.returncode == 0, done.stdout + done.stderr
    expected = pd.read_parquet(tmp_path / "s.parquet").set_index("line_id").sort_index()
    got = pd.read_parquet(tmp_path / "d").set_index("line_id").sort_index()
    assert list(got.columns) == list(expected.columns) and got.index.equals(expected.index)
    texts = ["reasons", "contributions"]
    pd.testing.assert_frame_equal(
        got.drop(columns=texts), expected.drop(columns=texts), check_exact=False, rtol=1e-9, check_dtype=False
    )
    for mine, theirs in zip(got["reasons"], expected["reasons"], strict=True):
        assert [r["feature"] for r in json.loads(mine)] == [r["feature"] for r in json.loads(theirs)]
    for mine, theirs in zip(got["contributions"], expected["contributions"], strict=True):
        a, b = json.loads(mine), json.loads(theirs)
        assert a.keys() == b.keys() and all(abs(a[k] - b[k]) < 1e-6 for k in a)
    refused = subprocess.run([*base, "--out", str(tmp_path / "e"), "--engine", "dask", "--history",
                              str(registry.data_dir)], env=env, capture_output=True, text=True)  # fmt: skip
    assert refused.returncode == 2 and "--history is not available on Dask" in refused.stderr
