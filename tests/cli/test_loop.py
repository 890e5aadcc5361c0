"""`roundabout simulate-loop`: bad options are refused before any work, with the option named; a short run
writes its tables, its curves and an MLflow run."""

import os
import subprocess
import sys
from pathlib import Path

import pandas as pd
import pytest
from mlflow.tracking import MlflowClient
from typer.testing import CliRunner

from roundabout.cli import app

runner = CliRunner()


@pytest.mark.parametrize(
    ("args", "named"),
    [
        (["--policies", "greedy,bold"], "--policies: unknown bold"),
        (["--periods", "1"], "periods"),
        (["--lines", "100"], "lines"),
    ],
)
def test_bad_options_are_refused_naming_them(tmp_path: Path, args: list[str], named: str) -> None:
    result = runner.invoke(app, ["simulate-loop", "--out", str(tmp_path / "loop"), *args])
    assert result.exit_code == 2, result.output
    assert named in result.stderr and "Traceback" not in result.output
    assert not (tmp_path / "loop" / "mlflow.db").exists()  # nothing was run


@pytest.mark.slow
def test_a_short_loop_writes_its_tables_curves_and_run(tmp_path: Path) -> None:
    env = {**os.environ, "ROUNDABOUT_HOME": str(tmp_path / "home")}
    env.pop("MLFLOW_TRACKING_URI", None)
    command = [sys.executable, "-m", "roundabout.cli", "simulate-loop", "--lines", "20000", "--periods", "3"]
    done = subprocess.run(
        [*command, "--policies", "greedy,uniform-5"], env=env, capture_output=True, text=True, timeout=900
    )
    assert done.returncode == 0, done.stdout + done.stderr
    folder = tmp_path / "home" / "loop"
    summary = pd.read_csv(folder / "loop_summary.csv", index_col="policy")
    assert list(summary.index) == ["greedy", "uniform-5"]
    assert summary.loc["greedy", "explored"] == 0 and summary.loc["uniform-5", "explored"] > 0
    # the same capacity for both: exactly its share of each period's lines
    periods = pd.read_csv(folder / "loop_periods.csv")
    by_period = periods.pivot(index="period", columns="policy", values="inspections")
    assert (by_period["greedy"] == by_period["uniform-5"]).all()
    assert (folder / "loop_curves.png").stat().st_size > 10_000
    client = MlflowClient(f"sqlite:///{(tmp_path / 'home' / 'mlflow.db').resolve()}")
    (run,) = client.search_runs([client.get_experiment_by_name("loop").experiment_id])
    assert run.data.metrics["greedy.inspections"] == summary.loc["greedy", "inspections"]
    assert "plots/loop_curves.png" in {a.path for a in client.list_artifacts(run.info.run_id, "plots")}


def test_options_of_the_new_scheme_the_world_does_not_have_are_refused(tmp_path: Path) -> None:
    config = tmp_path / "loop.yaml"
    config.write_text("new_scheme_options: {coalition_share: 0}\n")
    result = runner.invoke(app, ["simulate-loop", "--out", str(tmp_path / "loop"), "--config", str(config)])
    assert result.exit_code == 2, result.output
    assert "schemes.transit_diversion.coalition_share" in result.stderr
