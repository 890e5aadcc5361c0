"""A folder's lines as a dataset of month partitions read as the single file does; an append rewrites only
the months it touches; a partitioned folder that is not well formed is refused naming what is wrong."""

import os
import shutil
from datetime import date
from pathlib import Path

import pandas as pd
import pyarrow as pa
import pyarrow.parquet as pq
import pytest
from typer.testing import CliRunner

from roundabout.cli import app
from roundabout.data.ingest import ingest
from roundabout.data.io import read_folder, write_folder
from roundabout.errors import ConfigError
from roundabout.simulation.config import SimulationConfig
from roundabout.simulation.world import simulate_world
from roundabout.training.fingerprint import content_hash
from tests.data.test_append import MAPPING
from tests.data.test_ingest import _foreign_table


@pytest.fixture(scope="module")
def world() -> object:
    return simulate_world(
        SimulationConfig(n_lines=3_000, seed=4, start=date(2023, 1, 1), end=date(2023, 6, 30))
    ).data


def _by_id(frame: pd.DataFrame) -> pd.DataFrame:
    return frame.sort_values("line_id", ignore_index=True)


def test_a_partitioned_folder_reads_as_the_single_file_does(tmp_path: Path, world: object) -> None:
    write_folder(world, tmp_path / "one")
    write_folder(world, tmp_path / "parts", partitioned=True)
    months = sorted(p.name for p in (tmp_path / "parts" / "lines").iterdir())
    assert months == [f"month=2023-0{m}" for m in range(1, 7)]
    assert not (tmp_path / "parts" / "lines.parquet").exists()
    one, parts = read_folder(tmp_path / "one"), read_folder(tmp_path / "parts")
    pd.testing.assert_frame_equal(_by_id(one.lines), _by_id(parts.lines))
    pd.testing.assert_frame_equal(one.inspections, parts.inspections)
    # a date range reads only its months' files, and the same lines
    since, until = date(2023, 2, 10), date(2023, 3, 5)
    sliced = read_folder(tmp_path / "parts", since=since, until=until)
    pd.testing.assert_frame_equal(
        _by_id(read_folder(tmp_path / "one", since, until).lines), _by_id(sliced.lines)
    )
    assert sliced.lines["date"].min().date() >= since and sliced.lines["date"].max().date() <= until
    # written again the other way, a folder holds its lines one way only
    write_folder(world, tmp_path / "parts")
    assert (tmp_path / "parts" / "lines.parquet").exists() and not (tmp_path / "parts" / "lines").exists()
    assert content_hash([tmp_path / "parts"]) == content_hash([tmp_path / "one"])


def test_an_append_rewrites_only_the_months_it_touches(tmp_path: Path) -> None:
    first = _foreign_table()  # S1, S2 load (S3, S4 rejected), dated January 2020
    ingest(_source(tmp_path, "day1", first), MAPPING, tmp_path / "folder", partitioned=True)
    later = first.iloc[:2].assign(**{"sgd.id": ["S7", "S8"], "sgd.date": pd.Timestamp("2020-03-02")})
    ingest(_source(tmp_path, "day2", later), MAPPING, tmp_path / "folder", append=True)
    january = tmp_path / "folder" / "lines" / "month=2020-01" / "part-0.parquet"
    inode = os.stat(january).st_ino
    day = first.iloc[:2].assign(**{"sgd.id": ["S9", "S10"], "sgd.date": pd.Timestamp("2020-03-20")})
    result = ingest(_source(tmp_path, "day3", day), MAPPING, tmp_path / "folder", append=True)
    assert result.appended is not None and result.appended["lines"].added == 2
    assert os.stat(january).st_ino == inode  # January untouched: the same file, linked across
    lines = read_folder(tmp_path / "folder").lines
    assert sorted(lines["line_id"]) == ["S1", "S10", "S2", "S7", "S8", "S9"]
    # a corrected January line rewrites January, keeps the old version, and leaves March alone
    march = tmp_path / "folder" / "lines" / "month=2020-03" / "part-0.parquet"
    march_inode = os.stat(march).st_ino
    fixed = first.iloc[:1].assign(**{"cif.value": 999.0})
    result = ingest(_source(tmp_path, "day4", fixed), MAPPING, tmp_path / "folder", append=True)
    assert result.appended is not None and result.appended["lines"].replaced == 1
    assert os.stat(march).st_ino == march_inode and os.stat(january).st_ino != inode
    lines = read_folder(tmp_path / "folder").lines.set_index("line_id")
    assert lines.loc["S1", "value_usd"] == 999.0 and len(lines) == 6
    assert pd.read_parquet(tmp_path / "folder" / "superseded_lines.parquet")["line_id"].tolist() == ["S1"]


def _source(tmp_path: Path, name: str, table: pd.DataFrame) -> Path:
    path = tmp_path / f"{name}.parquet"
    table.to_parquet(path)
    return path


def test_a_malformed_partitioned_folder_is_refused_naming_what_is_wrong(
    tmp_path: Path, world: object
) -> None:
    write_folder(world, tmp_path / "parts", partitioned=True)
    stray = tmp_path / "parts" / "lines" / "2023-07"
    stray.mkdir()
    with pytest.raises(ConfigError, match=r"2023-07: a partitioned lines folder holds only month=YYYY-MM"):
        read_folder(tmp_path / "parts")
    shutil.rmtree(stray)
    odd = tmp_path / "parts" / "lines" / "month=2023-03" / "part-1.parquet"
    pq.write_table(pa.table({"line_id": ["X"], "date": pa.array([date(2023, 3, 1)])}), odd)
    with pytest.raises(ConfigError, match=r"part-1\.parquet: its schema differs from the folder's \(missing"):
        read_folder(tmp_path / "parts")
    # through the command: exit 2 and the message, never a traceback
    done = CliRunner().invoke(
        app, ["features", "--data", str(tmp_path / "parts"), "--out", str(tmp_path / "f.parquet")]
    )
    assert done.exit_code == 2 and "its schema differs" in done.output


def test_simulate_and_ingest_write_partitioned_folders_on_request(tmp_path: Path) -> None:
    done = CliRunner().invoke(
        app,
        ["simulate", "--out", str(tmp_path / "w"), "--lines", "2000", "--start", "2023-01-01", "--end",
         "2023-03-31", "--partitioned"],
    )  # fmt: skip
    assert done.exit_code == 0, done.output
    assert sorted(p.name for p in (tmp_path / "w" / "lines").iterdir()) == [
        "month=2023-01", "month=2023-02", "month=2023-03"
    ]  # fmt: skip
    assert len(read_folder(tmp_path / "w").lines) == 2000
