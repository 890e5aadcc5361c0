"""A version whose artifact is corrupt, whose feature list does not match, or whose scores are NaN is
refused at promotion (the training job's gate) and at live update; the old champion keeps serving."""

import shutil
from pathlib import Path
from types import SimpleNamespace

import mlflow
import pytest
from mlflow import MlflowClient

from roundabout.models.mlflow_service import MlflowService
from roundabout.serving.schemas import EXAMPLE_LINE
from roundabout.training.config import TrainConfig
from roundabout.training.metrics import rate_key
from roundabout.training.promote import promote
from roundabout.training.train import load_split
from tests.support.faults import BAD_KINDS, register_bad_version
from tests.support.server import Registry, start_server, stop_server

pytestmark = pytest.mark.slow


@pytest.fixture
def own_registry(registry: Registry, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Registry:
    """A private copy of the registry database: versions and aliases made here disturb no other test."""
    db = tmp_path / "mlflow.db"
    shutil.copy(registry.tracking_uri.removeprefix("sqlite:///"), db)
    own = Registry(f"sqlite:///{db}", registry.data_dir, registry.home)
    monkeypatch.setenv("MLFLOW_TRACKING_URI", own.tracking_uri)
    mlflow.set_tracking_uri(own.tracking_uri)
    return own


def champion(own: Registry) -> str:
    return str(MlflowClient(own.tracking_uri).get_model_version_by_alias("roundabout", "champion").version)


def test_promotion_gate_refuses_bad_versions(own_registry: Registry, tmp_path: Path) -> None:
    config = TrainConfig()
    split = load_split(own_registry.data_dir, config)
    service = MlflowService(own_registry.tracking_uri)
    # The features of version 1 (whose artifacts the bad copies keep): the gate reuses them.
    good = service.load_model("models:/roundabout/1")
    fitted = SimpleNamespace(features=None, model=good)
    p = config.promotion
    # above any real figure, so only the gate's refusal can keep a version from beating the champion
    unbeatable = {p.against: {"rates": {rate_key(p.rate): {p.metric: 1.5}}}}
    for kind in BAD_KINDS:
        version = register_bad_version(own_registry.tracking_uri, kind, tmp_path)
        decision = promote(service, "roundabout", version, unbeatable, split, fitted, config)  # type: ignore[arg-type]
        assert not decision.promoted and decision.alias == "", (kind, decision)
        assert decision.reason.startswith("refused:"), decision.reason
        assert champion(own_registry) == "1"
        aliases = MlflowClient(own_registry.tracking_uri).get_model_version("roundabout", version).aliases
        assert aliases == []
    # the gate passes a sound version: a re-registered copy of version 1 that beats it is promoted
    v1 = MlflowClient(own_registry.tracking_uri).get_model_version("roundabout", "1")
    sound = MlflowClient(own_registry.tracking_uri).create_model_version("roundabout", v1.source, v1.run_id)
    decision = promote(service, "roundabout", str(sound.version), unbeatable, split, fitted, config)  # type: ignore[arg-type]
    assert decision.promoted and champion(own_registry) == str(sound.version)


def test_live_update_refuses_bad_versions_and_keeps_serving(own_registry: Registry, tmp_path: Path) -> None:
    client = MlflowClient(own_registry.tracking_uri)
    server = start_server(own_registry, f"sqlite:///{tmp_path / 'store.db'}", tmp_path / "server.log")
    try:
        with server.client("admin") as admin:
            for i, kind in enumerate(BAD_KINDS):
                version = register_bad_version(own_registry.tracking_uri, kind, tmp_path)
                client.set_registered_model_alias("roundabout", "champion", version)
                refused = admin.post("/v1/admin/reload").json()
                assert refused["result"] == "failed", (kind, refused)
                assert refused["serving"]["version"] == "1"
                assert f"version {version} refused" in refused["last_error"]
                answer = admin.post("/v1/score", json={"lines": [{**EXAMPLE_LINE, "line_id": f"bad-{i}"}]})
                assert answer.status_code == 200 and answer.json()["model"]["version"] == "1"
                result = answer.json()["results"][0]
                assert 0.0 <= result["risk_score"] <= 1.0
                assert admin.get("/readyz").status_code == 200
            reasons = server.log.read_text()
        assert "feature list does not match" in reasons and "not a finite probability" in reasons
    finally:
        stop_server(server)


def test_a_bad_version_that_loses_gets_no_alias_either(own_registry: Registry, tmp_path: Path) -> None:
    """The gate runs before any alias: a version that would only be `@challenger` is validated too."""
    config = TrainConfig()
    split = load_split(own_registry.data_dir, config)
    service = MlflowService(own_registry.tracking_uri)
    good = service.load_model("models:/roundabout/1")
    fitted = SimpleNamespace(features=None, model=good)
    p = config.promotion
    hopeless = {p.against: {"rates": {rate_key(p.rate): {p.metric: 0.0}}}}
    client = MlflowClient(own_registry.tracking_uri)
    for kind in BAD_KINDS:
        version = register_bad_version(own_registry.tracking_uri, kind, tmp_path)
        decision = promote(service, "roundabout", version, hopeless, split, fitted, config)  # type: ignore[arg-type]
        assert decision.alias == "" and decision.reason.startswith("refused:"), (kind, decision)
        assert client.get_model_version("roundabout", version).aliases == []
        assert champion(own_registry) == "1"
