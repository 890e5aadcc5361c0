"""The frame executor of the rules: every row of a canonical table checked, failures reported, the rest loads.

Validation both parses and checks. It takes a frame whose columns carry canonical names (texts as read from
a source, or already typed values) and returns the typed rows that passed, plus one reject record per
failed check: the source row number, the field, the offending value and a reason a person can act on.
Nothing is dropped silently: every input row is either loaded or has at least one reject record.

Each rule of `rules.py` is evaluated once over whole columns, so a million rows validate in seconds; the
record executor (`records.py`) applies the same rules to one record at a time.
"""

from collections import Counter
from dataclasses import dataclass, field

import numpy as np
import pandas as pd

from roundabout.data.rules import (
    NOT_A_BOOLEAN,
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

REJECT_COLUMNS = ("table", "source_row", "field", "value", "reason")

__all__ = ["REJECT_COLUMNS", "FormatRules", "ValidationResult", "ValidationSummary", "validate_inspections",
           "validate_lines"]  # fmt: skip


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


# ---- parsing ---------------------------------------------------------------------------------------------
def _clean_text(values: pd.Series) -> pd.Series:
    """Strip whitespace; empty strings become missing."""
    text = values.astype("str") if not pd.api.types.is_string_dtype(values) else values
    text = text.str.strip()
    return text.where(text.str.len() > 0, pd.NA).astype("str")


def _present(column: pd.Series) -> np.ndarray:
    """Which raw values are given (not missing, not blank)."""
    if pd.api.types.is_string_dtype(column) or column.dtype == object:
        return _clean_text(column).notna().to_numpy()
    return column.notna().to_numpy()


def _parse_date(raw: pd.Series, fmt: str) -> pd.Series:
    if pd.api.types.is_datetime64_any_dtype(raw):
        return raw.astype("datetime64[ns]").dt.normalize()
    parsed = pd.to_datetime(_clean_text(raw), format=fmt, errors="coerce")
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


def _parse(
    spec: FieldSpec, column: pd.Series, rules: FormatRules, present: np.ndarray, checks: _Checks
) -> pd.Series:
    """The typed column of one field; values that do not parse are reported (and become missing)."""
    if spec.kind is Kind.DATE:
        fmt = rules.date_format(spec.name)
        value = _parse_date(column, fmt)
        checks.add(present & value.isna().to_numpy(), spec.name, not_a_date(fmt))
        return value
    if spec.kind is Kind.NUMBER:
        value = _parse_number(column, rules.decimal)
        checks.add(present & value.isna().to_numpy(), spec.name, NOT_A_NUMBER)
        return value
    if spec.kind is Kind.BOOL:
        value = _parse_bool(column)
        checks.add(present & value.isna().to_numpy(), spec.name, NOT_A_BOOLEAN)
        return value
    text = _clean_text(column)
    return text.str.upper() if spec.country else text


# ---- the rules over columns -------------------------------------------------------------------------------
def _broken(rule: FieldRule, value: pd.Series, present: np.ndarray) -> np.ndarray:
    """Rows whose parsed value breaks a field rule."""
    if isinstance(rule, Required):
        return ~present
    given = value.notna().to_numpy()
    if isinstance(rule, DateRange):
        return given & ((value < pd.Timestamp(rule.earliest)) | (value > pd.Timestamp(rule.latest))).fillna(
            False
        ).to_numpy(bool)
    if isinstance(rule, Finite):
        return given & ~np.isfinite(value.to_numpy(dtype="float64", na_value=np.nan))
    if isinstance(rule, NonNegative):
        return (value < 0).fillna(False).to_numpy(dtype=bool)
    if isinstance(rule, Probability):
        return given & ~((value > 0) & (value <= 1)).fillna(False).to_numpy(dtype=bool)
    if isinstance(rule, OneOf | InSet):
        allowed = rule.choices if isinstance(rule, OneOf) else list(rule.values)
        return given & ~value.isin(allowed).to_numpy()
    if isinstance(rule, Matches):
        return given & ~value.str.fullmatch(rule.regex).fillna(False).to_numpy(dtype=bool)
    if isinstance(rule, MaxLength):
        return (value.str.len() > rule.length).fillna(False).to_numpy(dtype=bool)
    if isinstance(rule, NoCharacters):
        return value.str.contains(rule.regex).fillna(False).to_numpy(dtype=bool)
    raise TypeError(f"no frame check for {rule!r}")


def _broken_across(rule: CrossRule, typed: dict[str, pd.Series]) -> np.ndarray:
    """Rows that break a rule between fields."""
    if isinstance(rule, NotAbove):
        return (typed[rule.field] > typed[rule.other]).fillna(False).to_numpy(dtype=bool)
    matching = (typed[rule.when] == rule.value).fillna(False).to_numpy(dtype=bool)
    if isinstance(rule, RequiredWhen):
        return matching & typed[rule.field].isna().to_numpy()
    if isinstance(rule, EmptyWhen):
        return matching & typed[rule.field].notna().to_numpy()
    raise TypeError(f"no frame check for {rule!r}")


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


def _validate(
    raw: pd.DataFrame,
    table_rules: TableRules,
    table: str,
    source_rows: np.ndarray | None,
    extra_columns: dict[str, str] | None,
    unique_key: str | None,
) -> ValidationResult:
    n = len(raw)
    rows = np.arange(1, n + 1) if source_rows is None else np.asarray(source_rows)
    rules = table_rules.format
    checks = _Checks(n)
    typed: dict[str, pd.Series] = {}
    for spec in table_rules.fields:
        column = (
            raw[spec.name].reset_index(drop=True)
            if spec.name in raw.columns
            else pd.Series([pd.NA] * n, dtype="str")
        )
        present = _present(column)
        value = _parse(spec, column, rules, present, checks)
        for rule in table_rules.by_field[spec.name]:
            checks.add(_broken(rule, value, present), spec.name, rule.reason)
        factor = rules.unit_factors.get(spec.name) if spec.kind is Kind.NUMBER else None
        typed[spec.name] = value * factor if factor is not None else value
    for rule in table_rules.cross:
        checks.add(_broken_across(rule, typed), rule.field, rule.reason)
    for name, kind in (extra_columns or {}).items():
        column = (
            raw[name].reset_index(drop=True) if name in raw.columns else pd.Series([pd.NA] * n, dtype="str")
        )
        if kind == "numeric":
            value = _parse_number(column, rules.decimal)
            checks.add(_present(column) & value.isna().to_numpy(), name, NOT_A_NUMBER)
            typed[name] = value
        else:
            typed[name] = _clean_text(column)

    failed = checks.failed()
    if unique_key is not None:
        failed |= _check_unique(typed[unique_key], ~failed, rows, unique_key, checks)

    valid = pd.DataFrame(typed).loc[~failed].reset_index(drop=True)
    reasons: Counter[str] = Counter()
    for check in checks.items:
        reasons[f"{check.field}: {check.reason}"] += int(check.mask.sum())
    summary = ValidationSummary(
        rows_read=n,
        rows_loaded=int((~failed).sum()),
        rows_rejected=int(failed.sum()),
        by_reason=dict(sorted(reasons.items(), key=lambda kv: (-kv[1], kv[0]))),
    )
    return ValidationResult(valid, _reject_records(raw, table, rows, checks), summary, rows[~failed])


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
    return _validate(raw, line_rules(rules or FormatRules()), "lines", source_rows, extra_columns, "line_id")


def validate_inspections(
    raw: pd.DataFrame, rules: FormatRules | None = None, source_rows: np.ndarray | None = None
) -> ValidationResult:
    """Parse and check inspection outcomes (one per line: a second outcome for a line is a duplicate)."""
    return _validate(raw, outcome_rules(rules or FormatRules()), "inspections", source_rows, None, "line_id")
