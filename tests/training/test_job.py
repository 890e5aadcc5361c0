"""The `roundabout train` command rejects bad input with a message and exit code 2."""

from pathlib import Path

from typer.testing import CliRunner

from roundabout.cli import app


def test_cli_rejects_bad_input(tmp_path: Path) -> None:
    runner = CliRunner()
    result = runner.invoke(app, ["train", "--data", str(tmp_path)])
    assert result.exit_code == 2 and "not a canonical data folder" in result.output
    bad = tmp_path / "bad.yaml"
    bad.write_text("classifier: {num_leavs: 3}\n")
    result = runner.invoke(app, ["train", "--data", str(tmp_path), "--config", str(bad)])
    assert result.exit_code == 2 and "num_leavs" in result.output
