"""Scores with reasons have one shape for `roundabout score` and the pyfunc: JSON text columns, which a
Parquet file holds whatever the reasons' values are (numbers or level names)."""

import json
from pathlib import Path

import numpy as np
import pandas as pd

from roundabout.models.explain import Reason
from roundabout.models.scores import BatchScores, scores_frame


def _scores(explain: bool) -> BatchScores:
    scores = BatchScores(
        risk_score=np.array([0.9, 0.1]),
        anomaly_score=np.array([0.7, 0.4]),
        channel=np.array(["red", "green"], dtype=object),
        raw_score=np.array([2.0, -2.0]),
        oddness_score=np.array([5.5, 0.3]),
    )
    if explain:
        scores.reasons = [
            [Reason("chain_lag_days", 6.0, 0.9, "Exported 6 days after")],
            [
                Reason("hs_heading", "58115", 0.3, "Heading 58115"),
                Reason("origin_country", "US", 0.2, "Origin US"),
            ],
        ]
        scores.contributions = [{"chain_lag_days": 0.9}, {"hs_heading": 0.3, "anomaly": -0.1}]
    return scores


def test_reasons_with_numbers_and_level_names_write_to_parquet_and_read_back(tmp_path: Path) -> None:
    frame = scores_frame(np.array(["a/1", "b/1"], dtype=object), _scores(explain=True))
    frame.to_parquet(tmp_path / "scores.parquet", index=False)
    back = pd.read_parquet(tmp_path / "scores.parquet")
    assert list(back.columns) == [
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
    assert back["line_id"].tolist() == ["a/1", "b/1"]
    assert json.loads(back["reasons"][1]) == [
        {"feature": "hs_heading", "value": "58115", "contribution": 0.3, "text": "Heading 58115"},
        {"feature": "origin_country", "value": "US", "contribution": 0.2, "text": "Origin US"},
    ]
    assert json.loads(back["reasons"][0])[0]["value"] == 6.0
    assert json.loads(back["contributions"][1]) == {"hs_heading": 0.3, "anomaly": -0.1}


def test_without_reasons_there_are_no_reason_columns() -> None:
    frame = scores_frame(np.array(["a/1", "b/1"], dtype=object), _scores(explain=False))
    assert list(frame.columns) == [
        "line_id", "risk_score", "anomaly_score", "oddness_score", "channel", "selection", "propensity"
    ]  # fmt: skip
    assert frame["selection"].tolist() == ["model", "model"]  # scores without a policy: the model chose
