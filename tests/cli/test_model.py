"""`evaluate` and `score` without a tracking store: they create nothing and say where they looked."""

from pathlib import Path

import pytest
from typer.testing import CliRunner

from roundabout.cli import app
from roundabout.settings import get_settings
from tests.support.server import Registry

runner = CliRunner()


@pytest.mark.parametrize("command", ["evaluate", "score"])
def test_read_only_commands_do_not_create_the_home(command: str, small_world: Path, tmp_path: Path) -> None:
    home = get_settings().home
    args = [command, "--model", "models:/roundabout@champion", "--data", str(small_world)]
    if command == "score":
        args += ["--out", str(tmp_path / "scores.parquet")]
    result = runner.invoke(app, args)
    assert result.exit_code == 2, result.output
    assert str(home.resolve() / "mlflow.db") in result.stderr
    assert "Traceback" not in result.output
    assert not home.exists()


def test_train_rejects_bad_input(tmp_path: Path, small_world: Path) -> None:
    result = runner.invoke(app, ["train", "--data", str(tmp_path)])
    assert result.exit_code == 2 and f"error: {tmp_path} is not a canonical data folder" in result.stderr
    bad = tmp_path / "bad.yaml"
    bad.write_text("classifier: {num_leavs: 3}\n")
    result = runner.invoke(app, ["train", "--data", str(small_world), "--config", str(bad)])
    assert result.exit_code == 2
    assert f"training config {bad}: classifier.num_leavs: Extra inputs are not permitted" in result.stderr
    result = runner.invoke(app, ["train"])
    assert result.exit_code == 2 and "give exactly one of --data DIR and --from-store" in result.stderr
    assert not get_settings().home.exists()


def test_train_refuses_an_unknown_target_stats_column(tmp_path: Path, small_world: Path) -> None:
    config = tmp_path / "train.yaml"
    config.write_text("target_stats: {columns: [trader_id, declarant]}\n")
    result = runner.invoke(app, ["train", "--data", str(small_world), "--config", str(config)])
    assert result.exit_code == 2, result.output
    assert "error: target_stats.columns: 'declarant': not an id column of the data" in result.stderr
    assert "Traceback" not in result.output
    assert not get_settings().home.exists()


@pytest.mark.slow
def test_evaluate_says_which_period_it_evaluated(registry: Registry, monkeypatch: pytest.MonkeyPatch) -> None:
    """Without --since: the model's holdout period, not the lines it was trained on."""
    from roundabout.models.mlflow_service import MlflowService

    monkeypatch.setenv("MLFLOW_TRACKING_URI", registry.tracking_uri)
    args = ["evaluate", "--model", "models:/roundabout@champion", "--data", str(registry.data_dir)]
    result = runner.invoke(app, args)
    assert result.exit_code == 0, result.output
    assert "against ground truth" in result.output and "PR-AUC" in result.output
    model = MlflowService(registry.tracking_uri).load_model("models:/roundabout@champion")
    holdout = model.metadata["trained_on"]["holdout"]
    assert f"evaluated {holdout['lines']:,} lines" in result.output
    assert f"the model's holdout period, {holdout['start']} to {holdout['end']}" in result.output
