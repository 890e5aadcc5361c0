"""The service follows the champion alias without restart, and refuses a broken version."""

import shutil
from pathlib import Path

import mlflow
import pytest
from mlflow import MlflowClient

from roundabout.serving.schemas import EXAMPLE_LINE
from roundabout.store import ServiceStore
from tests.support.server import Registry, start_server, stop_server

pytestmark = pytest.mark.slow

MODEL_KINDS = ("alias_seen", "model_load", "model_refused")


def test_new_champion_is_picked_up_and_a_broken_one_is_refused(registry: Registry, tmp_path: Path) -> None:
    # A private copy of the registry database: aliases moved here do not disturb other tests.
    db = tmp_path / "mlflow.db"
    shutil.copy(registry.tracking_uri.removeprefix("sqlite:///"), db)
    own = Registry(f"sqlite:///{db}", registry.data_dir, registry.home)
    mlflow.set_tracking_uri(own.tracking_uri)
    client = MlflowClient(own.tracking_uri)
    v1 = client.get_model_version("roundabout", "1")
    server = start_server(own, f"sqlite:///{tmp_path / 'store.db'}", tmp_path / "server.log")
    try:
        with server.client("admin") as admin:
            info = admin.get("/v1/model").json()
            assert info["version"] == "1"
            # The training run's holdout figures, and only those.
            metrics = info["holdout_metrics"]
            assert "holdout.model.outcomes.rates.at_5pct.precision" in metrics
            assert all(name.startswith("holdout.") for name in metrics), sorted(metrics)[:5]
            v2 = client.create_model_version("roundabout", v1.source, run_id=v1.run_id)
            client.set_registered_model_alias("roundabout", "champion", v2.version)
            reload = admin.post("/v1/admin/reload").json()
            assert reload["result"] == "swapped" and reload["serving"]["version"] == str(v2.version)
            assert admin.get("/v1/model").json()["version"] == str(v2.version)

            broken_dir = tmp_path / "broken"
            mlflow.artifacts.download_artifacts(artifact_uri="models:/roundabout/1", dst_path=str(broken_dir))
            for data_file in broken_dir.rglob("*.txt"):
                data_file.write_text("corrupt")
            model_dir = next(p.parent for p in broken_dir.rglob("MLmodel"))
            v3 = client.create_model_version("roundabout", str(model_dir), run_id=v1.run_id)
            client.set_registered_model_alias("roundabout", "champion", v3.version)
            refused = admin.post("/v1/admin/reload").json()
            assert refused["result"] == "failed"
            assert refused["serving"]["version"] == str(v2.version)
            assert f"version {v3.version} refused" in refused["last_error"]
            ready = admin.get("/readyz")
            assert ready.status_code == 200 and f"version {v3.version}" in ready.json()["last_model_error"]
            score = admin.post(
                "/v1/score",
                json={"lines": [EXAMPLE_LINE]},
            )
            assert score.status_code == 200 and score.json()["model"]["version"] == str(v2.version)
            metrics = admin.get("/metrics").text
            assert 'roundabout_model_reloads_total{result="failed"}' in metrics
            assert admin.post("/v1/admin/reload").json()["result"] == "failed"  # checked again, recorded once
    finally:
        stop_server(server)
    store = ServiceStore.open(f"sqlite:///{tmp_path / 'store.db'}")
    with store.backend.connect() as conn:
        models = [(r.kind, r.subject) for r in store.audit.records(conn) if r.kind in MODEL_KINDS]
    store.dispose()
    assert models == [
        ("alias_seen", "roundabout/1"),
        ("model_load", "roundabout/1"),
        ("alias_seen", f"roundabout/{v2.version}"),
        ("model_load", f"roundabout/{v2.version}"),
        ("alias_seen", f"roundabout/{v3.version}"),
        ("model_refused", f"roundabout/{v3.version}"),
    ]
