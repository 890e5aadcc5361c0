"""`roundabout features --engine dask`: the features of a partitioned folder as the in-process command
writes them, and clear errors (never a traceback) for a scheduler that cannot be reached, a bad memory size
and a folder whose part files disagree."""

import shutil
from pathlib import Path

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.parquet as pq
import pytest
from typer.testing import CliRunner

from roundabout.cli import app
from roundabout.data.io import read_folder, write_folder


@pytest.fixture
def partitioned(small_world: Path, tmp_path: Path) -> Path:
    out = tmp_path / "parts"
    write_folder(read_folder(small_world), out, partitioned=True)
    return out


@pytest.mark.slow
def test_the_dask_command_writes_the_features_the_pandas_one_does(
    partitioned: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("ROUNDABOUT_HOME", str(tmp_path / "home"))
    runner = CliRunner()
    plain = runner.invoke(app, ["features", "--data", str(partitioned), "--out", str(tmp_path / "p.parquet")])
    assert plain.exit_code == 0, plain.output
    artifacts = tmp_path / "p_artifacts"
    args = [
        "features",
        "--data",
        str(partitioned),
        "--out",
        str(tmp_path / "d"),
        "--artifacts",
        str(artifacts),
    ]
    done = runner.invoke(app, [*args, "--engine", "dask", "--workers", "2", "--worker-memory", "1GB"])
    assert done.exit_code == 0, done.output
    assert "dashboard http" in done.output
    expected, got = pd.read_parquet(tmp_path / "p.parquet"), pd.read_parquet(tmp_path / "d")
    got = got.loc[expected.index, list(expected.columns)]
    assert np.isclose(expected.to_numpy(), got.to_numpy(), rtol=1e-9, atol=1e-9, equal_nan=True).all()


def test_bad_engine_options_and_folders_are_clear_errors(partitioned: Path, tmp_path: Path) -> None:
    runner = CliRunner()
    base = ["features", "--data", str(partitioned), "--out", str(tmp_path / "d"), "--engine", "dask"]
    unreachable = runner.invoke(app, [*base, "--scheduler", "tcp://127.0.0.1:9"])
    assert (
        unreachable.exit_code == 3
        and "cannot reach the Dask scheduler at tcp://127.0.0.1:9" in unreachable.output
    )
    size = runner.invoke(app, [*base, "--worker-memory", "lots"])
    assert size.exit_code == 2 and "--worker-memory: not a size: 'lots'" in size.output
    month = next((partitioned / "lines").iterdir())
    pq.write_table(pa.table({"line_id": ["X"]}), month / "part-9.parquet")
    mixed = runner.invoke(app, base)
    assert mixed.exit_code == 2 and "part-9.parquet: its schema differs from the folder's" in mixed.output
    shutil.rmtree(month)
    (partitioned / "lines" / "2023").mkdir()
    stray = runner.invoke(app, base)
    assert (
        stray.exit_code == 2 and "only month=YYYY-MM folders (the partition column `month`)" in stray.output
    )
    bogus = runner.invoke(app, [*base[:-1], "spark"])
    assert bogus.exit_code == 2 and "--engine" in bogus.output


def test_a_frame_comes_back_a_partition_at_a_time() -> None:
    """`computer` brings a frame's partitions to the client one by one: Dask's own compute of a frame first
    concatenates them on one worker, which killed the workers of `train --engine dask` at 10M lines."""
    import dask.dataframe as dd
    from distributed import Client, LocalCluster, get_task_stream

    from roundabout.cli.cluster import computer

    frame = dd.from_pandas(pd.DataFrame({"a": range(100)}), npartitions=4)
    with LocalCluster(n_workers=1, processes=False, dashboard_address=":0") as cluster, Client(cluster) as c:
        with get_task_stream(c) as stream:
            got = computer(c)(frame)
        assert got["a"].tolist() == list(range(100))
        names = {str(t["key"]) for t in stream.data}
        assert names and not any("repartition" in name for name in names), names
