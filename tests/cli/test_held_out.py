"""A held-out file through the commands: scored beside its history without its own labels."""

from dataclasses import dataclass
from pathlib import Path

import pandas as pd
import pytest
from click.testing import Result
from typer.testing import CliRunner

from roundabout.cli import app
from roundabout.data.io import read_folder
from roundabout.models.mlflow_service import MlflowService
from roundabout.training import TrainConfig, train
from tests.support.foreign import ingest_foreign

runner = CliRunner()


@dataclass
class Foreign:
    folders: dict[str, Path]
    tracking_uri: str


@pytest.fixture(scope="module")
def foreign(tmp_path_factory: pytest.TempPathFactory) -> Foreign:
    """The foreign files ingested, and a model trained on them (registered as `roundabout`, version 1)."""
    root = tmp_path_factory.mktemp("held_out")
    folders = ingest_foreign(root)
    tracking_uri = f"sqlite:///{root / 'mlflow.db'}"
    config = TrainConfig.model_validate(
        {
            "split": {"kind": "folders", "valid_data": folders["valid"], "holdout_data": folders["test"]},
            "anomaly": {"n_estimators": 30},
            "channels": {"period_days": 30},
        }
    )
    train(folders["train"], MlflowService(tracking_uri, root / "mlartifacts"), config)
    return Foreign(folders, tracking_uri)


def _invoke(foreign: Foreign, *args: str | Path) -> Result:
    return runner.invoke(app, [str(a) for a in args], env={"MLFLOW_TRACKING_URI": foreign.tracking_uri})


def _score(foreign: Foreign, data: Path, out: Path, *history: Path) -> Result:
    given = [arg for folder in history for arg in ("--history", folder)]
    return _invoke(foreign, "score", "--model", "models:/roundabout/1", "--data", data, "--out", out, *given)


def test_score_with_history_scores_the_held_out_lines_only(foreign: Foreign, tmp_path: Path) -> None:
    f = foreign.folders
    out = tmp_path / "scores.parquet"
    result = _score(foreign, f["test_lines"], out, f["train"], f["valid"])
    assert result.exit_code == 0, result.output
    assert "note:" not in result.stderr
    scores = pd.read_parquet(out)
    assert scores["line_id"].tolist() == read_folder(f["test_lines"]).lines["line_id"].tolist()

    # The labelled copy of the same file: its outcomes are ignored, with a note, and the scores are the same.
    labelled = tmp_path / "labelled.parquet"
    result = _score(foreign, f["test"], labelled, f["train"], f["valid"])
    assert result.exit_code == 0, result.output
    assert f"note: the {len(read_folder(f['test']).inspections):,} inspection outcomes in {f['test']}" in (
        result.stderr
    )
    assert "features take outcomes from the history only" in result.stderr
    pd.testing.assert_frame_equal(pd.read_parquet(labelled), scores)


def test_score_with_a_history_that_overlaps_is_refused(foreign: Foreign, tmp_path: Path) -> None:
    f = foreign.folders
    result = _score(foreign, f["test_lines"], tmp_path / "s.parquet", f["test"])
    assert result.exit_code == 2
    assert "error: history: line_id 'D20000/1' is in both --history and --data" in result.stderr
    assert not (tmp_path / "s.parquet").exists()


def test_train_on_a_holdout_without_outcomes_warns(foreign: Foreign, tmp_path: Path) -> None:
    """No 0.000 precision and NaN AUC: a warning, and the version is challenger (nothing to compare on)."""
    f = foreign.folders
    config = tmp_path / "train.yaml"
    config.write_text(
        f"split: {{kind: folders, valid_data: '{f['valid']}', holdout_data: '{f['test_lines']}'}}\n"
        "anomaly: {n_estimators: 30}\nchannels: {period_days: 30}\n"
    )
    env = {"MLFLOW_TRACKING_URI": f"sqlite:///{tmp_path / 'mlflow.db'}"}
    result = runner.invoke(app, ["train", "--data", str(f["train"]), "--config", str(config)], env=env)
    assert result.exit_code == 0, result.output
    assert "warning: the holdout has no outcomes to measure against (no inspected line)" in result.stderr
    assert "against inspection outcomes" not in result.output and "nan" not in result.output.lower()
    assert "challenger" in result.output and "not compared" in result.output


def test_evaluate_a_period_without_outcomes_warns(foreign: Foreign) -> None:
    f = foreign.folders
    result = _invoke(foreign, "evaluate", "--model", "models:/roundabout/1", "--data", f["test_lines"])
    assert result.exit_code == 0, result.output
    assert "warning: the evaluated period (2023-07-01 to " in result.stderr
    assert "has no outcomes to measure against (no inspected line)" in result.stderr
    assert "PR-AUC" not in result.output


def test_evaluate_a_held_out_file_beside_its_history(foreign: Foreign) -> None:
    f = foreign.folders
    result = _invoke(foreign, "evaluate", "--model", "models:/roundabout/1", "--data", f["test"],
                     "--history", f["train"], "--history", f["valid"])  # fmt: skip
    assert result.exit_code == 0, result.output
    assert "against inspection outcomes" in result.output and "PR-AUC" in result.output
    assert "warning" not in result.stderr
    assert f"evaluated 1,000 lines of {f['test']}" in result.output
    assert f"after the history {f['train']}, {f['valid']}" in result.output.replace("\n", "")
