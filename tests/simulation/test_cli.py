"""The `roundabout simulate` command: writes the canonical folder; bad options exit 2 without a traceback."""

from pathlib import Path

import pytest
from typer.testing import CliRunner

from roundabout.cli import app
from roundabout.data.io import read_folder

runner = CliRunner()


def test_simulate_writes_a_canonical_folder(tmp_path: Path) -> None:
    result = runner.invoke(app, ["simulate", "--out", str(tmp_path / "w"), "--lines", "3000", "--seed", "2"])
    assert result.exit_code == 0, result.output
    data = read_folder(tmp_path / "w")
    assert len(data.lines) == 3000 and data.truth is not None and len(data.truth) == 3000
    assert "reexport_chain" in result.output and "inspections" in result.output


def test_simulate_defaults_to_the_settings_data_folder() -> None:
    from roundabout.settings import get_settings

    result = runner.invoke(app, ["simulate", "--lines", "500"])
    assert result.exit_code == 0, result.output
    assert (get_settings().data_dir / "lines.parquet").exists()


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["--lines", "0"], "n_lines"),
        (["--lines", "-5"], "n_lines"),
        (["--start", "2024-01-01", "--end", "2023-01-01"], "after start"),
        (["--start", "2024-13-01"], "not a date"),
        (["--config", "missing.yaml"], "simulation config file not found: missing.yaml"),
    ],
)
def test_bad_options_exit_2_with_a_message(tmp_path: Path, args: list[str], message: str) -> None:
    result = runner.invoke(app, ["simulate", "--out", str(tmp_path / "w"), *args])
    assert result.exit_code == 2
    assert message in result.output
    assert "Traceback" not in result.output
