"""A declaration system's export in related tables (header, items, parties) joins into goods lines; rows
that do not join are rejected with their reasons on either side, never dropped in silence."""

from pathlib import Path

import pandas as pd
import pytest
from typer.testing import CliRunner

from roundabout.cli import app
from roundabout.data.ingest import ingest
from roundabout.data.io import read_folder
from roundabout.data.mapping import MappingError, load_mapping

EXAMPLES = Path(__file__).parents[2] / "docs" / "examples"
FILES = {name: EXAMPLES / f"astana1_dt_{name}.csv" for name in ("header", "items", "parties")}


def test_the_documented_header_items_parties_example(tmp_path: Path) -> None:
    result = ingest(FILES, load_mapping(EXAMPLES / "astana1_dt.yaml"), tmp_path / "out")
    assert (result.lines.rows_read, result.lines.rows_loaded, result.lines.rows_rejected) == (5, 4, 1)
    rejects = pd.read_csv(result.rejects_path, dtype=str)
    assert rejects.values.tolist() == [
        ["consignor", "5", "DT_NUMBER", "55101/210323/0001377", "no goods line refers to it"],
        ["header", "4", "DT_NUMBER", "55101/210323/0001377", "no goods line refers to it"],
        ["lines", "5", "header", "55101/180323/0009999", "no header row for it"],
    ]
    lines = read_folder(tmp_path / "out").lines.set_index("line_id")
    first = lines.loc["55101/150323/0001234/1"]
    assert (first["trader_id"], first["counterparty_name"], first["declarant_id"]) == (
        "010340005677",
        "Shenzhen Hua Co",
        "111240001113",
    )
    assert str(first["date"].date()) == "2023-03-15" and first["direction"] == "import"
    # the optional declarant: a declaration without one loads with the field empty
    assert pd.isna(lines.loc["55101/170323/0001301/1", "declarant_id"])
    # values in their currency, at the day's rate (the rouble one six days old)
    assert lines.loc["55101/150323/0001234/2", "value_usd"] == pytest.approx(44_000 * 1.0612)
    assert lines.loc["55101/170323/0001301/1", "value_usd"] == pytest.approx(9_800_000 * 0.002161)
    assert lines.loc["55208/200323/0000412/1", "value_usd"] == pytest.approx(2_600_000 * 0.01311)
    assert read_folder(tmp_path / "out").inspections["line_id"].tolist() == ["55101/150323/0001234/1"]


def test_a_key_two_header_rows_share_rejects_both_and_their_items(tmp_path: Path) -> None:
    header = FILES["header"].read_text().splitlines()
    (tmp_path / "header.csv").write_text("\n".join([*header, header[2]]) + "\n")  # 55101/170323 twice
    files = {**FILES, "header": tmp_path / "header.csv"}
    result = ingest(files, load_mapping(EXAMPLES / "astana1_dt.yaml"), tmp_path / "out")
    rejects = pd.read_csv(result.rejects_path, dtype=str)
    header_rows = rejects[rejects["table"] == "header"]
    assert header_rows[header_rows["reason"] == "more than one header row for its key"][
        "source_row"
    ].tolist() == ["2", "5"]
    item = rejects[(rejects["table"] == "lines") & (rejects["field"] == "header")]
    assert "more than one header row for it" in item["reason"].tolist()
    assert result.lines.rows_loaded == 3


def test_every_table_needs_its_file_and_every_column_its_table(tmp_path: Path) -> None:
    mapping = load_mapping(EXAMPLES / "astana1_dt.yaml")
    with pytest.raises(MappingError, match="NAME=FILE for parties"):
        ingest({"header": FILES["header"], "items": FILES["items"]}, mapping, tmp_path / "out")
    with pytest.raises(MappingError, match="declares no tables"):
        ingest({"x": FILES["items"]}, load_mapping(EXAMPLES / "astana1_goods.yaml"), tmp_path / "out")
    text = (EXAMPLES / "astana1_dt.yaml").read_text()
    (tmp_path / "bad.yaml").write_text(
        text.replace("document_id: header.DT_NUMBER", "document_id: DT_NUMBER")
    )
    (tmp_path / "astana1_rates.csv").write_text((EXAMPLES / "astana1_rates.csv").read_text())
    with pytest.raises(MappingError, match=r"TABLE\.COLUMN of a declared table: DT_NUMBER"):
        load_mapping(tmp_path / "bad.yaml")
    (tmp_path / "two.yaml").write_text(
        text.replace("    join: {DT_NUMBER: DT_NUMBER}               # items", "    join: {}  #")
    )
    with pytest.raises(MappingError, match="exactly one table"):
        load_mapping(tmp_path / "two.yaml")


def test_the_command_takes_one_named_file_per_table(tmp_path: Path) -> None:
    args = ["ingest", "--mapping", str(EXAMPLES / "astana1_dt.yaml"), "--out", str(tmp_path / "out")]
    for name, path in FILES.items():
        args += ["--source", f"{name}={path}"]
    done = CliRunner().invoke(app, args)
    assert done.exit_code == 0, done.output
    assert "header: no header row for it" in done.output
    assert len(read_folder(tmp_path / "out").lines) == 4
    missing = CliRunner().invoke(app, args[:-2])
    assert missing.exit_code == 2 and "NAME=FILE for parties" in missing.output
