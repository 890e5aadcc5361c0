"""Data arriving day by day: an ingest added to a folder skips exact repeats, replaces a changed line (the
old version kept for audit), adds the new, and leaves the folder as it was when it fails at any step."""

import os
from pathlib import Path

import pandas as pd
import pytest

from roundabout.data import append as append_module
from roundabout.data.ingest import ingest
from roundabout.data.io import read_folder
from roundabout.data.mapping import IngestMapping
from roundabout.errors import ConfigError
from tests.data.test_ingest import FOREIGN_MAPPING, _foreign_table

MAPPING = IngestMapping.model_validate(FOREIGN_MAPPING)


def _day(tmp_path: Path, name: str, table: pd.DataFrame) -> Path:
    path = tmp_path / f"{name}.parquet"
    table.to_parquet(path)
    return path


def _first_day(tmp_path: Path) -> Path:
    out = tmp_path / "folder"
    ingest(_day(tmp_path, "day1", _foreign_table()), MAPPING, out)  # S1, S2 load (S3, S4 rejected)
    return out


def _second_day() -> pd.DataFrame:
    table = _foreign_table()
    table.loc[1, "cif.value"] = 55.0  # S2 corrected
    table.loc[2, "importer.id"] = "IMP00003"  # S3 now loads: new
    return table  # S1 sent again as it was


def test_an_append_adds_new_lines_skips_repeats_and_replaces_changed_ones(tmp_path: Path) -> None:
    out = _first_day(tmp_path)
    (out / "notes").mkdir()
    (out / "notes" / "source.txt").write_text("from the DT system")  # what else the folder holds stays
    result = ingest(_day(tmp_path, "day2", _second_day()), MAPPING, out, append=True)
    assert result.appended is not None
    assert result.appended["lines"].as_dict() == {"added": 1, "repeated_skipped": 1, "replaced": 1}
    data = read_folder(out)
    lines = data.lines.set_index("line_id")
    assert sorted(lines.index) == ["S1", "S2", "S3"]
    assert lines.loc["S2", "value_usd"] == 55.0 and lines.loc["S1", "value_usd"] == 100.0
    old = pd.read_parquet(out / "superseded_lines.parquet")
    assert old["line_id"].tolist() == ["S2"] and old["value_usd"].tolist() == [50.0]
    assert old["superseded_by"].tolist() == [str(tmp_path / "day2.parquet")]
    # S3's outcome (empty in the source) adds nothing; S1's and S2's were sent again as they were
    assert result.appended["inspections"].as_dict() == {"added": 0, "repeated_skipped": 2, "replaced": 0}
    assert (out / "rejects.csv").exists() and len(pd.read_csv(out / "rejects.csv")) == 1  # S4
    assert (out / "notes" / "source.txt").read_text() == "from the DT system"
    manifest = (out / "manifest.json").read_text()
    assert '"appends"' in manifest and '"replaced": 1' in manifest


def test_a_day_sent_twice_changes_nothing(tmp_path: Path) -> None:
    out = _first_day(tmp_path)
    before = read_folder(out)
    result = ingest(_day(tmp_path, "again", _foreign_table()), MAPPING, out, append=True)
    assert result.appended is not None
    assert result.appended["lines"].as_dict() == {"added": 0, "repeated_skipped": 2, "replaced": 0}
    after = read_folder(out)
    pd.testing.assert_frame_equal(after.lines, before.lines)
    pd.testing.assert_frame_equal(after.inspections, before.inspections)
    assert not (out / "superseded_lines.parquet").exists()


@pytest.mark.parametrize("fails_at", [1, 2, 3])
def test_an_append_failing_at_any_step_leaves_the_folder_as_it_was(
    tmp_path: Path, monkeypatch, fails_at
) -> None:
    """Killed before the swap (1), between its two renames (2) or before the old copy is removed (3): the
    next read finds the folder it would have found before the append began, or the one after it."""
    out = _first_day(tmp_path)
    before = read_folder(out)
    calls = {"n": 0}
    rename, rmtree = os.rename, append_module.shutil.rmtree

    def crash(*args, **kwargs):
        raise KeyboardInterrupt("killed")

    def counted_rename(a, b):
        calls["n"] += 1
        if calls["n"] == fails_at:
            crash()
        return rename(a, b)

    monkeypatch.setattr(append_module.os, "rename", counted_rename if fails_at < 3 else rename)
    if fails_at == 3:
        monkeypatch.setattr(
            append_module.shutil,
            "rmtree",
            lambda path, **kw: crash() if str(path).endswith(".replaced") else rmtree(path, **kw),
        )
    with pytest.raises(KeyboardInterrupt):
        ingest(_day(tmp_path, "day2", _second_day()), MAPPING, out, append=True)
    monkeypatch.undo()
    after = read_folder(out)
    if fails_at < 3:
        pd.testing.assert_frame_equal(after.lines, before.lines)
    else:
        assert sorted(after.lines["line_id"]) == ["S1", "S2", "S3"]  # the append had finished its swap
    assert not out.with_name("folder.replaced").exists()
    # and the same day appended again completes
    ingest(_day(tmp_path, "day2", _second_day()), MAPPING, out, append=True)
    assert sorted(read_folder(out).lines["line_id"]) == ["S1", "S2", "S3"]


def test_an_append_must_keep_the_folders_columns(tmp_path: Path) -> None:
    out = _first_day(tmp_path)
    other = IngestMapping.model_validate({**FOREIGN_MAPPING, "extra_columns": {}})
    with pytest.raises(ConfigError, match="extra columns"):
        ingest(_day(tmp_path, "day2", _second_day()), other, out, append=True)
    assert sorted(read_folder(out).lines["line_id"]) == ["S1", "S2"]


def test_each_line_remembers_the_source_and_mapping_of_its_current_version(tmp_path: Path) -> None:
    """Two systems' files into one folder: `sources.parquet` names, per line, the file and the mapping
    (name and a hash of its content) that loaded the version the folder holds."""
    out = _first_day(tmp_path)
    waybills = IngestMapping.model_validate({**FOREIGN_MAPPING, "name": "foreign-waybills"})
    ingest(_day(tmp_path, "day2", _second_day()), waybills, out, append=True)
    sources = pd.read_parquet(out / "sources.parquet").set_index("line_id")
    assert sorted(sources.index) == ["S1", "S2", "S3"]
    assert sources.loc["S1", "mapping"] == "foreign"  # sent again unchanged: still its first load's
    assert sources.loc["S1", "source"] == str(tmp_path / "day1.parquet")
    for line in ("S2", "S3"):  # replaced, and new
        assert sources.loc[line, "mapping"] == "foreign-waybills"
        assert sources.loc[line, "source"] == str(tmp_path / "day2.parquet")
    assert sources.loc["S1", "mapping_sha256"] != sources.loc["S2", "mapping_sha256"]


@pytest.mark.slow
@pytest.mark.parametrize("append", [True, False])
def test_an_ingest_killed_at_random_moments_leaves_the_folder_before_or_after(
    tmp_path: Path, append: bool
) -> None:
    """`roundabout ingest [--append]` SIGKILLed at random moments: each time the folder reads back whole,
    as it was before the ingest or as after it, never in between; run again, the ingest completes."""
    import signal
    import subprocess
    import sys
    import time

    import numpy as np
    import yaml

    rng = np.random.default_rng(5)
    n = 60_000

    def day(first: int, value: float) -> pd.DataFrame:
        ids = [f"S{i}" for i in range(first, first + n)]
        return pd.DataFrame(
            {
                "sgd.id": ids,
                "sgd.date": pd.to_datetime("2020-01-02") + pd.to_timedelta(rng.integers(0, 300, n), "D"),
                "importer.id": [f"IMP{i % 90000:05d}" for i in range(n)],
                "declarant.id": "DEC1",
                "hs6": 854231,
                "country": "CN",
                "net.weight": 1.0,
                "cif.value": value,
                "payment.type": "cash",
                "tax.rate": 5.0,
                "illicit": None,
            }
        )

    def state(folder: Path) -> tuple[int, float, int]:
        lines = read_folder(folder).lines
        return len(lines), float(lines["value_usd"].sum()), len(pd.read_parquet(folder / "sources.parquet"))

    (tmp_path / "mapping.yaml").write_text(yaml.safe_dump(FOREIGN_MAPPING))
    day(0, 10.0).to_parquet(tmp_path / "day1.parquet")
    day(n // 2, 20.0).to_parquet(tmp_path / "day2.parquet")  # half new, half changed
    out = tmp_path / "folder"
    ingest(tmp_path / "day1.parquet", MAPPING, out)
    before = state(out)
    command = [sys.executable, "-m", "roundabout.cli", "ingest", "--source", str(tmp_path / "day2.parquet")]
    command += ["--mapping", str(tmp_path / "mapping.yaml"), "--out", str(out), "--chunk-rows", "10000"]
    command += ["--append"] if append else []
    env = {**os.environ, "ROUNDABOUT_HOME": str(tmp_path / "home")}
    started = time.monotonic()
    assert subprocess.run(command, env=env, capture_output=True, timeout=300).returncode == 0  # a reference
    took = time.monotonic() - started
    after = state(out)
    assert after[0] == (n + n // 2 if append else n) and after != before
    ingest(tmp_path / "day1.parquet", MAPPING, out)  # back to the first day alone
    for _ in range(4):
        process = subprocess.Popen(command, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        time.sleep(float(rng.uniform(0.5, 1.0)) * took)
        process.send_signal(signal.SIGKILL)
        process.wait()
        now = state(out)
        assert now in (before, after)
        if now == after:
            ingest(tmp_path / "day1.parquet", MAPPING, out)  # it had finished: start over
    assert subprocess.run(command, env=env, capture_output=True, timeout=300).returncode == 0
    assert state(out) == after
