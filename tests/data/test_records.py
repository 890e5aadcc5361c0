"""The record executor applies the very rules the frame executor applies: same field, same reason."""

from datetime import date

import pandas as pd
import pytest

from roundabout.data.records import RecordValidator
from roundabout.data.rules import FormatRules
from roundabout.data.validation import validate_inspections, validate_lines
from roundabout.errors import InvalidInputError
from tests.support.histories import line

RULES = FormatRules(max_date=date(2025, 1, 1))

#: One broken value each, with the field and the words both executors must give.
BAD = [
    ({"value_usd": None}, "value_usd", "missing required value"),
    ({"net_mass_kg": -1.0, "gross_mass_kg": 5.0}, "net_mass_kg", "must not be negative"),
    ({"net_mass_kg": 7.0, "gross_mass_kg": 5.0}, "net_mass_kg", "net mass exceeds gross mass"),
    ({"value_usd": float("inf")}, "value_usd", "not a finite number"),
    ({"value_usd": "12 USD"}, "value_usd", "not a number"),
    ({"transport_mode": "teleport"}, "transport_mode", "unknown value; expected one of"),
    ({"destination_country": "XX"}, "destination_country", "not an ISO 3166-1 alpha-2 country code"),
    ({"hs_code": "85423100"}, "hs_code", "must be a commodity code of 10 digits"),
    ({"hs_code": "٨٥٤٢٣١٠٠٠٠"}, "hs_code", "must be a commodity code of 10 digits"),  # Arabic-Indic digits
    ({"trader_id": "12AB"}, "trader_id", "must be a 12-digit BIN"),
    ({"date": "2023-13-45"}, "date", "not a date in the format %Y-%m-%d"),
    ({"date": "1999-12-31"}, "date", "date outside 2000-01-01..2025-01-01"),
    ({"direction": None}, "direction", "missing required value"),
    ({"procedure": None}, "procedure", "required on a DT line"),
    ({"document_kind": "SNT"}, "procedure", "must be empty on an SNT line"),
    ({"procedure": "4"}, "procedure", r"must match the pattern \d{2}"),
    ({"description": "chips\x00"}, "description", "NUL characters"),
    ({"line_id": "a\nb"}, "line_id", "control characters"),
    ({"line_id": "x" * 129}, "line_id", "longer than 128 characters"),
]


@pytest.mark.parametrize(("change", "field", "reason"), BAD)
def test_a_bad_value_is_refused_by_both_executors_with_the_same_words(change, field, reason) -> None:
    bad = {**line("bad", date(2023, 8, 1)), **change}
    with pytest.raises(InvalidInputError) as err:
        RecordValidator(RULES).line(bad, row=2)
    assert (err.value.field, err.value.row) == (field, 2)
    assert err.value.reason.startswith(reason)
    assert str(err.value).startswith(f"{field}: {reason}")
    frame = pd.DataFrame([line("good", date(2023, 8, 1)), bad]).astype(object)
    result = validate_lines(frame, RULES)
    assert result.summary.rows_rejected == 1
    assert any(
        f == field and r.startswith(reason) and row == 2
        for f, r, row in zip(
            result.rejects["field"], result.rejects["reason"], result.rejects["source_row"], strict=True
        )
    ), result.rejects


def test_every_problem_of_a_record_is_reported() -> None:
    bad = {**line("bad", date(2023, 8, 1)), "hs_code": "12", "origin_country": "ZZ", "value_usd": -3.0}
    with pytest.raises(InvalidInputError) as err:
        RecordValidator(RULES).line(bad)
    assert [p.field for p in err.value.problems] == ["hs_code", "origin_country", "value_usd"]
    assert [d["field"] for d in err.value.detail()] == ["hs_code", "origin_country", "value_usd"]


def test_a_good_line_comes_back_typed() -> None:
    typed = RecordValidator(RULES).line(
        {**line("L1", "2023-08-01"), "origin_country": " us ", "description": "  chips ", "quantity": "12"}
    )
    assert typed["date"] == date(2023, 8, 1)
    assert typed["origin_country"] == "US" and typed["description"] == "chips"
    assert typed["quantity"] == 12.0 and typed["previous_document_id"] is None


def test_a_record_that_is_not_a_mapping_is_named() -> None:
    with pytest.raises(InvalidInputError) as err:
        RecordValidator(RULES).line(["not", "a", "mapping"], row=3)  # type: ignore[arg-type]
    assert err.value.field == "record" and err.value.row == 3


def test_a_source_without_procedures_loads_its_dt_lines() -> None:
    """A mapping may declare `procedure` missing: its DT lines then need none (both executors)."""
    rules = FormatRules(missing=frozenset({"procedure"}), max_date=date(2025, 1, 1))
    dt = {**line("L1", date(2023, 8, 1)), "procedure": None}
    assert RecordValidator(rules).line(dt)["procedure"] is None
    assert validate_lines(pd.DataFrame([dt]).astype(object), rules).summary.rows_loaded == 1


def test_a_sources_procedure_format_applies_in_both_executors() -> None:
    """A mapping may say its procedure codes have three digits (an import type such as 400); two digits
    stay the default, and each format refuses the other's codes with the same words in both executors."""
    three = RULES.model_copy(update={"procedure_pattern": r"\d{3}"})
    line_400 = {**line("L1", date(2023, 8, 1)), "procedure": "400"}
    assert RecordValidator(three).line(line_400)["procedure"] == "400"
    assert validate_lines(pd.DataFrame([line_400]).astype(object), three).summary.rows_loaded == 1
    line_40 = {**line("L2", date(2023, 8, 1)), "procedure": "40"}
    for rules, bad, pattern in ((three, line_40, r"\d{3}"), (RULES, line_400, r"\d{2}")):
        with pytest.raises(InvalidInputError) as err:
            RecordValidator(rules).line(bad)
        reason = f"must match the pattern {pattern}"
        assert (err.value.field, err.value.reason) == ("procedure", reason)
        rejects = validate_lines(pd.DataFrame([bad]).astype(object), rules).rejects
        assert rejects[["field", "reason"]].values.tolist() == [["procedure", reason]]


@pytest.mark.parametrize(
    ("change", "field", "reason"),
    [
        ({"outcome": "maybe"}, "outcome", "unknown value"),
        ({"outcome": "clean", "violation_type": "undervaluation"}, "violation_type", "must be empty when"),
        ({"inspected_on": "189-12-09"}, "inspected_on", "not a date"),
        ({"inspected_on": date(1899, 12, 9)}, "inspected_on", "date outside"),
    ],
)
def test_a_bad_outcome_is_refused_by_both_executors(change, field, reason) -> None:
    outcome = {
        "line_id": "L1",
        "inspected_on": date(2023, 9, 1),
        "outcome": "violation",
        "violation_type": "x",
    }
    bad = {**outcome, **change}
    with pytest.raises(InvalidInputError) as err:
        RecordValidator(RULES).outcome(bad)
    assert err.value.field == field and err.value.reason.startswith(reason)
    result = validate_inspections(pd.DataFrame([bad]).astype(object), RULES)
    assert (result.rejects["field"] == field).any() and result.summary.rows_loaded == 0
