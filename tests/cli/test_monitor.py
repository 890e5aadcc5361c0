"""`roundabout monitor`: the drift table, the report files and the exit codes, on a served shifted world."""

import json
from datetime import date
from pathlib import Path

import pytest
from typer.testing import CliRunner

from roundabout.cli import app
from roundabout.models.mlflow_service import MlflowService
from roundabout.simulation import SimulationConfig
from tests.support.monitoring import serve_world

runner = CliRunner()


@pytest.fixture(scope="module")
def registered(tmp_path_factory: pytest.TempPathFactory) -> tuple[str, str]:
    """(tracking URI, store URL): a model @champion and its decisions on two months of shifted prices."""
    root = tmp_path_factory.mktemp("monitor-cli")
    world = {"n_lines": 30_000, "seed": 4, "end": "2024-10-31"}
    config = SimulationConfig.model_validate(
        {**world, "drift": [{"kind": "price_shock", "factor": 4.0, "starts": "2024-09-01"}]}
    )
    store_url = f"sqlite:///{root / 'store.db'}"
    served = serve_world(config, date(2024, 9, 1), root, store_url)
    tracking = f"sqlite:///{root / 'mlflow.db'}"
    service = MlflowService(tracking, root / "artifacts", "roundabout")
    with service.start_run("monitor-test"):
        uri = service.log_model(served.model, served.store.exporter.lines().head(3))
    version = service.register(uri, "roundabout")
    service.set_alias("roundabout", "champion", version)
    served.store.dispose()
    return tracking, store_url


def test_monitor_prints_what_drifted_and_writes_the_report(
    registered: tuple[str, str], tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    tracking, store_url = registered
    monkeypatch.setenv("MLFLOW_TRACKING_URI", tracking)
    html, figures = tmp_path / "out" / "report.html", tmp_path / "figures.json"
    args = ["monitor", "--store", store_url, "--since", "4w", "--html", str(html), "--json", str(figures)]
    result = runner.invoke(app, [*args, "--fail-on-alert"])
    assert result.exit_code == 1, result.output  # the price shock raises alerts
    assert "inputs that moved most" in result.output and "uv_kg_z" in result.output
    assert "drifted" in result.output and "alert (critical): uv_kg_abs_z" in result.stderr
    body = json.loads(figures.read_text())
    assert body["first"] == "2024-10-04" and body["last"] == "2024-10-31"
    assert any(a["subject"] == "uv_kg_z" for a in body["alerts"])
    assert html.read_text().startswith("<!doctype html>")
    quiet = runner.invoke(app, [*args, "--until", "2024-09-10", "--since", "5d", "--min-lines", "100000"])
    assert quiet.exit_code == 0, quiet.output  # alerts are reported, exit 0 without --fail-on-alert
    assert json.loads(figures.read_text())["first"] == "2024-09-06"


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["--since", "soon"], "--since: expected a number of days or weeks"),
        (["--since", "0d"], "--since"),
        (["--until", "31/10/2024"], "--until: expected a date YYYY-MM-DD"),
        (["--model", "models:/nobody@champion"], "not found"),
    ],
)
def test_bad_options_exit_2_naming_them(
    registered: tuple[str, str],
    monkeypatch: pytest.MonkeyPatch,
    tmp_path: Path,
    args: list[str],
    message: str,
) -> None:
    tracking, store_url = registered
    monkeypatch.setenv("MLFLOW_TRACKING_URI", tracking)
    result = runner.invoke(app, ["monitor", "--store", store_url, "--html", str(tmp_path / "r.html"), *args])
    assert result.exit_code == 2, result.output
    assert message in result.stderr and "Traceback" not in result.output


def test_no_store_yet_says_what_to_do(tmp_path: Path) -> None:
    result = runner.invoke(app, ["monitor", "--html", str(tmp_path / "r.html")])
    assert result.exit_code == 2
    assert "no service store at" in result.stderr and "--store" in result.stderr
    assert not (tmp_path / "r.html").exists()
