"""Ingest maps a foreign-named file, reports bad rows by row, field and reason, and loads the rest."""

import json
from pathlib import Path

import pandas as pd
import pytest

from roundabout.data.ingest import ingest
from roundabout.data.io import read_folder
from roundabout.data.mapping import IngestMapping, MappingError, load_mapping
from roundabout.data.validation import FormatRules

EXAMPLES = Path(__file__).parents[2] / "docs" / "examples"


def test_documented_worked_example(tmp_path: Path) -> None:
    mapping = load_mapping(EXAMPLES / "astana1_goods.yaml")
    result = ingest(EXAMPLES / "astana1_goods.csv", mapping, tmp_path / "out")
    assert (result.lines.rows_read, result.lines.rows_loaded, result.lines.rows_rejected) == (6, 3, 3)
    rejects = pd.read_csv(result.rejects_path, dtype=str)
    assert rejects.values.tolist() == [
        ["lines", "4", "date", "32.03.2023", "not a date in the format %d.%m.%Y"],
        ["lines", "5", "trader_id", "98114000123", "must be a 12-digit BIN"],
        ["lines", "5", "hs_code", "870829900", "must be a commodity code of 10 digits"],
        ["lines", "5", "value_usd", "-5", "must not be negative"],
        ["lines", "6", "line_id", "55101/150323/0001234/1", "duplicate line_id (first at row 1)"],
    ]
    data = read_folder(tmp_path / "out")
    first = data.lines.iloc[0]
    assert first["line_id"] == "55101/150323/0001234/1"
    assert first["direction"] == "import" and first["document_kind"] == "DT"
    assert first["transport_mode"] == "air"
    assert first["value_usd"] == 12450.5  # decimal comma and thousands space
    assert first["net_mass_kg"] == pytest.approx(1.2)  # grams to kg
    assert first["trader_id"] == "010340005677"  # leading zero kept
    assert str(first["date"].date()) == "2023-03-15"
    assert data.extra_columns == {"process_type": "categorical", "tax_rate": "numeric"}
    assert data.lines["tax_rate"].tolist() == [0.0, 0.0, 12.0]
    assert data.inspections[["line_id", "outcome"]].values.tolist() == [
        ["55101/150323/0001234/1", "violation"]
    ]


def _foreign_table() -> pd.DataFrame:
    return pd.DataFrame(
        {
            "sgd.id": ["S1", "S2", "S3", "S4"],
            "sgd.date": pd.to_datetime(["2020-01-02", "2020-01-03", "2020-01-03", "2020-01-04"]),
            "importer.id": ["IMP00001", "IMP00002", "bad", "IMP00001"],
            "declarant.id": ["DEC1", "DEC2", "DEC2", "DEC1"],
            "hs6": [10121, 854231, 854231, 854231],  # integers: 010121 lost its leading zero
            "country": ["FR", "CN", "CN", "US"],
            "net.weight": [10.0, 1.0, 1.0, 2.0],
            "cif.value": [100.0, 50.0, 50.0, -4.0],
            "payment.type": ["cash", "card", "card", "cash"],
            "tax.rate": [5.0, 0.0, 0.0, 5.0],
            "illicit": [1, 0, None, None],
        }
    )


FOREIGN_MAPPING = {
    "name": "foreign",
    "columns": {
        "line_id": "sgd.id",
        "date": "sgd.date",
        "trader_id": "importer.id",
        "declarant_id": "declarant.id",
        "hs_code": "hs6",
        "origin_country": "country",
        "net_mass_kg": "net.weight",
        "value_usd": "cif.value",
    },
    "constants": {"document_kind": "DT", "direction": "import", "procedure": "40"},
    "rules": {"trader_id_pattern": r"IMP\d{5}", "hs_code_digits": [6], "missing": ["document_id"]},
    "extra_columns": {
        "payment_type": {"source": "payment.type", "kind": "categorical"},
        "tax_rate": {"source": "tax.rate", "kind": "numeric"},
    },
    "outcomes": {
        "inspected_on": "sgd.date",
        "outcome": "illicit",
        "values": {"outcome": {"1": "violation", "0": "clean", "1.0": "violation", "0.0": "clean"}},
    },
}


def test_foreign_parquet_with_its_own_formats(tmp_path: Path) -> None:
    source = tmp_path / "foreign.parquet"
    _foreign_table().to_parquet(source)
    mapping = IngestMapping.model_validate(FOREIGN_MAPPING)
    result = ingest(source, mapping, tmp_path / "out", FormatRules())
    assert (result.lines.rows_loaded, result.lines.rows_rejected) == (2, 2)
    data = read_folder(tmp_path / "out")
    assert data.lines["hs_code"].tolist() == ["010121", "854231"]
    assert data.lines["payment_type"].tolist() == ["cash", "card"]
    rejects = pd.read_csv(result.rejects_path)
    assert rejects[["source_row", "field"]].values.tolist() == [[3, "trader_id"], [4, "value_usd"]]
    assert data.inspections["line_id"].tolist() == ["S1", "S2"]
    assert data.inspections["outcome"].tolist() == ["violation", "clean"]


def test_outcome_of_a_rejected_line_is_rejected_too(tmp_path: Path) -> None:
    table = _foreign_table()
    table.loc[3, "illicit"] = 1  # row 4 is rejected (negative value): its outcome cannot load
    source = tmp_path / "foreign.parquet"
    table.to_parquet(source)
    result = ingest(source, IngestMapping.model_validate(FOREIGN_MAPPING), tmp_path / "out")
    assert result.inspections is not None
    assert (result.inspections.rows_read, result.inspections.rows_loaded) == (3, 2)
    rejects = pd.read_csv(result.rejects_path)
    orphan = rejects[rejects["table"] == "inspections"]
    assert orphan[["source_row", "reason"]].values.tolist() == [[4, "its goods line was not loaded"]]


def test_outcomes_can_be_left_out(tmp_path: Path) -> None:
    """A held-out file loads its lines only, even though the mapping names outcome columns (which then
    need not be in the file), and the manifest says the labels were left out."""
    source = tmp_path / "foreign.parquet"
    _foreign_table().drop(columns=["illicit"]).to_parquet(source)
    mapping = IngestMapping.model_validate(FOREIGN_MAPPING)
    result = ingest(source, mapping, tmp_path / "out", outcomes=False)
    assert result.inspections is None and result.lines.rows_loaded == 2
    assert not (tmp_path / "out" / "inspections.parquet").exists()
    data = read_folder(tmp_path / "out")
    assert len(data.lines) == 2 and data.inspections.empty
    manifest = json.loads((tmp_path / "out" / "manifest.json").read_text())
    assert manifest["outcomes_left_out"] is True and manifest["inspections"] is None


def test_a_load_without_outcomes_leaves_no_earlier_outcomes_behind(tmp_path: Path) -> None:
    """Loaded again into the same folder without outcomes (a mapping that names none, or outcomes left
    out), the earlier load's outcomes go rather than being read back as this load's."""
    source = tmp_path / "foreign.parquet"
    _foreign_table().to_parquet(source)
    mapping = IngestMapping.model_validate(FOREIGN_MAPPING)
    no_outcome_columns = IngestMapping.model_validate({**FOREIGN_MAPPING, "outcomes": None})
    for again in ({"mapping": no_outcome_columns}, {"mapping": mapping, "outcomes": False}):
        ingest(source, mapping, tmp_path / "out")
        assert len(read_folder(tmp_path / "out").inspections) == 2
        ingest(source, out=tmp_path / "out", **again)  # type: ignore[arg-type]
        assert read_folder(tmp_path / "out").inspections.empty


def test_malformed_csv_records_are_rejected_not_dropped(tmp_path: Path) -> None:
    source = tmp_path / "broken.csv"
    header = ",".join(_foreign_table().columns)
    rows = [
        "S1,2020-01-02,IMP00001,DEC1,010121,FR,10,100,cash,5,1",
        "S2,2020-01-03,IMP00002,DEC2,854231,CN,1,50,card,0,0,EXTRA",
        "S3,2020-01-03,IMP00002,DEC2,854231,CN,1,50,card,0,",
    ]
    source.write_text("\n".join([header, *rows]) + "\n")
    mapping = IngestMapping.model_validate({**FOREIGN_MAPPING, "columns": {**FOREIGN_MAPPING["columns"]}})
    mapping.outcomes.values["outcome"]["1"] = "violation"  # type: ignore[union-attr]
    result = ingest(source, mapping, tmp_path / "out", FormatRules())
    assert (result.lines.rows_read, result.lines.rows_loaded, result.lines.rows_rejected) == (3, 2, 1)
    rejects = pd.read_csv(result.rejects_path)
    assert rejects["source_row"].tolist() == [2]
    assert rejects["reason"].iloc[0].startswith("malformed CSV record: expected 11 fields, saw 12")
    assert read_folder(tmp_path / "out").lines["line_id"].tolist() == ["S1", "S3"]


@pytest.mark.parametrize(
    ("body", "message"),
    [
        ({"name": "x", "columns": {"line_idd": "a"}}, "not canonical line fields: line_idd"),
        ({"name": "x", "columns": {"line_id": "a"}}, "required fields neither mapped nor declared missing"),
        ({"name": "x", "colums": {}}, "colums"),
        (
            {**FOREIGN_MAPPING, "rules": {"missing": ["hs_code"]}},
            "rules.missing: these fields cannot be missing: hs_code",
        ),
        ({**FOREIGN_MAPPING, "units": {"hs_code": 2}}, "units: not numeric fields: hs_code"),
        (
            {**FOREIGN_MAPPING, "rules": {"trader_id_pattern": r"IMP(\d{5}"}},
            "rules.trader_id_pattern: Value error, not a regular expression: missing ), unterminated",
        ),
        (
            {**FOREIGN_MAPPING, "rules": {"procedure_pattern": "[0-9"}},
            "rules.procedure_pattern: Value error, not a regular expression",
        ),
        (
            {**FOREIGN_MAPPING, "extra_columns": {"date": {"source": "x", "kind": "numeric"}}},
            "extra_columns: names clash with canonical fields: date",
        ),
    ],
)
def test_bad_mappings_fail_naming_the_key(tmp_path: Path, body: dict, message: str) -> None:
    import yaml

    path = tmp_path / "m.yaml"
    path.write_text(yaml.safe_dump(body))
    with pytest.raises(MappingError, match=message.replace("(", r"\(").replace(")", r"\)")):
        load_mapping(path)


def test_a_mapping_declares_its_procedure_format(tmp_path: Path) -> None:
    """Three-digit import types load under `rules.procedure_pattern`; a two-digit code is then refused."""
    table = _foreign_table().assign(**{"import.type": ["400", "400", "400", "40"]})
    table.loc[3, "cif.value"] = 4.0
    source = tmp_path / "foreign.parquet"
    table.to_parquet(source)
    constants = {k: v for k, v in FOREIGN_MAPPING["constants"].items() if k != "procedure"}
    body = {
        **FOREIGN_MAPPING,
        "columns": {**FOREIGN_MAPPING["columns"], "procedure": "import.type"},
        "constants": constants,
        "rules": {**FOREIGN_MAPPING["rules"], "procedure_pattern": r"\d{3}"},
    }
    result = ingest(source, IngestMapping.model_validate(body), tmp_path / "out")
    rejects = pd.read_csv(result.rejects_path, dtype=str)
    assert rejects[["source_row", "field", "reason"]].values.tolist() == [
        ["3", "trader_id", r"does not match the trader id format IMP\d{5}"],
        ["4", "procedure", r"must match the pattern \d{3}"],
    ]
    assert read_folder(tmp_path / "out").lines["procedure"].tolist() == ["400", "400"]


UNKNOWN_CODES = """
name: unknown-codes
columns: {line_id: ID, document_id: ID, date: DAY, trader_id: BIN, hs_code: HS, value_usd: USD,
          net_mass_kg: KG, transport_mode: MODE, origin_country: ORIGIN, customs_office: POST}
constants: {document_kind: DT, direction: import, procedure: "40"}
values:
  transport_mode: {"30": road, "40": air, "90": ~}
  origin_country: {"ZZ": ~, "EU": null}
  customs_office: {"00000": ~}
"""


def test_a_code_mapped_to_null_loads_as_an_empty_field(tmp_path: Path) -> None:
    """The source's "unknown" codes (transport 90, country ZZ) load as empty fields, not as rejects; a code
    that is neither listed nor valid is still rejected."""
    (tmp_path / "m.yaml").write_text(UNKNOWN_CODES)
    rows = [
        "ID,DAY,BIN,HS,USD,KG,MODE,ORIGIN,POST",
        "L1,2023-03-01,010340005677,8542310000,10,1,90,ZZ,00000",
        "L2,2023-03-01,010340005677,8542310000,10,1,30,EU,55201",
        "L3,2023-03-01,010340005677,8542310000,10,1,40,XX,55201",
    ]
    (tmp_path / "s.csv").write_text("\n".join(rows) + "\n")
    result = ingest(tmp_path / "s.csv", load_mapping(tmp_path / "m.yaml"), tmp_path / "out")
    assert (result.lines.rows_loaded, result.lines.rows_rejected) == (2, 1)
    rejects = pd.read_csv(result.rejects_path, dtype=str)
    assert rejects[["source_row", "field", "value"]].values.tolist() == [["3", "origin_country", "XX"]]
    lines = read_folder(tmp_path / "out").lines.set_index("line_id")
    assert lines.loc["L1", ["transport_mode", "origin_country", "customs_office"]].isna().all()
    assert lines.loc["L2", "transport_mode"] == "road" and pd.isna(lines.loc["L2", "origin_country"])


def test_mapped_column_absent_from_source_fails_fast(tmp_path: Path) -> None:
    source = tmp_path / "foreign.parquet"
    _foreign_table().drop(columns=["hs6"]).to_parquet(source)
    with pytest.raises(MappingError, match="absent: hs6"):
        ingest(source, IngestMapping.model_validate(FOREIGN_MAPPING), tmp_path / "out")
