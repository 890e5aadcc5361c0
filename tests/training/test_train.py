"""The train job: registers a champion, a worse model does not displace it, everything is logged."""

import json
from pathlib import Path

import pytest
from mlflow import MlflowClient

from roundabout.models.mlflow_service import HOLDOUT_PREFIX
from roundabout.training import registered_twin
from roundabout.training.metrics import flatten
from tests.training.conftest import Trained, small_config

pytestmark = pytest.mark.slow


def test_the_first_version_becomes_champion_and_the_run_is_logged(trained: Trained) -> None:
    first = trained.first
    assert first.version == "1" and first.decision is not None and first.decision.promoted
    assert trained.mlflow.alias_version("risk", "champion") == "1"

    client = MlflowClient(trained.mlflow.tracking_uri)
    run = client.get_run(first.run_id)
    assert run.data.metrics["holdout.model.truth.rates.at_5pct.recall"] == pytest.approx(
        first.report["model"]["truth"]["rates"]["at_5pct"]["recall"]
    )
    assert "holdout.baseline.outcomes.rates.at_1pct.precision" in run.data.metrics
    assert run.data.params["split.kind"] == "fractions"
    assert run.data.tags["data.content_hash"] == run.data.params["data.content_hash"]
    artifacts = {a.path for a in client.list_artifacts(first.run_id, "plots")}
    assert {"plots/calibration.png", "plots/pr_curve_outcomes.png", "plots/rates_vs_baseline_truth.png",
            "plots/feature_importance.png", "plots/score_by_channel.png"} <= artifacts  # fmt: skip
    fingerprint = json.loads(
        Path(client.download_artifacts(first.run_id, "data/fingerprint.json")).read_text()
    )
    assert set(fingerprint["splits"]) == {"train", "valid", "holdout"}
    assert {m for m in run.data.metrics if m.startswith("time.")} >= {"time.fit_classifier_s", "time.log_s"}


def test_every_holdout_figure_is_logged_under_the_holdout_prefix(trained: Trained) -> None:
    """What GET /v1/model shows as the holdout metrics: the whole holdout report, and nothing else."""
    facts = trained.mlflow.run_facts(trained.first.run_id)
    assert facts.holdout_metrics == pytest.approx(flatten(trained.first.report, HOLDOUT_PREFIX))
    assert facts.started_at is not None


def test_a_worse_version_becomes_challenger_and_loads(trained: Trained) -> None:
    second = trained.second
    assert second.version == "2" and second.decision is not None
    assert not second.decision.promoted and second.decision.alias == "challenger"
    assert second.decision.champion_version == "1"
    assert second.decision.champion_value is not None
    assert second.decision.new_value < second.decision.champion_value
    assert trained.mlflow.alias_version("risk", "champion") == "1"
    assert trained.mlflow.alias_version("risk", "challenger") == "2"
    client = MlflowClient(trained.mlflow.tracking_uri)
    promotion = json.loads(Path(client.download_artifacts(second.run_id, "promotion.json")).read_text())
    assert promotion["alias"] == "challenger"
    # Its fixed anomaly weight (fusion.anomaly_weight) survives the registry.
    assert trained.mlflow.load_model("models:/risk@challenger").fusion.b == 50.0


def test_versions_are_tagged_with_their_data_and_config(trained: Trained) -> None:
    twin = registered_twin(trained.mlflow, trained.world_dir, small_config(), "risk")
    assert twin is not None and twin.version == "1" and twin.aliases == ["champion"]
    assert registered_twin(trained.mlflow, trained.world_dir, small_config(seed=1), "risk") is None
    # Where a run is logged is not what it trains: another experiment name finds the same version.
    assert (
        registered_twin(trained.mlflow, trained.world_dir, small_config(experiment="other"), "risk")
        is not None
    )
