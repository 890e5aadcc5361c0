"""A held-out file through the commands, as docs/models.md ("Another administration's table") tells: its
labels reach neither training nor promotion nor its own features, and measure the model only in
`evaluate`."""

from dataclasses import dataclass
from pathlib import Path

import pandas as pd
import pytest
from click.testing import Result
from typer.testing import CliRunner

from roundabout.cli import app
from roundabout.data.io import read_folder
from roundabout.settings import get_settings
from tests.support.foreign import write_foreign_files

runner = CliRunner()


@dataclass
class Procedure:
    """The folders the documented commands wrote, the tracking store, and what `train` printed."""

    folders: dict[str, Path]
    env: dict[str, str]
    trained: Result


def _run(env: dict[str, str], *args: str | Path) -> Result:
    return runner.invoke(app, [str(a) for a in args], env=env)


@pytest.fixture(scope="module")
def procedure(tmp_path_factory: pytest.TempPathFactory) -> Procedure:
    """docs/models.md's commands up to `train`, on the hand-made foreign files (`adm` is version 1)."""
    root = tmp_path_factory.mktemp("held_out")
    files = write_foreign_files(root / "source")
    env = {"MLFLOW_TRACKING_URI": f"sqlite:///{root / 'mlflow.db'}", "ROUNDABOUT_HOME": str(root / "home")}
    adm = root / "adm"
    folders = {name: adm / name for name in ("train", "valid", "test", "test_labels")}
    get_settings.cache_clear()
    for name, source, extra in (
        ("train", files["train"], []),
        ("valid", files["valid"], []),
        ("test", files["test"], ["--no-outcomes"]),
        ("test_labels", files["test"], []),
    ):
        args = ["ingest", "--source", source, "--mapping", files["mapping"], "--out", folders[name], *extra]
        done = _run(env, *args)
        assert done.exit_code == 0, done.output
    config = root / "adm_train.yaml"
    config.write_text(
        f"split: {{kind: folders, valid_data: '{folders['valid']}', holdout_data: '{folders['test']}'}}\n"
        "anomaly: {n_estimators: 30}\nsearch: {budget_minutes: 0}\n"  # for speed: fewer trees, no search
    )
    trained = _run(env, "train", "--data", folders["train"], "--config", config, "--register", "adm")
    get_settings.cache_clear()
    return Procedure(folders, env, trained)


def _score(p: Procedure, data: Path, out: Path, *history: Path) -> Result:
    given = [arg for folder in history for arg in ("--history", folder)]
    return _run(p.env, "score", "--model", "models:/adm/1", "--data", data, "--out", out, *given)


def test_training_on_the_held_out_lines_warns_and_promotes_nothing(procedure: Procedure) -> None:
    """No 0.000 precision and NaN AUC: a warning, and the version is challenger (nothing to compare on)."""
    result = procedure.trained
    assert result.exit_code == 0, result.output
    assert "warning: the holdout has no outcomes to measure against (no inspected line)" in result.stderr
    assert "against inspection outcomes" not in result.output and "nan" not in result.output.lower()
    assert "challenger" in result.output and "not compared" in result.output
    assert read_folder(procedure.folders["test"]).inspections.empty


def test_score_with_history_scores_the_held_out_lines_only(procedure: Procedure, tmp_path: Path) -> None:
    f = procedure.folders
    out = tmp_path / "scores.parquet"
    result = _score(procedure, f["test"], out, f["train"], f["valid"])
    assert result.exit_code == 0, result.output
    assert "were ignored" not in result.stderr  # no outcomes in the held-out file: nothing to ignore
    scores = pd.read_parquet(out)
    assert scores["line_id"].tolist() == read_folder(f["test"]).lines["line_id"].tolist()

    # The labelled copy of the same file: its outcomes are ignored, with a note, and the scores are the same.
    labelled = tmp_path / "labelled.parquet"
    result = _score(procedure, f["test_labels"], labelled, f["train"], f["valid"])
    assert result.exit_code == 0, result.output
    n = len(read_folder(f["test_labels"]).inspections)
    assert f"note: the {n:,} inspection outcomes in {f['test_labels']} were ignored" in result.stderr
    assert "features take outcomes from the history only" in result.stderr
    pd.testing.assert_frame_equal(pd.read_parquet(labelled), scores)


def test_score_with_a_history_that_overlaps_is_refused(procedure: Procedure, tmp_path: Path) -> None:
    f = procedure.folders
    result = _score(procedure, f["test"], tmp_path / "s.parquet", f["test_labels"])
    assert result.exit_code == 2
    assert "error: history: line_id 'D20000/1' is in both --history and --data" in result.stderr
    assert not (tmp_path / "s.parquet").exists()


def test_evaluate_a_held_out_file_against_its_labels_beside_its_history(procedure: Procedure) -> None:
    f = procedure.folders
    result = _run(procedure.env, "evaluate", "--model", "models:/adm/1", "--data", f["test_labels"],
                  "--history", f["train"], "--history", f["valid"])  # fmt: skip
    assert result.exit_code == 0, result.output
    assert "against inspection outcomes" in result.output and "PR-AUC" in result.output
    assert "warning" not in result.stderr
    assert f"evaluated 1,000 lines of {f['test_labels']}" in result.output
    assert f"after the history {f['train']}, {f['valid']}" in result.output


def test_evaluate_a_period_without_outcomes_warns(procedure: Procedure) -> None:
    result = _run(procedure.env, "evaluate", "--model", "models:/adm/1", "--data", procedure.folders["test"])
    assert result.exit_code == 0, result.output
    assert "warning: the evaluated period (2023-07-01 to " in result.stderr
    assert "has no outcomes to measure against (no inspected line)" in result.stderr
    assert "PR-AUC" not in result.output
