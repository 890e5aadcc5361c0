"""`roundabout demo`: a busy port stops it before any work; a re-run reuses the registered version."""

from pathlib import Path

import pytest
from typer.testing import CliRunner

from roundabout.cli import app
from roundabout.settings import get_settings

runner = CliRunner()


def test_a_busy_port_stops_the_demo_before_any_work(busy_port: int) -> None:
    result = runner.invoke(app, ["demo", "--port", str(busy_port), "--lines", "3000"])
    assert result.exit_code == 2, result.output
    assert f"port {busy_port}" in result.stderr and "--port" in result.stderr
    assert not Path(get_settings().home).exists()


@pytest.mark.slow
def test_a_demo_run_again_reuses_the_registered_version() -> None:
    from mlflow import MlflowClient

    args = ["demo", "--lines", "20000", "--no-serve"]
    first = runner.invoke(app, args)
    assert first.exit_code == 0, first.output
    second = runner.invoke(app, args)
    assert second.exit_code == 0, second.output
    assert "reusing version 1" in second.output
    versions = MlflowClient(get_settings().mlflow_tracking_uri).search_model_versions("name='roundabout'")
    assert [str(v.version) for v in versions] == ["1"]
