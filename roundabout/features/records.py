"""Checking single records on the online path: fast, per record, with errors that name the field.

The rules are those of the canonical schema and `roundabout.data.validation.FormatRules` (the vectorised
`validate_lines` applies the same rules to whole frames); this module exists because serving one line
cannot afford a pandas pass. A bad record raises `InvalidRecordError` before anything touches the store.
"""

import math
import re
from collections.abc import Mapping
from datetime import date, datetime
from typing import Any

import numpy as np
import pandas as pd

from roundabout.data.schema import INSPECTION_FIELDS, LINE_FIELDS, FieldSpec, Kind
from roundabout.data.validation import FormatRules
from roundabout.errors import InvalidInputError
from roundabout.reference import ISO_ALPHA2

#: A record the store refuses: names the field, the reason, the value and the 1-based row.
InvalidRecordError = InvalidInputError


def _missing(value: Any) -> bool:
    if value is None or value is pd.NA or value is pd.NaT:
        return True
    if isinstance(value, float) and math.isnan(value):
        return True
    return isinstance(value, str) and not value.strip()


def _as_date(value: Any) -> date | None:
    if isinstance(value, datetime | pd.Timestamp):
        return value.date()
    if isinstance(value, date):
        return value
    if isinstance(value, np.datetime64):
        return pd.Timestamp(value).date()
    if isinstance(value, str):
        try:
            return date.fromisoformat(value.strip()[:10])
        except ValueError:
            return None
    return None


def _as_number(value: Any) -> float | None:
    if isinstance(value, bool):
        return None
    if isinstance(value, int | float | np.integer | np.floating):
        return float(value)
    if isinstance(value, str):
        try:
            return float(value.strip())
        except ValueError:
            return None
    return None


class RecordValidator:
    """Parses and checks one goods line (or outcome) against the schema and the format rules."""

    def __init__(
        self, rules: FormatRules | None = None, extra_columns: Mapping[str, str] | None = None
    ) -> None:
        self.rules = rules or FormatRules()
        self.extra_columns = dict(extra_columns or {})
        digits = "|".join(rf"\d{{{d}}}" for d in self.rules.hs_code_digits)
        self._patterns: dict[str, tuple[re.Pattern[str], str]] = {
            "trader_id": (re.compile(self.rules.trader_id_pattern), "does not match the trader id format"),
            "hs_code": (re.compile(digits), "must be a commodity code of the allowed length"),
        }
        for spec in LINE_FIELDS:
            if spec.pattern and spec.name not in self._patterns:
                self._patterns[spec.name] = (re.compile(spec.pattern), f"must match {spec.pattern!r}")

    def _field(self, spec: FieldSpec, value: Any, row: int | None) -> Any:
        if _missing(value):
            if spec.required and spec.name not in self.rules.missing:
                raise InvalidRecordError(spec.name, "missing required value", None, row)
            return None
        if spec.kind is Kind.DATE:
            parsed = _as_date(value)
            if parsed is None:
                raise InvalidRecordError(spec.name, "not a date (YYYY-MM-DD)", value, row)
            latest = self.rules.latest_date()
            if not self.rules.min_date <= parsed <= latest:
                raise InvalidRecordError(
                    spec.name, f"date outside {self.rules.min_date}..{latest}", value, row
                )
            return parsed
        if spec.kind is Kind.NUMBER:
            number = _as_number(value)
            if number is None or not math.isfinite(number):
                raise InvalidRecordError(spec.name, "not a finite number", value, row)
            if spec.non_negative and number < 0:
                raise InvalidRecordError(spec.name, "must not be negative", value, row)
            return number
        text = str(value).strip()
        if spec.country:
            text = text.upper()
            if text not in ISO_ALPHA2:
                raise InvalidRecordError(spec.name, "not an ISO 3166-1 alpha-2 country code", value, row)
        if spec.choices and text not in spec.choices:
            raise InvalidRecordError(
                spec.name, f"unknown value; expected one of {', '.join(spec.choices)}", value, row
            )
        if spec.name in self._patterns:
            pattern, reason = self._patterns[spec.name]
            if pattern.fullmatch(text) is None:
                raise InvalidRecordError(spec.name, reason, value, row)
        return text

    def line(self, record: Mapping[str, Any], row: int | None = None) -> dict[str, Any]:
        """The typed line (texts stripped, countries upper-case, date as `date`, numbers as float)."""
        if not isinstance(record, Mapping):
            raise InvalidRecordError(
                "record", "a goods line must be a mapping of field names to values", None, row
            )
        out = {spec.name: self._field(spec, record.get(spec.name), row) for spec in LINE_FIELDS}
        net, gross = out["net_mass_kg"], out["gross_mass_kg"]
        if net is not None and gross is not None and net > gross:
            raise InvalidRecordError("net_mass_kg", "net mass exceeds gross mass", net, row)
        if (
            out["document_kind"] == "DT"
            and out["procedure"] is None
            and "procedure" not in self.rules.missing
        ):
            raise InvalidRecordError("procedure", "required on a DT line", None, row)
        if out["document_kind"] == "SNT" and out["procedure"] is not None:
            raise InvalidRecordError("procedure", "must be empty on an SNT line", out["procedure"], row)
        for name, kind in self.extra_columns.items():
            value = record.get(name)
            if _missing(value):
                out[name] = None
            elif kind == "numeric":
                number = _as_number(value)
                if number is None or not math.isfinite(number):
                    raise InvalidRecordError(name, "not a finite number", value, row)
                out[name] = number
            else:
                out[name] = str(value).strip()
        return out

    def outcome(self, record: Mapping[str, Any], row: int | None = None) -> dict[str, Any]:
        """The typed inspection outcome."""
        if not isinstance(record, Mapping):
            raise InvalidRecordError(
                "record", "an outcome must be a mapping of field names to values", None, row
            )
        out = {spec.name: self._field(spec, record.get(spec.name), row) for spec in INSPECTION_FIELDS}
        if out["outcome"] == "clean" and out["violation_type"] is not None:
            raise InvalidRecordError("violation_type", "must be empty when the outcome is clean", None, row)
        return out
