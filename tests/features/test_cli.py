"""`roundabout features`: builds the parquet, saves artifacts beside it, reuses saved ones, fails cleanly."""

import pandas as pd
from typer.testing import CliRunner

from roundabout.cli import app
from roundabout.data.io import write_folder

runner = CliRunner()


def test_features_command_writes_frame_and_artifacts(hist, tmp_path) -> None:
    data = hist.random_history(300, seed=4)
    write_folder(data, tmp_path / "world")
    out = tmp_path / "out" / "features.parquet"
    result = runner.invoke(app, ["features", "--data", str(tmp_path / "world"), "--out", str(out)])
    assert result.exit_code == 0, result.output
    frame = pd.read_parquet(out)
    assert len(frame) == 300 and frame.index.name == "line_id"
    assert (tmp_path / "out" / "features_artifacts" / "feature_artifacts.json").exists()
    assert "rows" in result.output and "300" in result.output

    again = tmp_path / "again.parquet"
    args = ["features", "--data", str(tmp_path / "world"), "--out", str(again)]
    result = runner.invoke(app, [*args, "--artifacts", str(tmp_path / "out" / "features_artifacts")])
    assert result.exit_code == 0, result.output
    pd.testing.assert_frame_equal(pd.read_parquet(again), frame)


def test_features_command_user_errors_exit_2(tmp_path) -> None:
    result = runner.invoke(
        app, ["features", "--data", str(tmp_path / "nope"), "--out", str(tmp_path / "f.parquet")]
    )
    assert result.exit_code == 2
    (tmp_path / "w").mkdir()
    result = runner.invoke(
        app,
        [
            "features",
            "--data",
            str(tmp_path / "nope"),
            "--out",
            "x.parquet",
            "--artifacts",
            str(tmp_path / "w"),
        ],
    )
    assert result.exit_code == 2
