"""Another administration's declaration table (foreign column names, own fraud label, fixed
train/valid/test files) trains and evaluates through the ingest mapping, with id target statistics; a
held-out file is scored beside its history without its own labels."""

from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from mlflow import MlflowClient

from roundabout.data.history import read_history
from roundabout.data.io import CanonicalData, read_folder
from roundabout.models.mlflow_service import MlflowService
from roundabout.training import TrainConfig, TrainResult, evaluate_model, train
from roundabout.training.evaluate import HOLDOUT_PERIOD
from roundabout.training.metrics import flatten, outcome_report, outcomes_absent
from roundabout.training.split import labels
from tests.support.foreign import RISKY_IMPORTERS, ingest_foreign


@pytest.fixture(scope="module")
def folders(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    return ingest_foreign(tmp_path_factory.mktemp("foreign"))


def _config(holdout: Path, valid: Path, search: bool = True) -> TrainConfig:
    """The foreign files' options; `search=False` skips the search (a run whose search is not the point)."""
    return TrainConfig.model_validate(
        {
            "split": {"kind": "folders", "valid_data": valid, "holdout_data": holdout},
            "target_stats": {"columns": ["trader_id", "declarant_id", "counterparty_name", "hs_code"]},
            "anomaly": {"n_estimators": 50},
            "channels": {"period_days": 30},
            **({} if search else {"search": {"budget_minutes": 0}}),
        }
    )


@dataclass
class Run:
    service: MlflowService
    result: TrainResult


@pytest.fixture(scope="module")
def labelled_run(folders: dict[str, Path], tmp_path_factory: pytest.TempPathFactory) -> Run:
    """Trained with the test file's labels as the holdout (the report is measured on them)."""
    home = tmp_path_factory.mktemp("foreign_registry")
    service = MlflowService(f"sqlite:///{home / 'mlflow.db'}", home / "mlartifacts")
    config = _config(folders["test"], folders["valid"])
    return Run(service, train(folders["train"], service, config, experiment="foreign", register="foreign"))


def test_foreign_table_trains_and_evaluates(folders: dict[str, Path], labelled_run: Run) -> None:
    result = labelled_run.result
    model = result.model
    assert result.decision is not None and result.decision.alias == "champion"
    assert {"te_trader_id_rate", "extra_payment_type", "extra_tax_rate"} <= set(model.feature_names)
    # Sellers and declarants are drawn at random in this table: their ids carry nothing and are left out.
    assert result.search is not None and {"ids counterparty_name", "ids declarant_id"} <= set(
        result.search.dropped
    )
    assert not {"te_counterparty_name_rate", "te_declarant_id_rate"} & set(model.feature_names)
    assert "trader_id" not in model.feature_names  # raw ids are never inputs
    assert "extra_payment_type" in model.categorical
    assert result.counts["train_labelled"] == 3000 and result.counts["holdout_labelled"] == 1000

    outcomes = result.report["model"]["outcomes"]
    base_rate = outcomes["positives"] / outcomes["lines"]
    assert outcomes["rates"]["at_10pct"]["precision"] > 2 * base_rate
    assert outcomes["roc_auc"] > 0.75
    assert "truth" not in result.report["model"]
    # The out-of-fold statistics carry the importer signal: risky importers get higher rates.
    test_lines = read_folder(folders["test"]).lines
    rates = model.target_stats.transform(test_lines)[:, model.target_stats.columns.index("trader_id") * 2]
    risky = test_lines["trader_id"].isin(RISKY_IMPORTERS).to_numpy()
    assert rates[risky].mean() > 3 * rates[~risky].mean()

    # Re-evaluated on the test folder alone (no earlier history): by default its holdout period, i.e. the
    # whole folder.
    report = evaluate_model(labelled_run.service, "models:/foreign@champion", folders["test"])
    assert report["meta"]["lines"] == 1000 and report["meta"]["period"] == HOLDOUT_PERIOD
    assert report["model"]["outcomes"]["roc_auc"] > 0.75


def test_a_held_out_file_is_scored_beside_its_history(folders: dict[str, Path], labelled_run: Run) -> None:
    """The test file's lines are scored with the history's lines and outcomes before them, never with
    their own labels, and only they are scored."""
    model = labelled_run.result.model
    history = read_history([folders["train"], folders["valid"]])
    lines_only, labelled = read_folder(folders["test_lines"]), read_folder(folders["test"])
    scores = model.score_data(lines_only, history=history)
    assert scores["line_id"].tolist() == lines_only.lines["line_id"].tolist()
    # Outcomes in the scored folder are ignored: its labelled copy scores the same.
    pd.testing.assert_frame_equal(model.score_data(labelled, history=history), scores)
    # The same as the test lines scored at the end of the whole history, without the test outcomes.
    lines = pd.concat([history.lines, lines_only.lines], ignore_index=True)
    whole = CanonicalData(lines, history.inspections, None, history.extra_columns)
    within = model.score_data(whole).iloc[len(history.lines) :].reset_index(drop=True)
    pd.testing.assert_frame_equal(within, scores)
    # Scored alone, the test lines lose their history; with their labels, later lines see earlier outcomes.
    alone = model.score_data(lines_only)["risk_score"].to_numpy()
    assert not np.allclose(alone, scores["risk_score"].to_numpy())
    assert not np.allclose(model.score_data(labelled)["risk_score"].to_numpy(), alone)


def test_a_holdout_without_outcomes_warns_and_moves_no_champion(
    folders: dict[str, Path], labelled_run: Run
) -> None:
    """Trained with the held-out file loaded without its labels as the holdout: the outcome figures are
    absent with their reason, the run is tagged so, and the new version is challenger beside the champion."""
    service = labelled_run.service
    config = _config(folders["test_lines"], folders["valid"], search=False)
    result = train(folders["train"], service, config, experiment="foreign", register="foreign")
    assert outcomes_absent(result.report) == "no inspected line"
    assert set(result.report["model"]["outcomes"]) == {"lines", "positives", "absent"}
    assert result.decision is not None and result.version == "2"
    assert (result.decision.alias, result.decision.new_value) == ("challenger", None)
    assert "not compared: the holdout has no outcomes (no inspected line)" in result.decision.reason
    assert service.alias_version("foreign", "champion") == "1"
    run = MlflowClient(service.tracking_uri).get_run(result.run_id)
    assert run.data.tags["holdout.outcomes_absent"] == "no inspected line"
    assert run.data.tags["promotion.alias"] == "challenger"
    assert not [m for m in run.data.metrics if ".outcomes.rates." in m or m == "promotion.new_value"]
    assert run.data.metrics["holdout.model.outcomes.lines"] == 0

    # Re-evaluated on the held-out lines alone, the same absence is reported.
    report = evaluate_model(service, "models:/foreign/2", folders["test_lines"])
    assert outcomes_absent(report) == "no inspected line"


def test_a_held_out_file_is_evaluated_against_its_labels_beside_its_history(
    folders: dict[str, Path], labelled_run: Run
) -> None:
    """Its labels measure the very scores `score --history` gives its lines: they never feed its features."""
    history = [folders["train"], folders["valid"]]
    report = evaluate_model(labelled_run.service, "models:/foreign/1", folders["test"], history=history)
    assert report["meta"]["lines"] == 1000
    assert report["meta"]["history"] == f"{folders['train']}, {folders['valid']}"
    scores = labelled_run.result.model.score_data(
        read_folder(folders["test_lines"]), history=read_history(history)
    )
    test = read_folder(folders["test"])
    rates = TrainConfig().evaluation.inspection_rates
    risk, value = scores["risk_score"].to_numpy(), test.lines["value_usd"].to_numpy()
    expected = outcome_report(risk, labels(test), value, rates, prob=risk)
    got = report["model"]["outcomes"]
    assert (got["lines"], got["positives"]) == (1000, expected["positives"])
    assert flatten(got["rates"]) == pytest.approx(flatten(expected["rates"]))
    assert (got["roc_auc"], got["pr_auc"]) == pytest.approx((expected["roc_auc"], expected["pr_auc"]))
    # Without the history, the folder's own outcomes feed the features of its later lines.
    leaky = evaluate_model(labelled_run.service, "models:/foreign/1", folders["test"])["model"]["outcomes"]
    assert leaky["roc_auc"] != pytest.approx(got["roc_auc"], abs=1e-9)
