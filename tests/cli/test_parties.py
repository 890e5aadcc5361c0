"""`roundabout lists load`, `lists show` and `screen`: versions in the store, bad files refused with what
was loaded before untouched, a names file screened into a CSV."""

import csv
from pathlib import Path

import pytest
from typer.testing import CliRunner

from roundabout.cli import app
from roundabout.settings import get_settings
from roundabout.store import ServiceStore

runner = CliRunner()
FIXTURES = Path(__file__).resolve().parents[1] / "parties" / "fixtures"


def _load(fmt: str, path: Path, *extra: str):
    return runner.invoke(app, ["lists", "load", "--format", fmt, "--path", str(path), *extra])


def _versions() -> list:
    store = ServiceStore.open(get_settings().service_store_url)
    try:
        return store.sanction_lists.versions()
    finally:
        store.dispose()


@pytest.mark.parametrize(
    ("fmt", "path"),
    [
        ("ofac", FIXTURES / "ofac"),
        ("eu", FIXTURES / "eu.csv"),
        ("uk", FIXTURES / "uk_conlist.csv"),
        ("opensanctions", FIXTURES / "targets.simple.csv"),
    ],
)
def test_each_format_loads_as_a_version(fmt: str, path: Path) -> None:
    result = _load(fmt, path)
    assert result.exit_code == 0, result.output
    (stored,) = _versions()
    assert stored.list_name == fmt and stored.format == fmt and stored.active and stored.entry_count > 0
    assert len(stored.content_hash) == 64


def test_versions_several_lists_and_the_same_content_twice() -> None:
    assert _load("ofac", FIXTURES / "ofac").exit_code == 0
    assert _load("eu", FIXTURES / "eu.csv").exit_code == 0
    again = _load("ofac", FIXTURES / "ofac")
    assert again.exit_code == 0 and "already loaded" in again.output
    other = _load(
        "opensanctions", FIXTURES / "targets.simple.csv", "--name", "ofac"
    )  # a new version of "ofac"
    assert other.exit_code == 0
    stored = _versions()
    assert [(s.list_name, s.active) for s in stored] == [("ofac", True), ("eu", True), ("ofac", False)]
    shown = runner.invoke(app, ["lists", "show"])
    assert shown.exit_code == 0 and "ofac" in shown.output and "eu" in shown.output


def test_bad_rows_are_reported_and_the_good_ones_loaded() -> None:
    result = _load("opensanctions", FIXTURES / "targets_broken.csv")
    assert result.exit_code == 0, result.output
    assert "row " in result.output  # each bad row by number, with its reason
    assert _versions()[0].entry_count > 0


@pytest.mark.parametrize(
    ("fmt", "content", "problem"),
    [
        ("uk", None, "column"),  # an EU file given as UK: the wrong columns
        ("eu", b"", "empty"),
        ("eu", b"\xff\xfe\x00\x00\x81\x82", "file"),
        ("xml", None, "unknown sanctions list format"),
    ],
)
def test_bad_files_get_a_clear_error_and_change_nothing(
    fmt: str, content: bytes | None, problem: str, tmp_path: Path
) -> None:
    assert _load("ofac", FIXTURES / "ofac").exit_code == 0
    before = _versions()
    path = FIXTURES / "eu.csv"
    if content is not None:
        path = tmp_path / "list.csv"
        path.write_bytes(content)
    result = _load(fmt, path)
    assert result.exit_code == 2, result.output
    assert "error:" in result.output and problem in result.output.lower()
    assert "Traceback" not in result.output
    assert _versions() == before


def test_a_missing_file_is_named() -> None:
    result = _load("eu", Path("/nowhere/list.csv"))
    assert result.exit_code == 2 and "/nowhere/list.csv" in result.output


def test_lists_show_before_any_load_makes_no_store() -> None:
    result = runner.invoke(app, ["lists", "show"])
    assert result.exit_code == 0 and "no sanctions list loaded" in result.output
    assert not (get_settings().home / "store.db").exists()


def test_screen_a_names_file(tmp_path: Path) -> None:
    assert _load("opensanctions", FIXTURES / "targets.simple.csv").exit_code == 0
    names = tmp_path / "names.csv"
    names.write_text("name,country\nTekhnosfera Ural OOO,RU\nООО «Техносфера-Урал»,\nAcme Widgets Ltd,GB\n")
    out = tmp_path / "out" / "screened.csv"
    result = runner.invoke(app, ["screen", "--names", str(names), "--out", str(out)])
    assert result.exit_code == 0, result.output
    rows = list(csv.DictReader(out.open(encoding="utf-8")))
    assert [r["matched"] for r in rows] == ["yes", "yes", "no"]
    assert rows[0]["list"] == "opensanctions" and float(rows[0]["score"]) >= 0.8
    assert rows[0]["entry_id"] == rows[1]["entry_id"] and rows[0]["matched_words"]


def test_screen_without_a_list_says_how_to_load_one(tmp_path: Path) -> None:
    names = tmp_path / "names.txt"
    names.write_text("Acme Widgets Ltd\n")
    result = runner.invoke(app, ["screen", "--names", str(names), "--out", str(tmp_path / "o.csv")])
    assert result.exit_code == 2 and "roundabout lists load" in result.output


def test_screen_refuses_a_names_file_that_is_not_text(tmp_path: Path) -> None:
    assert _load("opensanctions", FIXTURES / "targets.simple.csv").exit_code == 0
    names = tmp_path / "names.csv"
    names.write_bytes(b"\xff\xfe\xfa")
    result = runner.invoke(app, ["screen", "--names", str(names), "--out", str(tmp_path / "o.csv")])
    assert result.exit_code == 2 and "names" in result.output and "UTF-8" in result.output
