"""A source read in chunks loads exactly what it loads read whole: the same lines, outcomes, provenance,
rejects (a line id or an outcome repeated in a later chunk, malformed records, rows a join rejects) and
counts, whatever the chunk size."""

import json
from pathlib import Path

import pandas as pd
import pytest
from typer.testing import CliRunner

from roundabout.cli import app
from roundabout.data.ingest import ingest
from roundabout.data.io import read_folder
from roundabout.data.mapping import load_mapping

EXAMPLES = Path(__file__).parents[2] / "docs" / "examples"
GOODS = EXAMPLES / "astana1_goods.csv"
DT = {name: EXAMPLES / f"astana1_dt_{name}.csv" for name in ("header", "items", "parties")}
WHOLE = 1_000_000


def _assert_same(path: Path, other: Path) -> None:
    """Two folders hold the same rows, rejects and manifest (the load time of provenance aside; an
    outcome that waited for its line to arrive in a later chunk is written after the others)."""
    one, two = read_folder(path), read_folder(other)
    pd.testing.assert_frame_equal(one.lines, two.lines)
    by_line = [d.inspections.sort_values("line_id", ignore_index=True) for d in (one, two)]
    pd.testing.assert_frame_equal(*by_line)
    sources = [pd.read_parquet(p / "sources.parquet").drop(columns="ingested_at") for p in (path, other)]
    pd.testing.assert_frame_equal(*sources)
    assert (path / "rejects.csv").read_text() == (other / "rejects.csv").read_text()
    manifests = [json.loads((p / "manifest.json").read_text()) for p in (path, other)]
    assert manifests[0] == manifests[1]


def _row(template: list[str], line: str, item: str = "1", day: str = "15.03.2023", check: str = "") -> str:
    fields = list(template)
    fields[0], fields[1], fields[4] = line, item, day
    fields[23], fields[24], fields[25] = (check, "1", "контрабанда") if check else ("", "", "")
    return ";".join(fields)


def _messy(path: Path) -> Path:
    """A file whose problems span chunks: a line id and an outcome repeated later, a rejected line sent
    again corrected after its outcome, an outcome whose line never loads, a malformed record."""
    header, first, *_ = GOODS.read_text().splitlines()
    template = first.split(";")
    rows = [
        _row(template, "55101/150323/0000001", check="20.03.2023"),
        _row(
            template, "55101/150323/0000002", day="32.03.2023", check="21.03.2023"
        ),  # bad date, outcome waits
        _row(template, "55101/150323/0000009") + ";EXTRA",  # a field too many: malformed
        _row(template, "55101/150323/0000001"),  # the line again: a duplicate
        _row(template, "55101/150323/0000002"),  # corrected: loads, and takes the outcome of row 2
        _row(template, "55101/150323/0000003", check="22.03.2023"),
        _row(template, "55101/150323/0000003", check="23.03.2023"),  # line and outcome again
        _row(template, "55101/150323/0000004", day="00.00.2023", check="22.03.2023"),  # its line never loads
        _row(template, "55101/150323/0000005"),
    ]
    path.write_text("\n".join([header, *rows]) + "\n")
    return path


@pytest.mark.parametrize("chunk_rows", [1, 2, 3])
def test_chunks_load_what_the_whole_file_loads(tmp_path: Path, chunk_rows: int) -> None:
    mapping = load_mapping(EXAMPLES / "astana1_goods.yaml")
    messy = _messy(tmp_path / "messy.csv")
    for name, source in (("goods", GOODS), ("messy", messy)):
        whole = ingest(source, mapping, tmp_path / f"{name}-whole", chunk_rows=WHOLE)
        chunked = ingest(source, mapping, tmp_path / f"{name}-chunked", chunk_rows=chunk_rows)
        assert chunked.lines == whole.lines and chunked.inspections == whole.inspections
        _assert_same(tmp_path / f"{name}-chunked", tmp_path / f"{name}-whole")
    dt = load_mapping(EXAMPLES / "astana1_dt.yaml")
    whole = ingest(DT, dt, tmp_path / "dt-whole", chunk_rows=WHOLE)
    chunked = ingest(DT, dt, tmp_path / "dt-chunked", chunk_rows=chunk_rows)
    assert (chunked.lines, chunked.tables) == (whole.lines, whole.tables)
    _assert_same(tmp_path / "dt-chunked", tmp_path / "dt-whole")


def test_what_spans_chunks_is_decided_as_in_one_file(tmp_path: Path) -> None:
    mapping = load_mapping(EXAMPLES / "astana1_goods.yaml")
    result = ingest(_messy(tmp_path / "messy.csv"), mapping, tmp_path / "out", chunk_rows=2)
    rejects = pd.read_csv(result.rejects_path, dtype=str)
    assert rejects[["table", "source_row", "field", "reason"]].fillna("").values.tolist() == [
        ["inspections", "7", "line_id", "duplicate line_id (first at row 6)"],
        ["inspections", "8", "line_id", "its goods line was not loaded"],
        ["lines", "2", "date", "not a date in the format %d.%m.%Y"],
        ["lines", "3", "", "malformed CSV record: expected 28 fields, saw 29"],
        ["lines", "4", "line_id", "duplicate line_id (first at row 1)"],
        ["lines", "7", "line_id", "duplicate line_id (first at row 6)"],
        ["lines", "8", "date", "not a date in the format %d.%m.%Y"],
    ]
    data = read_folder(tmp_path / "out")
    assert data.lines["line_id"].str[-3].tolist() == ["1", "2", "3", "5"]
    outcomes = data.inspections.set_index("line_id")["inspected_on"].dt.day.to_dict()
    assert outcomes == {
        "55101/150323/0000001/1": 20,
        "55101/150323/0000003/1": 22,
        "55101/150323/0000002/1": 21,
    }
    assert (result.lines.rows_read, result.lines.rows_loaded, result.lines.rows_rejected) == (9, 4, 5)
    assert result.inspections is not None
    assert (result.inspections.rows_read, result.inspections.rows_loaded) == (5, 3)


def test_a_parquet_source_is_read_in_row_batches_alike(tmp_path: Path) -> None:
    mapping = load_mapping(EXAMPLES / "astana1_goods.yaml").model_copy(deep=True)
    mapping.source.format = "parquet"
    frame = pd.read_csv(GOODS, sep=";", dtype=str, keep_default_na=False, na_values=[""])
    frame.to_parquet(tmp_path / "goods.parquet")
    ingest(tmp_path / "goods.parquet", mapping, tmp_path / "whole", chunk_rows=WHOLE)
    ingest(tmp_path / "goods.parquet", mapping, tmp_path / "chunked", chunk_rows=2)
    _assert_same(tmp_path / "chunked", tmp_path / "whole")
    assert len(read_folder(tmp_path / "chunked").lines) == 3


def test_the_command_takes_a_chunk_size_and_refuses_a_bad_one(tmp_path: Path) -> None:
    args = ["ingest", "--source", str(GOODS), "--mapping", str(EXAMPLES / "astana1_goods.yaml")]
    done = CliRunner().invoke(app, [*args, "--out", str(tmp_path / "out"), "--chunk-rows", "2"])
    assert done.exit_code == 0, done.output
    assert len(read_folder(tmp_path / "out").lines) == 3
    bad = CliRunner().invoke(app, [*args, "--out", str(tmp_path / "bad"), "--chunk-rows", "0"])
    assert bad.exit_code == 2 and "--chunk-rows" in bad.output
    assert not (tmp_path / "bad").exists()


def test_a_load_failing_midway_leaves_the_folder_it_replaces(tmp_path: Path, monkeypatch) -> None:
    from roundabout.data import chunk_load

    mapping = load_mapping(EXAMPLES / "astana1_goods.yaml")
    ingest(GOODS, mapping, tmp_path / "out")
    before = {p.name: p.read_bytes() for p in (tmp_path / "out").iterdir()}
    loaded = chunk_load.ChunkLoader.load
    calls = []

    def failing(self: chunk_load.ChunkLoader, *args: object) -> chunk_load.Chunk:
        calls.append(1)
        if len(calls) == 2:
            raise OSError(28, "No space left on device")
        return loaded(self, *args)

    monkeypatch.setattr(chunk_load.ChunkLoader, "load", failing)
    with pytest.raises(OSError):
        ingest(_messy(tmp_path / "messy.csv"), mapping, tmp_path / "out", chunk_rows=2)
    assert {p.name: p.read_bytes() for p in (tmp_path / "out").iterdir()} == before


def test_a_joined_tables_record_with_a_field_too_many_is_rejected(tmp_path: Path) -> None:
    # only the columns a mapping reads are kept of a joined table, but a record is still checked whole
    files = dict(DT)
    header = DT["header"].read_text().splitlines()
    broken = header[1].split(";")
    broken[0] = "55101/150323/0009876"
    files["header"] = tmp_path / "header.csv"
    files["header"].write_text("\n".join([*header, ";".join([*broken, "EXTRA"])]) + "\n")
    result = ingest(files, load_mapping(EXAMPLES / "astana1_dt.yaml"), tmp_path / "out", chunk_rows=2)
    rejects = pd.read_csv(result.rejects_path, dtype=str)
    row = rejects[rejects["table"] == "header"].iloc[-1]
    assert row["source_row"] == str(len(header)) and row["reason"].startswith("malformed CSV record")
    assert result.lines.rows_loaded == 4
