"""Data commands: `simulate`, `ingest` and `features` write what they say, and bad input exits 2 with a
message naming the problem, without a traceback."""

from pathlib import Path

import pandas as pd
import pytest
from typer.testing import CliRunner

from roundabout.cli import app
from roundabout.data.io import read_folder
from roundabout.settings import get_settings

EXAMPLES = Path(__file__).parents[2] / "docs" / "examples"
runner = CliRunner()


def test_simulate_writes_a_canonical_folder(tmp_path: Path) -> None:
    result = runner.invoke(app, ["simulate", "--out", str(tmp_path / "w"), "--lines", "3000", "--seed", "2"])
    assert result.exit_code == 0, result.output
    data = read_folder(tmp_path / "w")
    assert len(data.lines) == 3000 and data.truth is not None and len(data.truth) == 3000
    assert "reexport_chain" in result.output and "inspections" in result.output


def test_simulate_a_foreign_shaped_world_with_its_source_files(tmp_path: Path) -> None:
    out = tmp_path / "w"
    args = ["simulate", "--out", str(out), "--lines", "3000", "--seed", "2", "--shape", "foreign"]
    result = runner.invoke(app, args)
    assert result.exit_code == 0, result.output
    data = read_folder(out)
    assert data.lines["trader_id"].str.fullmatch(r"IMP\d{6}").all() and data.truth is not None
    assert set(data.extra_columns) == {"tax_rate", "tax_type", "process_type", "payment_type"}
    source, mapping = out / "source" / "declarations.csv", out / "source" / "mapping.yaml"
    assert source.exists() and mapping.exists() and str(source) in result.output.replace("\n", "")
    back = tmp_path / "back"
    args = ["ingest", "--source", str(source), "--mapping", str(mapping), "--out", str(back)]
    result = runner.invoke(app, args)
    assert result.exit_code == 0, result.output
    assert pd.read_csv(back / "rejects.csv").empty and len(read_folder(back).lines) == len(data.lines)
    # the YAML config may set the shape too
    config = tmp_path / "world.yaml"
    config.write_text("n_lines: 2000\nshape: foreign\nforeign: {declarants: 50}\n")
    result = runner.invoke(app, ["simulate", "--out", str(tmp_path / "y"), "--config", str(config)])
    assert result.exit_code == 0, result.output
    assert read_folder(tmp_path / "y").lines["declarant_id"].nunique() <= 50
    assert (tmp_path / "y" / "source" / "declarations.csv").exists()


def test_simulate_defaults_to_the_settings_data_folder() -> None:
    result = runner.invoke(app, ["simulate", "--lines", "500"])
    assert result.exit_code == 0, result.output
    assert (get_settings().data_dir / "lines.parquet").exists()


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["--lines", "0"], "n_lines"),
        (["--lines", "-5"], "n_lines"),
        (["--start", "2024-01-01", "--end", "2023-01-01"], "after start"),
        (["--start", "2024-13-01"], "--start: '2024-13-01' is not a date"),
        (["--shape", "korean"], "shape: Input should be 'kazakh' or 'foreign'"),
        (["--config", "missing.yaml"], "simulation config file not found: missing.yaml"),
    ],
)
def test_bad_simulate_options_exit_2_with_a_message(tmp_path: Path, args: list[str], message: str) -> None:
    result = runner.invoke(app, ["simulate", "--out", str(tmp_path / "w"), *args])
    assert result.exit_code == 2
    assert message in result.stderr
    assert "Traceback" not in result.output


def test_simulate_config_errors_name_the_key(tmp_path: Path) -> None:
    config = tmp_path / "world.yaml"
    config.write_text("schemes: {shell_company: {prevalance: 0.02}}\n")
    result = runner.invoke(app, ["simulate", "--out", str(tmp_path / "w"), "--config", str(config)])
    assert result.exit_code == 2
    assert f"simulation config {config}: schemes.shell_company.prevalance: Extra inputs" in result.stderr


def test_ingest_loads_and_reports(tmp_path: Path) -> None:
    out = tmp_path / "out"
    source, mapping = EXAMPLES / "astana1_goods.csv", EXAMPLES / "astana1_goods.yaml"
    result = runner.invoke(
        app, ["ingest", "--source", str(source), "--mapping", str(mapping), "--out", str(out)]
    )
    assert result.exit_code == 0, result.output
    assert "rows read" in result.output and "duplicate line_id" in result.output
    assert (out / "lines.parquet").exists() and (out / "rejects.csv").exists()


def test_ingest_can_leave_the_outcomes_out(tmp_path: Path) -> None:
    out = tmp_path / "out"
    source, mapping = EXAMPLES / "astana1_goods.csv", EXAMPLES / "astana1_goods.yaml"
    args = ["ingest", "--source", str(source), "--mapping", str(mapping), "--out", str(out), "--no-outcomes"]
    result = runner.invoke(app, args)
    assert result.exit_code == 0, result.output
    assert "inspection outcomes: left out (--no-outcomes)" in result.output
    assert "inspections" not in result.output.replace("inspection outcomes", "")
    data = read_folder(out)
    assert len(data.lines) == 3 and data.inspections.empty


def test_ingest_user_errors_exit_2_without_traceback(tmp_path: Path) -> None:
    bad = tmp_path / "bad.yaml"
    bad.write_text("name: [unclosed\n")
    result = runner.invoke(
        app, ["ingest", "--source", "nope.csv", "--mapping", str(bad), "--out", str(tmp_path)]
    )
    assert result.exit_code == 2
    assert f"mapping {bad} is not valid YAML" in result.stderr and "name: [unclosed" in result.stderr
    assert "Traceback" not in result.output
    mapping = EXAMPLES / "astana1_goods.yaml"
    args = [
        "ingest",
        "--source",
        str(tmp_path / "nope.csv"),
        "--mapping",
        str(mapping),
        "--out",
        str(tmp_path),
    ]
    result = runner.invoke(app, args)
    assert result.exit_code == 2
    assert "source file not found" in result.stderr


def test_features_writes_the_frame_and_its_artifacts(small_world: Path, tmp_path: Path) -> None:
    out = tmp_path / "out" / "features.parquet"
    result = runner.invoke(app, ["features", "--data", str(small_world), "--out", str(out)])
    assert result.exit_code == 0, result.output
    frame = pd.read_parquet(out)
    assert len(frame) == 500 and frame.index.name == "line_id"
    assert (tmp_path / "out" / "features_artifacts" / "feature_artifacts.json").exists()
    assert "rows" in result.output and "500" in result.output

    again = tmp_path / "again.parquet"
    args = ["features", "--data", str(small_world), "--out", str(again)]
    result = runner.invoke(app, [*args, "--artifacts", str(tmp_path / "out" / "features_artifacts")])
    assert result.exit_code == 0, result.output
    pd.testing.assert_frame_equal(pd.read_parquet(again), frame)


def test_features_user_errors_exit_2(small_world: Path, tmp_path: Path) -> None:
    result = runner.invoke(
        app, ["features", "--data", str(tmp_path / "nope"), "--out", str(tmp_path / "f.pq")]
    )
    assert result.exit_code == 2 and "is not a canonical data folder" in result.stderr
    (tmp_path / "w").mkdir()
    args = [
        "features",
        "--data",
        str(small_world),
        "--out",
        str(tmp_path / "x.pq"),
        "--artifacts",
        str(tmp_path / "w"),
    ]
    result = runner.invoke(app, args)
    assert result.exit_code == 2 and f"no feature artifacts at {tmp_path / 'w'}" in result.stderr
