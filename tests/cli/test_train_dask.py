"""`roundabout train|evaluate --engine dask`: on a history it draws whole, the model is the one the
in-process job makes (same scores) and the evaluation report the same; a classifier fitted by LightGBM's
Dask estimator is registered like any other, and a real server loads and serves it."""

import os
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

from roundabout.data.io import read_folder, write_folder
from roundabout.models.mlflow_service import MlflowService
from roundabout.simulation import SimulationConfig
from roundabout.simulation.world import simulate_world
from tests.support.server import Registry, start_server, stop_server, world_lines


def _run(root: Path, *args: str) -> str:
    env = {**os.environ, "MLFLOW_TRACKING_URI": f"sqlite:///{root / 'mlflow.db'}",
           "ROUNDABOUT_HOME": str(root / "home"), "COLUMNS": "200"}  # fmt: skip
    done = subprocess.run(
        [sys.executable, "-m", "roundabout.cli", *args],
        env=env, cwd=root, capture_output=True, text=True, timeout=900,
    )  # fmt: skip
    assert done.returncode == 0, done.stdout + done.stderr
    return done.stdout + done.stderr


def _train(root: Path, data: Path, *extra: str) -> str:
    return _run(root, "train", "--data", str(data), "--budget", "0", *extra)


def _pr_auc_rows(report: str) -> list[str]:
    return [line for line in report.splitlines() if "PR-AUC" in line or "ROC-AUC" in line]


@pytest.mark.slow
def test_a_model_trained_on_dask_is_the_in_process_one_and_serves(tmp_path: Path) -> None:
    data = tmp_path / "data"
    write_folder(simulate_world(SimulationConfig(n_lines=20_000, seed=11)).data, data, partitioned=True)
    cluster = ["--engine", "dask", "--workers", "2", "--worker-memory", "1500MB"]
    # version 1, the champion: the classifier fitted by LightGBM's Dask estimator across the workers
    out = _train(tmp_path, data, *cluster, "--dask-classifier-lines", "200")
    assert "dashboard http" in out and "classifier: lightgbm.dask:" in out and "champion" in out
    assert "classifier: fitted in this process" in _train(tmp_path, data, *cluster)  # version 2
    _train(tmp_path, data)  # the in-process job: version 3
    service = MlflowService(f"sqlite:///{tmp_path / 'mlflow.db'}")
    on_lgb_dask, on_dask, in_process = (service.load_model(f"models:/roundabout/{v}") for v in (1, 2, 3))
    assert on_lgb_dask.metadata["classifier_fitted_with"].startswith("lightgbm.dask")
    world = read_folder(data)
    a = on_dask.score_data(world).set_index("line_id")["risk_score"]
    b = in_process.score_data(world).set_index("line_id")["risk_score"]
    assert np.allclose(a.to_numpy(), b.loc[a.index].to_numpy(), rtol=1e-6, atol=1e-9)
    # evaluated on Dask: the report the in-process command prints
    evaluate = ["evaluate", "--model", "models:/roundabout/2", "--data", str(data)]
    expected = _pr_auc_rows(_run(tmp_path, *evaluate))
    assert expected and _pr_auc_rows(_run(tmp_path, *evaluate, *cluster)) == expected
    registry = Registry(f"sqlite:///{tmp_path / 'mlflow.db'}", data, tmp_path / "home")
    server = start_server(registry, f"sqlite:///{tmp_path / 'store.db'}", tmp_path / "server.log")
    try:
        line = world_lines(registry, n=1)[0]
        with server.client("scorer") as client:
            answer = client.post("/v1/score", json={"lines": [line]})
        assert answer.status_code == 200, answer.text
        body = answer.json()
        assert body["model"]["version"] == "1"  # the version trained by lightgbm.dask is what it serves
        assert 0.0 <= body["results"][0]["risk_score"] <= 1.0
    finally:
        stop_server(server)
