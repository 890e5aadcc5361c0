"""A small simulated world and a risk model fitted on it, shared by the model tests."""

from pathlib import Path

import pytest

from roundabout.data.io import CanonicalData
from roundabout.simulation import SimulationConfig, simulate
from roundabout.training.config import TrainConfig
from roundabout.training.fit import Fitted, fit_risk_model
from roundabout.training.split import Split, split_data


@pytest.fixture(scope="session")
def world() -> CanonicalData:
    return simulate(SimulationConfig(n_lines=20_000, seed=11))


@pytest.fixture(scope="session")
def split(world: CanonicalData) -> Split:
    return split_data(world, TrainConfig().split)


@pytest.fixture(scope="session")
def fitted(split: Split) -> Fitted:
    config = TrainConfig.model_validate(
        {"anomaly": {"n_estimators": 50}, "classifier": {"num_threads": 1}, "search": {"budget_minutes": 0}}
    )
    return fit_risk_model(split, config)


@pytest.fixture
def model_dir(tmp_path: Path, fitted: Fitted) -> Path:
    return fitted.model.save(tmp_path / "risk_model")
