"""Conversions that depend on each row: a value's currency (at the day's rate, `currency.py`) and a
quantity's unit (a mass in kg, tonnes or grams, by a unit column). They apply to lines that passed
validation; a row that cannot be converted (no rate, a unit the mapping does not declare) is rejected with
the reason, field the column that says why, never converted with a guess."""

import numpy as np
import pandas as pd

from roundabout.data.currency import rates_for, read_rates
from roundabout.data.mapping import IngestMapping
from roundabout.data.sources import SourceTable, text
from roundabout.data.validation import ValidationResult, ValidationSummary, empty_rejects


def convert(
    lines: ValidationResult, table: SourceTable, mapping: IngestMapping, rates: pd.DataFrame | None = None
) -> tuple[ValidationResult, pd.DataFrame]:
    """Lines with every per-row conversion of `mapping` applied, and the rejects of those that could not
    be converted. `rates`: the mapping's rates file read already (read here when not given)."""
    position = pd.Index(table.source_rows).get_indexer(lines.source_rows)

    def codes(column: str) -> pd.Series:
        return text(table.frame[column]).iloc[position].reset_index(drop=True).str.strip()

    valid = lines.valid
    failed = np.zeros(len(valid), dtype=bool)
    parts = []
    for field, unit in mapping.unit_columns.items():
        code = codes(unit.column).str.upper()
        factor = code.map({k.upper(): v for k, v in unit.factors.items()}).to_numpy(dtype="float64")
        bad = np.isnan(factor) & valid[field].notna().to_numpy()
        valid[field] = valid[field] * np.where(np.isnan(factor), 1.0, factor)
        known = ", ".join(sorted(unit.factors))
        parts.append((bad, unit.column, code, f"not a unit declared for {field} ({known})"))
    if mapping.currency is not None:
        currency = mapping.currency
        code = codes(currency.column)
        if rates is None:
            rates = read_rates(currency.rates, currency.usd)
        rate = rates_for(rates, valid["date"], code.fillna(""), currency.max_age_days, currency.usd)
        for name in currency.fields:
            valid[name] = valid[name] * rate
        reason = f"no rate to USD on the line's date or the {currency.max_age_days} days before"
        parts.append((np.isnan(rate), currency.column, code, reason))
    rejected = [empty_rejects()]
    by_reason = dict(lines.summary.by_reason)
    for bad, column, code, reason in parts:
        if bad.any():
            rejected.append(
                pd.DataFrame(
                    {
                        "table": "lines",
                        "source_row": lines.source_rows[bad],
                        "field": column,
                        "value": code[bad].fillna("").astype("str").to_numpy(),
                        "reason": reason,
                    }
                )
            )
            by_reason[f"{column}: {reason}"] = int(bad.sum())
        failed |= bad
    n = int(failed.sum())
    summary = lines.summary
    kept = ValidationResult(
        valid.loc[~failed].reset_index(drop=True),
        lines.rejects,
        ValidationSummary(summary.rows_read, summary.rows_loaded - n, summary.rows_rejected + n, by_reason),
        lines.source_rows[~failed],
    )
    return kept, pd.concat(rejected, ignore_index=True)
