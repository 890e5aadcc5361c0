"""Fusion calibrates and keeps the anomaly weight floor; channel thresholds send the configured shares."""

import numpy as np
import pytest

from roundabout.models.channels import Thresholds
from roundabout.models.fusion import Fusion


def test_fusion_recovers_a_calibrated_probability() -> None:
    rng = np.random.default_rng(1)
    raw = rng.normal(size=20_000) * 2 - 1
    anomaly = rng.uniform(0.3, 0.8, size=20_000)
    true_logit = 0.5 * raw - 2.0
    y = rng.random(20_000) < 1 / (1 + np.exp(-true_logit))
    fusion = Fusion.fit(raw, anomaly, y, anomaly_reference=anomaly, min_anomaly_weight=0.0)
    assert fusion.a == pytest.approx(0.5, abs=0.05)
    assert fusion.c == pytest.approx(-2.0, abs=0.15)
    risk = fusion.risk(raw, anomaly)
    assert risk.mean() == pytest.approx(y.mean(), abs=0.005)  # calibration-in-the-large
    assert fusion.risk_one(raw[5], anomaly[5]) == pytest.approx(risk[5], abs=1e-15)


def test_anomaly_weight_floor_and_fixed_weight() -> None:
    rng = np.random.default_rng(2)
    raw = rng.normal(size=5000)
    anomaly = rng.uniform(0.3, 0.8, size=5000)
    y = rng.random(5000) < 1 / (1 + np.exp(-(raw - 2)))
    floored = Fusion.fit(raw, anomaly, y, anomaly, min_anomaly_weight=0.7)
    assert floored.b == 0.7
    fixed = Fusion.fit(raw, anomaly, y, anomaly, anomaly_weight=1.5)
    assert fixed.b == 1.5
    assert fixed.anomaly_z(np.array([fixed.anomaly_median - 0.1]))[0] == 0.0  # one-sided


def test_thresholds_send_configured_shares() -> None:
    scores = np.random.default_rng(3).beta(1, 20, size=50_000)
    t = Thresholds.from_scores(scores, red_share=0.01, yellow_share=0.15)
    channels = t.channel(scores)
    assert (channels == "red").mean() == pytest.approx(0.01, abs=0.001)
    assert (channels == "yellow").mean() == pytest.approx(0.15, abs=0.002)
    assert t.channel_one(t.red) == "red" and t.channel_one(t.yellow) == "yellow"
    assert Thresholds.from_dict(t.to_dict()) == t
    with pytest.raises(ValueError):
        Thresholds.from_scores(scores, red_share=0.5, yellow_share=0.6)


def test_a_fixed_anomaly_weight_saves_and_loads() -> None:
    """With `anomaly_weight` set, the fitted weights are plain floats that survive the model's JSON."""
    import json

    rng = np.random.default_rng(4)
    raw = rng.normal(size=3000)
    anomaly = rng.uniform(0.3, 0.8, size=3000)
    y = rng.random(3000) < 1 / (1 + np.exp(-(raw - 2)))
    fixed = Fusion.fit(raw, anomaly, y, anomaly, anomaly_weight=2.0)
    assert all(isinstance(v, float) for v in fixed.to_dict().values())
    saved = json.loads(json.dumps(fixed.to_dict(), default=str))  # what RiskModel.save writes
    assert Fusion.from_dict(saved) == fixed
