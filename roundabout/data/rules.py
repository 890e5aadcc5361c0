"""The rules every goods line and inspection outcome must satisfy, declared once, with the format rules of
the source they come from.

Two executors apply the same rule objects, as the feature specs have two executors: `validation.py` over
whole frames (vectorised: ingest, back-fills), `records.py` over single records (the API's edge, one line
at a time). Each rule carries its field and the reason a person reads, so a value one refuses the other
refuses with the same words. Parsing (text to date or number) belongs to the executors; what a parsed
value must be belongs here.

The rules of a canonical field come from its `FieldSpec` (required, choices, pattern, country code,
non-negative) and the `FormatRules` of its source (trader id and procedure code formats, commodity code
lengths, date range, fields the source lacks); the rules between fields are listed below them.
"""

import re
from dataclasses import dataclass
from datetime import date, timedelta

from pydantic import BaseModel, ConfigDict, Field, field_validator

from roundabout.data.schema import (
    INSPECTION_FIELDS,
    KZ_HS_DIGITS,
    KZ_PROCEDURE_PATTERN,
    KZ_TRADER_ID_PATTERN,
    LINE_FIELDS,
    FieldSpec,
    Kind,
)
from roundabout.reference import ISO_ALPHA2

#: Fields a mapping may never declare missing: without them a line cannot be identified, dated or scored.
ESSENTIAL_FIELDS = frozenset({"line_id", "document_kind", "direction", "date", "hs_code"})
#: Longest line id: the audit trail keys decisions by it.
MAX_LINE_ID = 128


def check_pattern(pattern: str) -> str:
    """A format pattern that compiles, or ValueError saying why (a broken regex must fail with the
    mapping, not as a traceback at the first row)."""
    try:
        re.compile(pattern, re.ASCII)
    except re.error as exc:
        raise ValueError(f"not a regular expression: {exc}") from None
    return pattern


class FormatRules(BaseModel):
    """How values are written in a source and which format rules apply. Defaults are Kazakhstan's.

    Another administration's mapping changes these: its own trader id and procedure code formats, 6- or
    8-digit commodity codes, its date format and decimal mark, and the canonical fields its data lacks. The
    date range is the deployment's (settings `min_date`, `max_future_days`).
    """

    model_config = ConfigDict(extra="forbid", frozen=True)

    trader_id_pattern: str = Field(KZ_TRADER_ID_PATTERN, description="Full-match regex for trader_id")
    hs_code_digits: tuple[int, ...] = Field((KZ_HS_DIGITS,), description="Allowed commodity code lengths")
    procedure_pattern: str = Field(KZ_PROCEDURE_PATTERN, description="Full-match regex for procedure codes")
    date_formats: dict[str, str] = Field(
        default_factory=dict, description="strptime format per date field; ISO (%Y-%m-%d) when absent"
    )
    decimal: str = Field(".", description="Decimal mark of numbers written as text")
    unit_factors: dict[str, float] = Field(
        default_factory=dict, description="Factor applied to a numeric field after parsing (unit conversion)"
    )
    missing: frozenset[str] = Field(
        frozenset(), description="Canonical fields the source does not have: stored empty, never required"
    )
    min_date: date = Field(date(2000, 1, 1), description="Lines or outcomes dated before this are rejected")
    max_future_days: int = Field(1, ge=0, description="Latest allowed date: today plus this many days")
    max_date: date | None = Field(None, description="Latest allowed date, fixed (overrides max_future_days)")

    @field_validator("trader_id_pattern", "procedure_pattern")
    @classmethod
    def _compiles(cls, value: str) -> str:
        return check_pattern(value)

    @field_validator("hs_code_digits")
    @classmethod
    def _known_lengths(cls, value: tuple[int, ...]) -> tuple[int, ...]:
        if not value or any(d not in (6, 8, 10) for d in value):
            raise ValueError("commodity code lengths must be among 6, 8 and 10")
        return tuple(sorted(set(value)))

    @field_validator("missing")
    @classmethod
    def _not_essential(cls, value: frozenset[str]) -> frozenset[str]:
        essential = sorted(value & ESSENTIAL_FIELDS)
        if essential:
            raise ValueError(f"these fields cannot be declared missing: {', '.join(essential)}")
        return value

    def latest_date(self) -> date:
        return self.max_date or (date.today() + timedelta(days=self.max_future_days))

    def date_format(self, field: str) -> str:
        return self.date_formats.get(field, "%Y-%m-%d")


# ---- the rules -------------------------------------------------------------------------------------------
@dataclass(frozen=True)
class Rule:
    """One rule on one field; `reason` is what a person reads when a value breaks it."""

    field: str
    reason: str


@dataclass(frozen=True)
class Required(Rule):
    """A value must be given (not empty)."""


@dataclass(frozen=True)
class DateRange(Rule):
    earliest: date
    latest: date


@dataclass(frozen=True)
class Finite(Rule):
    """A number must be finite (not infinite, not NaN)."""


@dataclass(frozen=True)
class NonNegative(Rule):
    pass


@dataclass(frozen=True)
class Probability(Rule):
    """A number must be a probability of selection: above 0, at most 1."""


@dataclass(frozen=True)
class OneOf(Rule):
    choices: tuple[str, ...]


@dataclass(frozen=True)
class Matches(Rule):
    """Text must match `pattern` in full (ASCII classes: a BIN of Arabic-Indic digits is not a BIN)."""

    pattern: str

    @property
    def regex(self) -> re.Pattern[str]:
        return _compiled(self.pattern)


@dataclass(frozen=True)
class InSet(Rule):
    """Text must be one of a large set of values (country codes)."""

    values: frozenset[str]


@dataclass(frozen=True)
class MaxLength(Rule):
    length: int


@dataclass(frozen=True)
class NoCharacters(Rule):
    """Text must not hold any of these characters (as a regex class)."""

    characters: str

    @property
    def regex(self) -> re.Pattern[str]:
        return _compiled(self.characters)


@dataclass(frozen=True)
class NotAbove(Rule):
    """The field must not exceed `other` where both are given."""

    other: str


@dataclass(frozen=True)
class RequiredWhen(Rule):
    """The field must be given when `when` equals `value`."""

    when: str
    value: str


@dataclass(frozen=True)
class EmptyWhen(Rule):
    """The field must be empty when `when` equals `value`."""

    when: str
    value: str


FieldRule = (
    Required
    | DateRange
    | Finite
    | NonNegative
    | Probability
    | OneOf
    | Matches
    | InSet
    | MaxLength
    | NoCharacters
)
CrossRule = NotAbove | RequiredWhen | EmptyWhen

_COMPILED: dict[str, re.Pattern[str]] = {}


def _compiled(pattern: str) -> re.Pattern[str]:
    if pattern not in _COMPILED:
        _COMPILED[pattern] = re.compile(pattern, re.ASCII)
    return _COMPILED[pattern]


# ---- the rules of a table ----------------------------------------------------------------------------------
#: Parse failures, by kind of field (the executors parse; the words are shared).
NOT_A_NUMBER = "not a number"
NOT_A_BOOLEAN = "not a boolean (true/false)"
NOT_A_MAPPING = "a record must be a mapping of field names to values"


def not_a_date(fmt: str) -> str:
    return f"not a date in the format {fmt}"


def _pattern(spec: FieldSpec, rules: FormatRules) -> Matches | None:
    """The full-match rule of a text field under the source's format rules (None: no pattern)."""
    if spec.name == "trader_id":
        if rules.trader_id_pattern == KZ_TRADER_ID_PATTERN:
            return Matches(spec.name, "must be a 12-digit BIN", rules.trader_id_pattern)
        return Matches(
            spec.name,
            f"does not match the trader id format {rules.trader_id_pattern}",
            rules.trader_id_pattern,
        )
    if spec.name == "hs_code":
        lengths = rules.hs_code_digits
        shown = " or ".join(str(d) for d in lengths)
        return Matches(
            spec.name, f"must be a commodity code of {shown} digits", "|".join(rf"\d{{{d}}}" for d in lengths)
        )
    pattern = rules.procedure_pattern if spec.name == "procedure" else spec.pattern
    if pattern:
        return Matches(spec.name, f"must match the pattern {pattern}", pattern)
    return None


def field_rules(spec: FieldSpec, rules: FormatRules) -> list[FieldRule]:
    """The rules of one canonical field's parsed values, in the order they are checked."""
    out: list[FieldRule] = []
    if spec.required and spec.name not in rules.missing:
        out.append(Required(spec.name, "missing required value"))
    if spec.kind is Kind.DATE:
        earliest, latest = rules.min_date, rules.latest_date()
        out.append(DateRange(spec.name, f"date outside {earliest}..{latest}", earliest, latest))
    elif spec.kind is Kind.NUMBER:
        out.append(Finite(spec.name, "not a finite number"))
        if spec.non_negative:
            out.append(NonNegative(spec.name, "must not be negative"))
        if spec.probability:
            out.append(Probability(spec.name, "must be a probability above 0 and at most 1"))
    elif spec.kind is Kind.TEXT:
        out.append(NoCharacters(spec.name, "NUL characters (\\u0000) are not allowed", "\x00"))
        if spec.name == "line_id":
            out.append(MaxLength(spec.name, f"longer than {MAX_LINE_ID} characters", MAX_LINE_ID))
            out.append(
                NoCharacters(
                    spec.name,
                    "control characters (\\u0000-\\u001f, \\u007f) are not allowed",
                    "[\x00-\x1f\x7f]",
                )
            )
        if spec.choices:
            out.append(
                OneOf(spec.name, f"unknown value; expected one of {', '.join(spec.choices)}", spec.choices)
            )
        if spec.country:
            out.append(InSet(spec.name, "not an ISO 3166-1 alpha-2 country code", ISO_ALPHA2))
        pattern = _pattern(spec, rules)
        if pattern is not None:
            out.append(pattern)
    return out


def line_cross_rules(rules: FormatRules) -> list[CrossRule]:
    """Rules that relate several fields of a goods line."""
    out: list[CrossRule] = [NotAbove("net_mass_kg", "net mass exceeds gross mass", "gross_mass_kg")]
    if "procedure" not in rules.missing:
        out.append(RequiredWhen("procedure", "required on a DT line", "document_kind", "DT"))
    out.append(EmptyWhen("procedure", "must be empty on an SNT line", "document_kind", "SNT"))
    return out


def outcome_cross_rules(rules: FormatRules) -> list[CrossRule]:
    """Rules that relate several fields of an inspection outcome."""
    return [EmptyWhen("violation_type", "must be empty when the outcome is clean", "outcome", "clean")]


@dataclass(frozen=True)
class TableRules:
    """Every rule of one canonical table under one source's format rules."""

    fields: tuple[FieldSpec, ...]
    by_field: dict[str, list[FieldRule]]
    cross: list[CrossRule]
    format: FormatRules


def line_rules(rules: FormatRules) -> TableRules:
    return TableRules(
        LINE_FIELDS, {f.name: field_rules(f, rules) for f in LINE_FIELDS}, line_cross_rules(rules), rules
    )


def outcome_rules(rules: FormatRules) -> TableRules:
    return TableRules(
        INSPECTION_FIELDS,
        {f.name: field_rules(f, rules) for f in INSPECTION_FIELDS},
        outcome_cross_rules(rules),
        rules,
    )
