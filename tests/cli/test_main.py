"""The console script and `python -m roundabout.cli` are the same Typer app."""

import subprocess
import sys
import tomllib
from pathlib import Path

from roundabout.cli import app

ROOT = Path(__file__).parents[2]


def test_the_console_script_is_the_cli_app() -> None:
    scripts = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]["scripts"]
    assert scripts == {"roundabout": "roundabout.cli:app"}
    assert app.info.name == "roundabout"


def test_python_dash_m_runs_the_cli() -> None:
    done = subprocess.run(
        [sys.executable, "-m", "roundabout.cli", "--version"], capture_output=True, text=True, timeout=120
    )
    assert done.returncode == 0, done.stderr
    assert done.stdout.startswith("roundabout ")
    args = ["evaluate", "--model", "models:/x@champion", "--data", "/nowhere"]
    done = subprocess.run(
        [sys.executable, "-m", "roundabout.cli", *args], capture_output=True, text=True, timeout=120
    )
    assert done.returncode == 2 and done.stderr.startswith("error: /nowhere is not a canonical data folder")
