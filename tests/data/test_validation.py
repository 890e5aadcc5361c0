"""Validation catches each kind of bad row with its reason, and loads the rest."""

from datetime import date

import pandas as pd
import pytest

from roundabout.data.validation import FormatRules, validate_inspections, validate_lines

GOOD = {
    "line_id": "55101/010323/0000001/1",
    "document_id": "55101/010323/0000001",
    "document_kind": "DT",
    "direction": "import",
    "procedure": "40",
    "date": "2023-03-01",
    "trader_id": "220340012345",
    "trader_name": "TOO Alpha",
    "counterparty_name": "Shenzhen Co",
    "counterparty_country": "CN",
    "declarant_id": "111240001113",
    "hs_code": "8542310000",
    "description": "processors",
    "origin_country": "US",
    "dispatch_country": "HK",
    "destination_country": "KZ",
    "trading_country": "HK",
    "value_usd": "1000.5",
    "net_mass_kg": "1.5",
    "gross_mass_kg": "2",
    "quantity": "100",
    "transport_mode": "air",
    "customs_office": "55101",
    "previous_document_id": "",
}
RULES = FormatRules(max_date=date(2026, 1, 1))


def frame(*changes: dict[str, str]) -> pd.DataFrame:
    rows = []
    for i, change in enumerate(changes):
        row = dict(GOOD, line_id=f"L{i}")
        row.update(change)
        rows.append(row)
    return pd.DataFrame(rows, dtype="str")


@pytest.mark.parametrize(
    ("change", "field", "reason"),
    [
        ({"trader_id": ""}, "trader_id", "missing required value"),
        ({"date": "2023-02-30"}, "date", "not a date in the format %Y-%m-%d"),
        ({"date": "1999-12-31"}, "date", "date outside 2000-01-01..2026-01-01"),
        ({"date": "2031-01-01"}, "date", "date outside 2000-01-01..2026-01-01"),
        ({"value_usd": "12,5x"}, "value_usd", "not a number"),
        ({"value_usd": "inf"}, "value_usd", "not a finite number"),
        ({"value_usd": "NaN"}, "value_usd", "not a number"),
        ({"net_mass_kg": "-1"}, "net_mass_kg", "must not be negative"),
        ({"quantity": "-3"}, "quantity", "must not be negative"),
        ({"net_mass_kg": "3", "gross_mass_kg": "2"}, "net_mass_kg", "net mass exceeds gross mass"),
        ({"trader_id": "12345"}, "trader_id", "must be a 12-digit BIN"),
        ({"trader_id": "ABCDEFGHIJKL"}, "trader_id", "must be a 12-digit BIN"),
        ({"hs_code": "854231"}, "hs_code", "must be a commodity code of 10 digits"),
        ({"procedure": "4"}, "procedure", r"must match the pattern \d{2}"),
        ({"origin_country": "XX"}, "origin_country", "not an ISO 3166-1 alpha-2 country code"),
        ({"destination_country": "RUS"}, "destination_country", "not an ISO 3166-1 alpha-2 country code"),
        ({"document_kind": "TD"}, "document_kind", "unknown value; expected one of DT, SNT"),
        ({"direction": "re-export"}, "direction", "unknown value; expected one of import, export, transit"),
        (
            {"transport_mode": "camel"},
            "transport_mode",
            "unknown value; expected one of road, rail, air, sea, pipeline, post",
        ),
        ({"procedure": ""}, "procedure", "required on a DT line"),
        ({"document_kind": "SNT"}, "procedure", "must be empty on an SNT line"),
    ],
)
def test_each_kind_of_bad_row_is_rejected_with_its_reason(change: dict, field: str, reason: str) -> None:
    result = validate_lines(frame({}, change, {}), RULES)
    assert result.summary.rows_read == 3
    assert result.summary.rows_loaded == 2
    assert result.summary.rows_rejected == 1
    assert list(result.valid["line_id"]) == ["L0", "L2"]
    rejects = result.rejects
    assert (rejects["source_row"] == 2).all()
    assert (field, reason) in set(zip(rejects["field"], rejects["reason"], strict=True))
    assert result.summary.by_reason[f"{field}: {reason}"] == 1


def test_duplicate_line_id_keeps_the_first_valid_occurrence() -> None:
    raw = frame({}, {}, {}, {})
    raw.loc[1, "line_id"] = "L0"
    raw.loc[2, "value_usd"] = "-1"  # invalid for another reason: not counted as the first occurrence
    raw.loc[2, "line_id"] = "L3"
    result = validate_lines(raw, RULES)
    assert list(result.valid["line_id"]) == ["L0", "L3"]
    dup = result.rejects[result.rejects["field"] == "line_id"]
    assert dup["source_row"].tolist() == [2]
    assert dup["reason"].tolist() == ["duplicate line_id (first at row 1)"]
    assert result.summary.by_reason["line_id: duplicate line_id"] == 1


def test_valid_rows_are_typed() -> None:
    result = validate_lines(frame({}, {"previous_document_id": "  ", "origin_country": "us"}), RULES)
    valid = result.valid
    assert result.summary.rows_rejected == 0
    assert str(valid["date"].dtype) == "datetime64[ns]"
    assert valid["value_usd"].tolist() == [1000.5, 1000.5]
    assert valid["previous_document_id"].isna().all()  # blank is missing, not ""
    assert valid["origin_country"].tolist() == ["US", "US"]
    assert valid["hs_code"].tolist() == ["8542310000", "8542310000"]


def test_a_row_failing_several_checks_has_one_reject_per_check_and_counts_once() -> None:
    result = validate_lines(frame({"value_usd": "-1", "hs_code": "12", "origin_country": "ZZ"}), RULES)
    assert result.summary.rows_rejected == 1
    assert sorted(result.rejects["field"]) == ["hs_code", "origin_country", "value_usd"]


def test_foreign_format_rules() -> None:
    rules = FormatRules(
        trader_id_pattern=r"IMP\d{5}",
        hs_code_digits=(6,),
        missing=frozenset({"document_id", "value_usd"}),
        max_date=date(2026, 1, 1),
    )
    raw = frame(
        {"trader_id": "IMP00042", "hs_code": "854231"}, {"trader_id": "220340012345", "hs_code": "854231"}
    )
    raw = raw.drop(columns=["document_id", "value_usd"])
    result = validate_lines(raw, rules)
    assert result.summary.rows_loaded == 1
    assert result.valid["document_id"].isna().all()
    assert result.rejects["reason"].tolist() == [r"does not match the trader id format IMP\d{5}"]


def test_declaring_an_essential_field_missing_is_refused() -> None:
    with pytest.raises(ValueError, match="hs_code"):
        FormatRules(missing=frozenset({"hs_code"}))


def test_extra_columns_are_typed_and_checked() -> None:
    raw = frame({}, {})
    raw["tax_rate"] = ["12.5", "twelve"]
    raw["process_type"] = [" courier ", ""]
    result = validate_lines(raw, RULES, extra_columns={"tax_rate": "numeric", "process_type": "categorical"})
    assert result.valid["tax_rate"].tolist() == [12.5]
    assert result.valid["process_type"].tolist() == ["courier"]
    assert result.rejects[["field", "reason"]].values.tolist() == [["tax_rate", "not a number"]]


def test_inspection_outcomes_are_checked() -> None:
    raw = pd.DataFrame(
        {
            "line_id": ["a", "b", "c", "a", "d"],
            "inspected_on": ["2023-03-05", "2023-03-05", "05/03/2023", "2023-03-06", "2023-03-05"],
            "outcome": ["violation", "clean", "clean", "clean", "clean"],
            "violation_type": ["misclassification", "", "", "", "undervaluation"],
        },
        dtype="str",
    )
    result = validate_inspections(raw, RULES)
    assert list(result.valid["line_id"]) == ["a", "b"]
    reasons = dict(zip(result.rejects["source_row"], result.rejects["reason"], strict=True))
    assert reasons == {
        3: "not a date in the format %Y-%m-%d",
        4: "duplicate line_id (first at row 1)",
        5: "must be empty when the outcome is clean",
    }
