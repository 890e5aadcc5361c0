"""Values declared in tenge, roubles or euros reach the canonical folder in US dollars at the rate of the
line's date (or the latest within the allowed age); a line without a rate is rejected with the reason, and
a bad rates file stops the mapping before any row is read."""

from pathlib import Path

import pandas as pd
import pytest
import yaml

from roundabout.data.ingest import ingest
from roundabout.data.io import read_folder
from roundabout.data.mapping import IngestMapping, MappingError, load_mapping
from tests.data.test_ingest import FOREIGN_MAPPING, _foreign_table

RATES = """date,currency,rate
2020-01-02,KZT,0.0026
2020-01-03,KZT,0.0025
2020-01-02,EUR,1.12
2019-12-20,RUB,0.016
"""


def _write(tmp_path: Path, currencies: list[str], rates: str = RATES, **currency) -> Path:
    table = _foreign_table().assign(**{"cif.value": [1000.0, 2000.0, 50.0, 400.0], "curr": currencies})
    table.to_parquet(tmp_path / "source.parquet")
    (tmp_path / "rates.csv").write_text(rates)
    mapping = {**FOREIGN_MAPPING, "currency": {"column": "curr", "rates": "rates.csv", **currency}}
    (tmp_path / "mapping.yaml").write_text(yaml.safe_dump(mapping))
    return tmp_path / "mapping.yaml"


def test_values_are_converted_at_the_rate_of_their_day_or_the_latest_before(tmp_path: Path) -> None:
    # rows: 2020-01-02 KZT (that day's rate), 2020-01-03 eur (the day before's), 2020-01-03 row rejected
    # for its trader id anyway, 2020-01-04 KZT (the 3rd's rate, a day old)
    mapping = load_mapping(_write(tmp_path, ["KZT", "eur", "KZT", "KZT"]))
    result = ingest(tmp_path / "source.parquet", mapping, tmp_path / "out")
    lines = read_folder(tmp_path / "out").lines.set_index("line_id")
    assert lines.loc["S1", "value_usd"] == pytest.approx(1000 * 0.0026)
    assert lines.loc["S2", "value_usd"] == pytest.approx(2000 * 1.12)
    assert lines.loc["S4", "value_usd"] == pytest.approx(400 * 0.0025)
    assert "curr" not in lines.columns
    assert result.lines.rows_loaded == 3


def test_a_line_without_a_rate_is_rejected_with_the_reason(tmp_path: Path) -> None:
    # RUB's only rate is 14 days before 2020-01-03, older than the 7 days allowed; CNY has none; USD is 1
    mapping = load_mapping(_write(tmp_path, ["USD", "RUB", "KZT", "CNY"]))
    result = ingest(tmp_path / "source.parquet", mapping, tmp_path / "out")
    lines = read_folder(tmp_path / "out").lines
    assert lines["line_id"].tolist() == ["S1"] and lines["value_usd"].tolist() == [1000.0]
    rejects = pd.read_csv(result.rejects_path, dtype=str)
    no_rate = rejects[rejects["field"] == "curr"]
    assert no_rate[["source_row", "value"]].values.tolist() == [["2", "RUB"], ["4", "CNY"]]
    assert no_rate["reason"].str.contains("no rate to USD").all()
    assert (result.lines.rows_loaded, result.lines.rows_rejected) == (1, 3)
    assert result.lines.by_reason["curr: " + no_rate["reason"].iloc[0]] == 2
    # with an older rate allowed, the rouble line loads
    mapping = load_mapping(_write(tmp_path, ["USD", "RUB", "KZT", "CNY"], max_age_days=30))
    ingest(tmp_path / "source.parquet", mapping, tmp_path / "out2")
    assert read_folder(tmp_path / "out2").lines.set_index("line_id").loc["S2", "value_usd"] == 2000 * 0.016


@pytest.mark.parametrize(
    ("rates", "named"),
    [
        ("date,currency,rate\n2020-01-02,KZT,0\n", "row 1: rate '0' is not a positive number"),
        ("date,currency,rate\n2020-01-02,KZT,1\n02.01.2020,EUR,1\n", "row 2: date '02.01.2020'"),
        ("date,currency,rate\n2020-01-02,KZT,1\n2020-01-02,KZT,2\n", "row 2: a second rate for KZT"),
        ("day,currency,rate\n", "columns date are missing"),
    ],
)
def test_a_bad_rates_file_stops_the_mapping(tmp_path: Path, rates: str, named: str) -> None:
    with pytest.raises(MappingError, match=r"currency\.rates") as caught:
        load_mapping(_write(tmp_path, ["KZT"] * 4, rates=rates))
    assert named in str(caught.value)


def test_currency_fields_must_be_mapped_numbers(tmp_path: Path) -> None:
    with pytest.raises(MappingError, match=r"currency\.fields: not numeric fields: trader_id"):
        load_mapping(_write(tmp_path, ["KZT"] * 4, fields=["trader_id"]))


def test_a_mass_in_tonnes_or_grams_by_its_unit_column(tmp_path: Path) -> None:
    """`unit_columns`: a field's unit given per row; an undeclared unit rejects the line, naming it."""
    table = _foreign_table().assign(**{"importer.id": ["IMP00001", "IMP00002", "IMP00003", "IMP00001"]})
    table = table.assign(**{"cif.value": [100.0, 50.0, 50.0, 40.0], "wunit": ["t", "KG", "LB", "G"]})
    table.to_parquet(tmp_path / "source.parquet")
    units = {"net_mass_kg": {"column": "wunit", "factors": {"KG": 1, "T": 1000, "G": 0.001}}}
    mapping = IngestMapping.model_validate({**FOREIGN_MAPPING, "unit_columns": units})
    result = ingest(tmp_path / "source.parquet", mapping, tmp_path / "out")
    mass = read_folder(tmp_path / "out").lines.set_index("line_id")["net_mass_kg"]
    assert mass.to_dict() == {"S1": 10_000.0, "S2": 1.0, "S4": pytest.approx(0.002)}
    rejects = pd.read_csv(result.rejects_path, dtype=str)
    assert rejects[["source_row", "field", "value"]].values.tolist() == [["3", "wunit", "LB"]]
    assert rejects["reason"].iloc[0] == "not a unit declared for net_mass_kg (G, KG, T)"
    with pytest.raises(ValueError, match="unit_columns: not numeric fields: trader_id"):
        IngestMapping.model_validate({**FOREIGN_MAPPING, "unit_columns": {"trader_id": units["net_mass_kg"]}})
