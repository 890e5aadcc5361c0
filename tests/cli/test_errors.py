"""Every command reports a user's error as `error: <message>` on stderr, exit code 2, no traceback, and the
message is printed as it is: paths and YAML errors with square brackets are not taken for Rich markup."""

import os
import subprocess
import sys
import time
from pathlib import Path

from typer.testing import CliRunner

from roundabout.cli import app

runner = CliRunner()


def test_a_path_with_a_closing_tag_is_printed_as_it_is(tmp_path: Path) -> None:
    odd = tmp_path / "x[/old]"
    odd.mkdir(parents=True)
    result = runner.invoke(app, ["train", "--data", str(odd)])
    assert result.exit_code == 2, result.output
    assert f"error: {odd} is not a canonical data folder" in result.stderr
    assert "Traceback" not in result.output


def test_a_path_with_a_style_tag_keeps_it(tmp_path: Path) -> None:
    odd = tmp_path / "[red]x"
    result = runner.invoke(app, ["train", "--data", str(odd)])
    assert result.exit_code == 2, result.output
    assert f"error: {odd} is not a canonical data folder" in result.stderr


def test_a_yaml_error_keeps_its_brackets(tmp_path: Path, small_world: Path) -> None:
    bad = tmp_path / "bad.yaml"
    bad.write_text("classifier: [unclosed\n")
    result = runner.invoke(app, ["train", "--data", str(small_world), "--config", str(bad)])
    assert result.exit_code == 2, result.output
    assert "classifier: [unclosed" in result.stderr
    assert "expected ',' or ']'" in result.stderr


def test_a_setting_the_service_cannot_take_is_named_not_a_traceback(monkeypatch) -> None:
    monkeypatch.setenv("ROUNDABOUT_MAX_BATCH_LINES", "abc")
    monkeypatch.setenv("ROUNDABOUT_MIN_DATE", "yesterday")
    result = runner.invoke(app, ["keys", "list"])
    assert result.exit_code == 2, result.output
    assert result.stderr.startswith("error: invalid setting: ")
    assert "ROUNDABOUT_MAX_BATCH_LINES='abc': Input should be a valid integer" in result.stderr
    assert "ROUNDABOUT_MIN_DATE='yesterday': Input should be a valid date" in result.stderr
    assert "Traceback" not in result.output


def test_a_tracking_server_that_is_down_is_reported_in_seconds_not_minutes(
    tmp_path: Path, small_world: Path
) -> None:
    """MLflow's own retries took four minutes to say a server on a dead port is down."""
    env = {**os.environ, "MLFLOW_TRACKING_URI": "http://127.0.0.1:9", "ROUNDABOUT_HOME": str(tmp_path)}
    for name in ("MLFLOW_HTTP_REQUEST_MAX_RETRIES", "MLFLOW_HTTP_REQUEST_TIMEOUT"):
        env.pop(name, None)
    start = time.monotonic()
    done = subprocess.run(
        [str(Path(sys.executable).parent / "roundabout"), "evaluate", "--data", str(small_world), "--model",
         "models:/roundabout@champion"],
        env=env, capture_output=True, text=True, timeout=120,
    )  # fmt: skip
    assert time.monotonic() - start < 60
    assert done.returncode == 3, done.stderr
    assert "error: the MLflow tracking server http://127.0.0.1:9 did not answer (2 retries)" in done.stderr
