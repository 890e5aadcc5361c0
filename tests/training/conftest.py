"""A simulated world on disk, a model fitted on it, and a registry where two trainings ran on it."""

from dataclasses import dataclass
from pathlib import Path

import pytest

from roundabout.data.io import write_folder
from roundabout.models.mlflow_service import MlflowService
from roundabout.simulation import SimulationConfig, simulate
from roundabout.training import TrainConfig, TrainResult, train
from roundabout.training.fit import Fitted, fit_risk_model
from roundabout.training.split import Split
from roundabout.training.train import load_split


def small_config(**overrides: object) -> TrainConfig:
    """Fewer trees than the defaults, no search (tests of the search set a budget), promotion against ground
    truth (the world has it)."""
    body = {
        "anomaly": {"n_estimators": 50},
        "search": {"budget_minutes": 0},
        "promotion": {"against": "truth", "metric": "recall", "rate": 0.05},
        **overrides,
    }
    return TrainConfig.model_validate(body)


@pytest.fixture(scope="session")
def world_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    out = tmp_path_factory.mktemp("world")
    write_folder(simulate(SimulationConfig(n_lines=20_000, seed=5)), out)
    return out


@pytest.fixture(scope="session")
def split(world_dir: Path) -> Split:
    return load_split(world_dir, small_config())


@pytest.fixture(scope="session")
def fitted(split: Split) -> Fitted:
    return fit_risk_model(split, small_config())


@dataclass
class Trained:
    """A registry `risk` with version 1 (@champion) and a deliberately weaker version 2 (@challenger)."""

    mlflow: MlflowService
    first: TrainResult
    second: TrainResult
    world_dir: Path


@pytest.fixture(scope="session")
def trained(world_dir: Path, tmp_path_factory: pytest.TempPathFactory) -> Trained:
    home = tmp_path_factory.mktemp("trained")
    service = MlflowService(f"sqlite:///{home / 'mlflow.db'}", home / "mlartifacts", "risk")
    first = train(world_dir, service, small_config(), experiment="test")
    # One tiny tree, no id statistics, a fixed anomaly weight: ranking dominated by the anomaly part.
    worse = small_config(
        classifier={"num_boost_round": 1, "num_leaves": 2},
        target_stats={"columns": []},
        fusion={"anomaly_weight": 50.0},
    )
    second = train(world_dir, service, worse, experiment="test")
    return Trained(service, first, second, world_dir)
