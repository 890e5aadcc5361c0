"""On a table in another administration's shape, ingested through its mapping and trained with the defaults
(search budget included), the model learns what that table offers: it beats a plain LightGBM on the raw
columns, drops the id family that carries nothing, reports what it cannot use, logs every trial, and its
chosen configuration trains the same model again."""

from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pytest
import yaml
from mlflow import MlflowClient

from roundabout.data.ingest import ingest
from roundabout.data.mapping import load_mapping
from roundabout.models.mlflow_service import MlflowService
from roundabout.simulation import SimulationConfig, simulate
from roundabout.simulation.handover import write_source
from roundabout.training import TrainConfig, TrainResult, train
from roundabout.training.raw_baseline import RAW_BASELINE

pytestmark = pytest.mark.slow


@dataclass
class Learnt:
    service: MlflowService
    folder: Path
    config: TrainConfig
    result: TrainResult


@pytest.fixture(scope="module")
def learnt(tmp_path_factory: pytest.TempPathFactory) -> Learnt:
    home = tmp_path_factory.mktemp("foreign_default")
    # Declarants drawn at random for every declaration: their ids carry no signal; importers and sellers do.
    world = simulate(
        SimulationConfig(n_lines=150_000, seed=3, shape="foreign", inspections={"capacity": 0.15})
    )
    csv, mapping = write_source(world, home / "source")
    folder = home / "ingested"
    assert ingest(csv, load_mapping(mapping), folder).lines.rows_rejected == 0
    service = MlflowService(f"sqlite:///{home / 'mlflow.db'}", home / "mlartifacts", "foreign")
    config = TrainConfig.model_validate({"search": {"budget_minutes": 0.5}})  # the defaults, a shorter budget
    return Learnt(service, folder, config, train(folder, service, config, experiment="foreign"))


def test_the_model_beats_a_plain_lightgbm_on_the_raw_columns(learnt: Learnt) -> None:
    report = learnt.result.report
    model, raw = report["model"]["outcomes"], report[RAW_BASELINE]["outcomes"]
    assert model["pr_auc"] > raw["pr_auc"] + 0.03
    for rate in ("at_5pct", "at_10pct"):
        assert model["rates"][rate]["precision"] > raw["rates"][rate]["precision"]
    versus = report[f"model_vs_{RAW_BASELINE}"]
    assert versus["outcomes"]["pr_auc"] == pytest.approx(model["pr_auc"] - raw["pr_auc"])


def test_the_useless_id_family_is_dropped_and_the_telling_ones_kept(learnt: Learnt) -> None:
    search = learnt.result.search
    assert search is not None and "ids declarant_id" in search.dropped
    names = learnt.result.model.feature_names
    assert "te_declarant_id_rate" not in names
    assert {"te_trader_id_rate", "te_counterparty_name_rate"} <= set(names)
    screened = {test.family: test for test in search.screening}
    assert screened["ids declarant_id"].p_value > 0.05 > screened["ids trader_id"].p_value


def test_inputs_the_table_cannot_feed_are_dropped_and_reported(learnt: Learnt) -> None:
    unusable = learnt.result.unusable
    # The table has no transport mode nor BIN-style ids: what reads them is missing or constant.
    assert len(unusable) >= 10
    assert set(unusable) & set(learnt.result.model.feature_names) == set()
    client = MlflowClient(learnt.service.tracking_uri)
    logged = client.download_artifacts(learnt.result.run_id, "inputs/unusable.json")
    assert yaml.safe_load(Path(logged).read_text())["unusable"] == unusable


def test_every_tuning_trial_is_a_child_run(learnt: Learnt) -> None:
    search = learnt.result.search
    assert search is not None and search.tuning is not None and search.tuning.trials >= 1
    client = MlflowClient(learnt.service.tracking_uri)
    run = client.get_run(learnt.result.run_id)
    children = client.search_runs(
        [run.info.experiment_id], f"tags.mlflow.parentRunId = '{learnt.result.run_id}'"
    )
    assert len(children) == search.tuning.trials
    assert {"learning_rate", "num_leaves"} <= set(children[0].data.params)


def test_the_chosen_configuration_trains_the_same_model_again(learnt: Learnt, tmp_path: Path) -> None:
    client = MlflowClient(learnt.service.tracking_uri)
    chosen_file = Path(client.download_artifacts(learnt.result.run_id, "config/chosen.yaml"))
    chosen = TrainConfig.from_yaml(chosen_file)
    assert chosen.search.budget_minutes == 0 and "ids declarant_id" in chosen.search.drop_families
    again = train(
        learnt.folder, learnt.service, chosen.model_copy(update={"log_model": False}), experiment="again"
    )
    assert again.model.feature_names == learnt.result.model.feature_names
    first = learnt.result.report["model"]["outcomes"]
    assert again.report["model"]["outcomes"]["pr_auc"] == pytest.approx(first["pr_auc"], abs=1e-9)
    np.testing.assert_array_equal(
        again.model.classifier.booster_.model_to_string().splitlines()[:50],
        learnt.result.model.classifier.booster_.model_to_string().splitlines()[:50],
    )
