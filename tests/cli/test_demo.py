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


DRIFT = Path(__file__).resolve().parents[2] / "docs" / "examples" / "drift.yaml"


@pytest.mark.slow
def test_the_drift_demo_shows_the_monitor_firing() -> None:
    """The documented example: trained on the months before the first shift, the rest replayed through the
    scoring path, the monitor names the new code and raises alerts."""
    result = runner.invoke(app, ["demo", "--drift", str(DRIFT), "--lines", "20000", "--no-serve"])
    assert result.exit_code == 0, result.output
    assert "replay the shifted months and monitor them" in result.output
    assert "raw_hs6" in result.output and "852411" in result.output
    assert "alert (" in result.stderr
    home = Path(get_settings().home)
    assert (home / "monitor-report.html").read_text().startswith("<!doctype html>")


@pytest.mark.parametrize(
    ("body", "message"),
    [
        ("n_lines: 3000\n", "no `drift:` list"),
        ("drift:\n  - {kind: price_shock, factor: 2}\n", "every shift needs `starts`"),
        ("drift:\n  - {kind: price_shock, factor: -2, starts: 2024-01-01}\n", "drift.0.price_shock.factor"),
    ],
)
def test_a_bad_drift_file_stops_the_demo_before_any_work(tmp_path: Path, body: str, message: str) -> None:
    path = tmp_path / "drift.yaml"
    path.write_text(body)
    result = runner.invoke(app, ["demo", "--drift", str(path), "--lines", "3000", "--no-serve"])
    assert result.exit_code == 2, result.output
    assert message in result.stderr
    assert not (Path(get_settings().home) / "world").exists()
