"""Row-level validation of canonical tables: every row is checked, failures are reported, the rest loads.

Validation both parses and checks. It takes a frame whose columns carry canonical names (texts as read from
a source, or already typed values) and returns the typed rows that passed, plus one reject record per
failed check: the source row number, the field, the offending value and a reason a person can act on.
Nothing is dropped silently: every input row is either loaded or has at least one reject record.

All checks are vectorised (one pass per rule over whole columns), so a million rows validate in seconds.
"""

from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import date, timedelta

import numpy as np
import pandas as pd
from pydantic import BaseModel, ConfigDict, Field, field_validator

from roundabout.data.schema import (
    INSPECTION_FIELDS,
    KZ_HS_DIGITS,
    KZ_TRADER_ID_PATTERN,
    LINE_FIELDS,
    FieldSpec,
    Kind,
)
from roundabout.reference import ISO_ALPHA2

REJECT_COLUMNS = ("table", "source_row", "field", "value", "reason")

#: Fields a mapping may never declare missing: without them a line cannot be identified, dated or scored.
ESSENTIAL_FIELDS = frozenset({"line_id", "document_kind", "direction", "date", "hs_code"})


class FormatRules(BaseModel):
    """How values are written in a source and which format rules apply. Defaults are Kazakhstan's.

    Another administration's mapping changes these: its own trader id format, 6- or 8-digit commodity
    codes, its date format and decimal mark, and the canonical fields its data lacks.
    """

    model_config = ConfigDict(extra="forbid", frozen=True)

    trader_id_pattern: str = Field(KZ_TRADER_ID_PATTERN, description="Full-match regex for trader_id")
    hs_code_digits: tuple[int, ...] = Field((KZ_HS_DIGITS,), description="Allowed commodity code lengths")
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


@dataclass
class ValidationSummary:
    """Counts a person reads after a load: how many rows came in, loaded, and why the others did not."""

    rows_read: int
    rows_loaded: int
    rows_rejected: int
    by_reason: dict[str, int] = field(default_factory=dict)

    def as_dict(self) -> dict[str, object]:
        return {
            "rows_read": self.rows_read,
            "rows_loaded": self.rows_loaded,
            "rows_rejected": self.rows_rejected,
            "rejected_by_reason": dict(self.by_reason),
        }


@dataclass
class ValidationResult:
    """Typed rows that passed (with their source row numbers), one reject per failed check, the summary."""

    valid: pd.DataFrame
    rejects: pd.DataFrame
    summary: ValidationSummary
    source_rows: np.ndarray


@dataclass
class _Check:
    """One failed rule: which rows, which field, why; `detail` adds a per-row note to the reason."""

    mask: np.ndarray
    field: str
    reason: str
    detail: np.ndarray | None = None


@dataclass
class _Checks:
    """Failed-check masks collected while validating one table."""

    n: int
    items: list[_Check] = field(default_factory=list)

    def add(
        self, mask: np.ndarray | pd.Series, field_name: str, reason: str, detail: np.ndarray | None = None
    ) -> None:
        arr = np.asarray(mask, dtype=bool)
        if arr.any():
            self.items.append(_Check(arr, field_name, reason, detail))

    def failed(self) -> np.ndarray:
        out = np.zeros(self.n, dtype=bool)
        for check in self.items:
            out |= check.mask
        return out


def _check_unique(
    key: pd.Series, candidate: np.ndarray, rows: np.ndarray, name: str, checks: _Checks
) -> np.ndarray:
    """Among rows that passed so far, a repeated key is rejected; the first occurrence loads."""
    candidate = candidate & key.notna().to_numpy()
    positions = np.flatnonzero(candidate)
    first = pd.Series(positions).groupby(key.iloc[positions].to_numpy(), sort=False).transform("first")
    first_pos = first.to_numpy()
    dup_local = first_pos != positions
    dup = np.zeros(len(key), dtype=bool)
    dup[positions[dup_local]] = True
    detail = np.full(len(key), "", dtype=object)
    detail[positions[dup_local]] = [f"first at row {r}" for r in rows[first_pos[dup_local]]]
    checks.add(dup, name, f"duplicate {name}", detail)
    return dup


def _present(column: pd.Series) -> np.ndarray:
    """Which raw values are given (not missing, not blank)."""
    if pd.api.types.is_string_dtype(column) or column.dtype == object:
        return _clean_text(column).notna().to_numpy()
    return column.notna().to_numpy()


def _clean_text(values: pd.Series) -> pd.Series:
    """Strip whitespace; empty strings become missing."""
    text = values.astype("str") if not pd.api.types.is_string_dtype(values) else values
    text = text.str.strip()
    return text.where(text.str.len() > 0, pd.NA).astype("str")


def _parse_date(raw: pd.Series, fmt: str | None) -> pd.Series:
    if pd.api.types.is_datetime64_any_dtype(raw):
        return raw.astype("datetime64[ns]").dt.normalize()
    text = _clean_text(raw)
    parsed = pd.to_datetime(text, format=fmt or "%Y-%m-%d", errors="coerce")
    return parsed.astype("datetime64[ns]")


def _parse_number(raw: pd.Series, decimal: str) -> pd.Series:
    if pd.api.types.is_numeric_dtype(raw) and not pd.api.types.is_bool_dtype(raw):
        return raw.astype("float64")
    text = _clean_text(raw).str.replace(r"[\s\u00a0\u202f']", "", regex=True)
    if decimal != ".":
        text = text.str.replace(".", "", regex=False).str.replace(decimal, ".", regex=False)
    return pd.to_numeric(text, errors="coerce").astype("float64")


def _parse_bool(raw: pd.Series) -> pd.Series:
    if pd.api.types.is_bool_dtype(raw):
        return raw.astype("boolean")
    text = _clean_text(raw).str.lower()
    mapped = text.map({"true": True, "1": True, "yes": True, "false": False, "0": False, "no": False})
    return mapped.astype("boolean")


def _field_pattern(spec: FieldSpec, rules: FormatRules) -> tuple[str | None, str]:
    """The full-match pattern of a text field under the rules, and the reason shown when it fails."""
    if spec.name == "trader_id":
        if rules.trader_id_pattern == KZ_TRADER_ID_PATTERN:
            return rules.trader_id_pattern, "must be a 12-digit BIN"
        return rules.trader_id_pattern, f"does not match the trader id format {rules.trader_id_pattern!r}"
    if spec.name == "hs_code":
        lengths = rules.hs_code_digits
        pattern = "|".join(rf"\d{{{d}}}" for d in lengths)
        shown = " or ".join(str(d) for d in lengths)
        return pattern, f"must be a commodity code of {shown} digits"
    if spec.pattern:
        return spec.pattern, f"must match {spec.pattern!r}"
    return None, ""


def _validate_fields(
    raw: pd.DataFrame, fields: tuple[FieldSpec, ...], rules: FormatRules, checks: _Checks
) -> dict[str, pd.Series]:
    """Parse and check each field on its own; returns the typed columns."""
    typed: dict[str, pd.Series] = {}
    n = len(raw)
    for spec in fields:
        if spec.name in raw.columns:
            column = raw[spec.name].reset_index(drop=True)
        else:
            column = pd.Series([pd.NA] * n, dtype="str")
        present = column.notna().to_numpy()
        if spec.kind is Kind.TEXT:
            column = _clean_text(column)
            present = column.notna().to_numpy()
            if spec.country:
                column = column.str.upper()
        if spec.required and spec.name not in rules.missing:
            checks.add(~present, spec.name, "missing required value")
        if spec.kind is Kind.DATE:
            value = _parse_date(column, rules.date_formats.get(spec.name))
            fmt = rules.date_formats.get(spec.name, "%Y-%m-%d")
            checks.add(present & value.isna().to_numpy(), spec.name, f"not a date in the format {fmt}")
            ok = value.notna()
            earliest, latest = pd.Timestamp(rules.min_date), pd.Timestamp(rules.latest_date())
            out_of_range = ok & ((value < earliest) | (value > latest))
            checks.add(out_of_range, spec.name, f"date outside {rules.min_date}..{rules.latest_date()}")
        elif spec.kind is Kind.NUMBER:
            value = _parse_number(column, rules.decimal)
            finite = np.isfinite(value.to_numpy(dtype="float64", na_value=np.nan))
            checks.add(present & value.isna().to_numpy(), spec.name, "not a number")
            checks.add(present & value.notna().to_numpy() & ~finite, spec.name, "not a finite number")
            if spec.non_negative:
                checks.add((value < 0).fillna(False), spec.name, "must not be negative")
            factor = rules.unit_factors.get(spec.name)
            if factor is not None:
                value = value * factor
        elif spec.kind is Kind.BOOL:
            value = _parse_bool(column)
            checks.add(present & value.isna().to_numpy(), spec.name, "not a boolean (true/false)")
        else:
            value = column
            if spec.choices:
                unknown = present & ~column.isin(spec.choices).to_numpy()
                checks.add(unknown, spec.name, f"unknown value; expected one of {', '.join(spec.choices)}")
            if spec.country:
                invalid = present & ~column.isin(ISO_ALPHA2).to_numpy()
                checks.add(invalid, spec.name, "not an ISO 3166-1 alpha-2 country code")
            pattern, reason = _field_pattern(spec, rules)
            if pattern:
                matches = column.str.fullmatch(pattern).fillna(False).to_numpy(dtype=bool)
                checks.add(present & ~matches, spec.name, reason)
        typed[spec.name] = value
    return typed


def _line_rules(typed: dict[str, pd.Series], checks: _Checks) -> None:
    """Rules that relate several fields of a goods line."""
    net, gross = typed["net_mass_kg"], typed["gross_mass_kg"]
    checks.add((net > gross).fillna(False), "net_mass_kg", "net mass exceeds gross mass")
    kind, procedure = typed["document_kind"], typed["procedure"]
    checks.add(((kind == "DT") & procedure.isna()).fillna(False), "procedure", "required on a DT line")
    checks.add(
        ((kind == "SNT") & procedure.notna()).fillna(False), "procedure", "must be empty on an SNT line"
    )


def _inspection_rules(typed: dict[str, pd.Series], checks: _Checks) -> None:
    """Rules that relate several fields of an inspection outcome."""
    clean_with_type = (typed["outcome"] == "clean") & typed["violation_type"].notna()
    checks.add(clean_with_type.fillna(False), "violation_type", "must be empty when the outcome is clean")


def _validate(
    raw: pd.DataFrame,
    fields: tuple[FieldSpec, ...],
    table: str,
    rules: FormatRules,
    source_rows: np.ndarray | None,
    cross_rules: Callable[[dict[str, pd.Series], _Checks], None],
    extra_columns: dict[str, str] | None,
    unique_key: str | None,
) -> ValidationResult:
    n = len(raw)
    rows = np.arange(1, n + 1) if source_rows is None else np.asarray(source_rows)
    checks = _Checks(n)
    typed = _validate_fields(raw, fields, rules, checks)
    cross_rules(typed, checks)
    for name, kind in (extra_columns or {}).items():
        column = (
            raw[name].reset_index(drop=True) if name in raw.columns else pd.Series([pd.NA] * n, dtype="str")
        )
        if kind == "numeric":
            value = _parse_number(column, rules.decimal)
            checks.add(_present(column) & value.isna().to_numpy(), name, "not a number")
            typed[name] = value
        else:
            typed[name] = _clean_text(column)

    failed = checks.failed()
    if unique_key is not None:
        failed |= _check_unique(typed[unique_key], ~failed, rows, unique_key, checks)

    typed_frame = pd.DataFrame(typed)
    valid = typed_frame.loc[~failed].reset_index(drop=True)
    rejects = _reject_records(raw, table, rows, checks)
    reasons: Counter[str] = Counter()
    for check in checks.items:
        reasons[f"{check.field}: {check.reason}"] += int(check.mask.sum())
    summary = ValidationSummary(
        rows_read=n,
        rows_loaded=int((~failed).sum()),
        rows_rejected=int(failed.sum()),
        by_reason=dict(sorted(reasons.items(), key=lambda kv: (-kv[1], kv[0]))),
    )
    return ValidationResult(valid, rejects, summary, rows[~failed])


def _reject_records(raw: pd.DataFrame, table: str, rows: np.ndarray, checks: _Checks) -> pd.DataFrame:
    parts = []
    for order, check in enumerate(checks.items):
        idx = np.flatnonzero(check.mask)
        if check.field in raw.columns:
            values = raw[check.field].reset_index(drop=True).iloc[idx].astype("str").to_numpy()
        else:
            values = np.full(len(idx), "", dtype=object)
        reason = np.full(len(idx), check.reason, dtype=object)
        if check.detail is not None:
            reason = reason + " (" + check.detail[idx] + ")"
        parts.append(
            pd.DataFrame(
                {
                    "table": table,
                    "source_row": rows[idx],
                    "field": check.field,
                    "value": values,
                    "reason": reason,
                    "_order": order,
                }
            )
        )
    if not parts:
        return empty_rejects()
    out = pd.concat(parts, ignore_index=True).sort_values(["source_row", "_order"], kind="stable")
    return out.drop(columns="_order").reset_index(drop=True)


def empty_rejects() -> pd.DataFrame:
    """A rejects table with no rows."""
    return pd.DataFrame({c: pd.Series(dtype="int64" if c == "source_row" else "str") for c in REJECT_COLUMNS})


def validate_lines(
    raw: pd.DataFrame,
    rules: FormatRules | None = None,
    source_rows: np.ndarray | None = None,
    extra_columns: dict[str, str] | None = None,
) -> ValidationResult:
    """Parse and check goods lines; `source_rows` numbers the input rows for the rejects (default 1..n)."""
    return _validate(
        raw, LINE_FIELDS, "lines", rules or FormatRules(), source_rows, _line_rules, extra_columns, "line_id"
    )


def validate_inspections(
    raw: pd.DataFrame, rules: FormatRules | None = None, source_rows: np.ndarray | None = None
) -> ValidationResult:
    """Parse and check inspection outcomes (one per line: a second outcome for a line is a duplicate)."""
    return _validate(
        raw,
        INSPECTION_FIELDS,
        "inspections",
        rules or FormatRules(),
        source_rows,
        _inspection_rules,
        None,
        "line_id",
    )
