"""The record executor of the rules: one goods line (or outcome) parsed and checked, with errors that name the
field.

The rules are those of `rules.py`, which the frame executor (`validation.py`) applies to whole tables; this
executor exists because the API's edge checks one line at a time and cannot afford a pandas pass. A record
that breaks a rule raises `InvalidInputError` naming its first problem and carrying every problem found
(`.problems`), before anything touches the store.
"""

import math
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from datetime import date, datetime
from typing import Any

import numpy as np
import pandas as pd

from roundabout.data.rules import (
    NOT_A_MAPPING,
    NOT_A_NUMBER,
    CrossRule,
    DateRange,
    EmptyWhen,
    FieldRule,
    Finite,
    FormatRules,
    InSet,
    Matches,
    MaxLength,
    NoCharacters,
    NonNegative,
    NotAbove,
    OneOf,
    Probability,
    Required,
    RequiredWhen,
    TableRules,
    line_rules,
    not_a_date,
    outcome_rules,
)
from roundabout.data.schema import FieldSpec, Kind
from roundabout.errors import InvalidInputError


def _missing(value: Any) -> bool:
    if value is None or value is pd.NA or value is pd.NaT:
        return True
    if isinstance(value, float) and math.isnan(value):
        return True
    return isinstance(value, str) and not value.strip()


def _as_date(value: Any, fmt: str) -> date | None:
    if isinstance(value, datetime | pd.Timestamp):
        return value.date()
    if isinstance(value, date):
        return value
    if isinstance(value, np.datetime64):
        return pd.Timestamp(value).date()
    if isinstance(value, str):
        try:
            return datetime.strptime(value.strip(), fmt).date()
        except ValueError:
            return None
    return None


def _as_number(value: Any, decimal: str = ".") -> float | None:
    if isinstance(value, bool):
        return None
    if isinstance(value, int | float | np.integer | np.floating):
        return float(value)
    if isinstance(value, str):
        text = value.strip()
        if decimal != ".":
            text = text.replace(".", "").replace(decimal, ".")
        try:
            return float(text)
        except ValueError:
            return None
    return None


def _breaks(rule: FieldRule) -> Callable[[Any], bool]:
    """The test a parsed, given value fails when it breaks `rule`, built once per rule."""
    if isinstance(rule, DateRange):
        earliest, latest = rule.earliest, rule.latest
        return lambda value: not earliest <= value <= latest
    if isinstance(rule, Finite):
        return lambda value: not math.isfinite(value)
    if isinstance(rule, NonNegative):
        return lambda value: value < 0
    if isinstance(rule, Probability):
        return lambda value: not 0 < value <= 1
    if isinstance(rule, OneOf | InSet):
        allowed = frozenset(rule.choices if isinstance(rule, OneOf) else rule.values)
        return lambda value: value not in allowed
    if isinstance(rule, Matches):
        fullmatch = rule.regex.fullmatch
        return lambda value: fullmatch(value) is None
    if isinstance(rule, MaxLength):
        length = rule.length
        return lambda value: len(value) > length
    if isinstance(rule, NoCharacters):
        search = rule.regex.search
        return lambda value: search(value) is not None
    raise TypeError(f"no record check for {rule!r}")


@dataclass(frozen=True)
class _FieldPlan:
    """How one field of a record is parsed and checked, prepared once from its rules."""

    spec: FieldSpec
    required: str | None
    checks: tuple[tuple[str, Callable[[Any], bool]], ...]
    factor: float | None


def _plan(table: TableRules) -> list[_FieldPlan]:
    plans = []
    for spec in table.fields:
        rules = table.by_field[spec.name]
        required = next((r.reason for r in rules if isinstance(r, Required)), None)
        checks = tuple((r.reason, _breaks(r)) for r in rules if not isinstance(r, Required))
        factor = table.format.unit_factors.get(spec.name) if spec.kind is Kind.NUMBER else None
        plans.append(_FieldPlan(spec, required, checks, factor))
    return plans


def _broken_across(rule: CrossRule, out: dict[str, Any]) -> bool:
    if isinstance(rule, NotAbove):
        a, b = out[rule.field], out[rule.other]
        return a is not None and b is not None and a > b
    if out[rule.when] != rule.value:
        return False
    if isinstance(rule, RequiredWhen):
        return out[rule.field] is None
    if isinstance(rule, EmptyWhen):
        return out[rule.field] is not None
    raise TypeError(f"no record check for {rule!r}")


class RecordValidator:
    """Parses and checks one goods line (or outcome) against the rules of its source."""

    def __init__(
        self, rules: FormatRules | None = None, extra_columns: Mapping[str, str] | None = None
    ) -> None:
        self.rules = rules or FormatRules()
        self.extra_columns = dict(extra_columns or {})
        self._lines = line_rules(self.rules)
        self._outcomes = outcome_rules(self.rules)
        self._plans = {id(self._lines): _plan(self._lines), id(self._outcomes): _plan(self._outcomes)}

    def _field(self, plan: _FieldPlan, raw: Any, problems: list[InvalidInputError], row: int | None) -> Any:
        """The parsed value of one field (None when missing or unparseable); problems are appended."""
        spec = plan.spec
        if _missing(raw):
            if plan.required is not None:
                problems.append(InvalidInputError(spec.name, plan.required, None, row))
            return None
        if spec.kind is Kind.DATE:
            fmt = self.rules.date_format(spec.name)
            value: Any = _as_date(raw, fmt)
            if value is None:
                problems.append(InvalidInputError(spec.name, not_a_date(fmt), raw, row))
                return None
        elif spec.kind is Kind.NUMBER:
            value = _as_number(raw, self.rules.decimal)
            if value is None:
                problems.append(InvalidInputError(spec.name, NOT_A_NUMBER, raw, row))
                return None
        else:
            value = str(raw).strip()
            if spec.country:
                value = value.upper()
        for reason, breaks in plan.checks:
            if breaks(value):
                problems.append(InvalidInputError(spec.name, reason, raw, row))
                return None
        return value * plan.factor if plan.factor is not None else value

    def _check(self, table: TableRules, record: Any, row: int | None) -> dict[str, Any]:
        if not isinstance(record, Mapping):
            raise InvalidInputError("record", NOT_A_MAPPING, None, row)
        problems: list[InvalidInputError] = []
        out = {
            p.spec.name: self._field(p, record.get(p.spec.name), problems, row)
            for p in self._plans[id(table)]
        }
        broken = {p.field for p in problems}
        for rule in table.cross:
            if rule.field not in broken and _broken_across(rule, out):
                value = out[rule.field]
                problems.append(InvalidInputError(rule.field, rule.reason, value, row))
        if table is self._lines:
            for name, kind in self.extra_columns.items():
                out[name] = self._extra(name, kind, record.get(name), problems, row)
        if problems:
            first = problems[0]
            first.problems = problems
            raise first
        return out

    def _extra(
        self, name: str, kind: str, raw: Any, problems: list[InvalidInputError], row: int | None
    ) -> Any:
        if _missing(raw):
            return None
        if kind == "numeric":
            number = _as_number(raw, self.rules.decimal)
            if number is None or not math.isfinite(number):
                problems.append(InvalidInputError(name, NOT_A_NUMBER, raw, row))
            return number
        return str(raw).strip()

    def line(self, record: Mapping[str, Any], row: int | None = None) -> dict[str, Any]:
        """The checked line: texts stripped, countries upper-case, the date a `date`, numbers floats, missing
        values None, declared extra columns included. `row` (1-based) is named in the errors."""
        return self._check(self._lines, record, row)

    def outcome(self, record: Mapping[str, Any], row: int | None = None) -> dict[str, Any]:
        """The checked inspection outcome."""
        return self._check(self._outcomes, record, row)
