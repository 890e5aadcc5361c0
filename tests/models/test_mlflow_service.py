"""The MLflow adapter: one tracking-URI rule, artifacts under the home, nothing created by reading, no
URI left behind in the environment, only holdout figures as a run's holdout metrics."""

import os
from pathlib import Path

import mlflow
import pytest

from roundabout.errors import NotFoundError
from roundabout.models.mlflow_service import MlflowService
from roundabout.settings import get_settings


def _service() -> MlflowService:
    settings = get_settings()
    return MlflowService(settings.mlflow_tracking_uri, settings.mlflow_artifact_root)


def test_default_tracking_is_embedded_under_the_resolved_home() -> None:
    home = get_settings().home.resolve()
    service = _service()
    assert service.tracking_uri == f"sqlite:///{home / 'mlflow.db'}"
    experiment_id = service.experiment_id("embedded")
    assert (home / "mlflow.db").exists()
    location = mlflow.MlflowClient(service.tracking_uri).get_experiment(experiment_id).artifact_location
    assert location == (home / "mlartifacts").as_uri()


def test_the_user_tracking_uri_wins(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("MLFLOW_TRACKING_URI", f"sqlite:///{tmp_path / 'user.db'}")
    assert get_settings().mlflow_tracking_uri == f"sqlite:///{tmp_path / 'user.db'}"


def test_using_mlflow_leaves_no_tracking_uri_in_the_environment(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """mlflow.set_tracking_uri copies the URI into MLFLOW_TRACKING_URI; were it left there, the next
    settings read (e.g. under another home) would take it for the user's choice."""
    service = _service()
    with service.start_run("leak") as run_id:
        assert run_id
    assert mlflow.get_tracking_uri() == service.tracking_uri  # MLflow was pointed at the store...
    assert "MLFLOW_TRACKING_URI" not in os.environ  # ...and the environment is as the user left it
    monkeypatch.setenv("ROUNDABOUT_HOME", str(tmp_path / "other"))
    get_settings.cache_clear()
    assert get_settings().mlflow_tracking_uri == f"sqlite:///{(tmp_path / 'other').resolve() / 'mlflow.db'}"


def test_reading_a_missing_store_creates_nothing_and_says_where_it_looked() -> None:
    home = get_settings().home
    service = _service()
    with pytest.raises(NotFoundError, match=str(home.resolve() / "mlflow.db")):
        service.load_model("models:/roundabout@champion")
    with pytest.raises(NotFoundError, match="no MLflow tracking store"):
        service.resolve("roundabout", "champion")
    assert service.find_version("roundabout", {"a": "b"}) is None
    assert not home.exists()


def test_an_unknown_model_or_alias_is_not_found() -> None:
    service = _service()
    service.experiment_id("x")  # the store exists, empty
    assert service.alias_version("roundabout", "champion") is None
    with pytest.raises(NotFoundError, match="models:/roundabout@champion not found in sqlite:///"):
        service.resolve("roundabout", "champion")
    with pytest.raises(NotFoundError, match="not found in sqlite:///"):
        service.load_model("models:/roundabout/1")


def test_run_facts_hold_only_the_holdout_metrics() -> None:
    service = _service()
    with service.start_run("facts") as run_id:
        service.log_metrics(run_id, {"holdout.model.outcomes.pr_auc": 0.5, "fit.train_labelled": 300.0})
    facts = service.run_facts(run_id)
    assert facts.holdout_metrics == {"holdout.model.outcomes.pr_auc": 0.5}
    assert facts.started_at is not None and facts.started_at.endswith("+00:00")
    with service.start_run("facts") as bare:
        service.log_metrics(bare, {"fit.train_labelled": 300.0})
    assert service.run_facts(bare).holdout_metrics == {}  # no fallback to other metrics


def test_many_params_and_metrics_are_logged_in_batches() -> None:
    service = _service()
    with service.start_run("batches") as run_id:
        service.log_params(run_id, {f"p{i}": str(i) for i in range(250)})
        service.log_metrics(run_id, {f"m{i}": float(i) for i in range(2500)})
    run = mlflow.MlflowClient(service.tracking_uri).get_run(run_id)
    assert len(run.data.params) == 250 and len(run.data.metrics) == 2500
