"""The training job: registers a champion, a worse model does not displace it, everything is logged."""

from pathlib import Path

import mlflow
import pytest
from mlflow.tracking import MlflowClient
from typer.testing import CliRunner

from roundabout.cli import app
from roundabout.data.io import write_folder
from roundabout.simulation import SimulationConfig, simulate
from roundabout.training import TrainConfig, train
from roundabout.training.registry import decide


@pytest.fixture(scope="module")
def world_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    out = tmp_path_factory.mktemp("world")
    write_folder(simulate(SimulationConfig(n_lines=20_000, seed=5)), out)
    return out


@pytest.fixture
def tracking(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> str:
    """The embedded store under the test's own ROUNDABOUT_HOME (set by the suite's autouse fixture)."""
    from roundabout.training.tracking import default_tracking_uri

    monkeypatch.delenv("MLFLOW_TRACKING_URI", raising=False)
    return default_tracking_uri()


def _config(**overrides: object) -> TrainConfig:
    body = {
        "anomaly": {"n_estimators": 50},
        "promotion": {"against": "truth", "metric": "recall", "rate": 0.05},
        **overrides,
    }
    return TrainConfig.model_validate(body)


@pytest.mark.slow
def test_champion_then_worse_challenger(world_dir: Path, tracking: str) -> None:
    first = train(world_dir, _config(), experiment="test", register="risk")
    assert first.version == "1" and first.decision is not None and first.decision.promoted
    client = MlflowClient(tracking)
    assert str(client.get_model_version_by_alias("risk", "champion").version) == "1"

    run = client.get_run(first.run_id)
    assert run.data.metrics["model.truth.rates.at_5pct.recall"] == pytest.approx(
        first.report["model"]["truth"]["rates"]["at_5pct"]["recall"]
    )
    assert "baseline.outcomes.rates.at_1pct.precision" in run.data.metrics
    assert run.data.params["split.kind"] == "fractions"
    assert run.data.tags["data.content_hash"] == run.data.params["data.content_hash"]
    artifacts = {a.path for a in client.list_artifacts(first.run_id, "plots")}
    assert {"plots/calibration.png", "plots/pr_curve_outcomes.png", "plots/rates_vs_baseline_truth.png",
            "plots/feature_importance.png", "plots/score_by_channel.png"} <= artifacts  # fmt: skip
    fingerprint = mlflow.artifacts.load_dict(f"runs:/{first.run_id}/data/fingerprint.json")
    assert set(fingerprint["splits"]) == {"train", "valid", "holdout"}

    # A deliberately weak model: one tiny tree, no id statistics, ranking dominated by the anomaly part.
    worse = _config(
        classifier={"num_boost_round": 1, "num_leaves": 2},
        target_stats={"columns": []},
        fusion={"anomaly_weight": 50.0},
    )
    second = train(world_dir, worse, experiment="test", register="risk")
    assert second.version == "2" and second.decision is not None
    assert not second.decision.promoted and second.decision.alias == "challenger"
    assert second.decision.champion_version == "1"
    assert second.decision.new_value < second.decision.champion_value
    assert str(client.get_model_version_by_alias("risk", "champion").version) == "1"
    assert str(client.get_model_version_by_alias("risk", "challenger").version) == "2"
    logged = mlflow.artifacts.load_dict(f"runs:/{second.run_id}/promotion.json")
    assert logged["alias"] == "challenger"

    # The champion re-evaluates through the CLI on any data folder.
    result = CliRunner().invoke(
        app, ["evaluate", "--model", "models:/risk@champion", "--data", str(world_dir)]
    )
    assert result.exit_code == 0, result.output
    assert "against ground truth" in result.output and "PR-AUC" in result.output


def test_promotion_rule() -> None:
    assert decide("m", 0.5, None, None, 0.0).promoted
    assert decide("m", 0.6, "3", 0.5, 0.0).alias == "champion"
    assert decide("m", 0.5, "3", 0.5, 0.0).alias == "challenger"  # a tie does not displace
    assert decide("m", 0.55, "3", 0.5, 0.1).alias == "challenger"


def test_cli_rejects_bad_input(tmp_path: Path, tracking: str) -> None:
    runner = CliRunner()
    result = runner.invoke(app, ["train", "--data", str(tmp_path)])
    assert result.exit_code == 2 and "not a canonical data folder" in result.output
    bad = tmp_path / "bad.yaml"
    bad.write_text("classifier: {num_leavs: 3}\n")
    result = runner.invoke(app, ["train", "--data", str(tmp_path), "--config", str(bad)])
    assert result.exit_code == 2 and "num_leavs" in result.output


def test_default_tracking_is_embedded_under_home(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    from roundabout.settings import get_settings
    from roundabout.training.tracking import configure_tracking, ensure_experiment

    monkeypatch.delenv("MLFLOW_TRACKING_URI", raising=False)
    home = get_settings().home.resolve()
    assert configure_tracking() == f"sqlite:///{home / 'mlflow.db'}"
    location = mlflow.get_experiment(ensure_experiment("embedded")).artifact_location
    assert location == (home / "mlartifacts").as_uri()
    # The env var MLflow mirrored from that call is not taken for the user's choice under another home.
    monkeypatch.setenv("ROUNDABOUT_HOME", str(tmp_path / "other"))
    get_settings.cache_clear()
    assert configure_tracking() == f"sqlite:///{(tmp_path / 'other').resolve() / 'mlflow.db'}"
    monkeypatch.setenv("MLFLOW_TRACKING_URI", f"sqlite:///{tmp_path / 'user.db'}")
    assert configure_tracking() == f"sqlite:///{tmp_path / 'user.db'}"
