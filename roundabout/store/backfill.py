"""Loading a canonical history into the store, so the service scores new lines with their history.

The whole folder is checked first (every row, by the same rules as ingest): a bad row stops the load before
anything is written, naming its row. The lines then go in date order: in bulk by default (`store.bulk`,
one transaction per partition of days), or through the service's per-line writer (`method="lines"`, in
chunks of one transaction each), which a bulk load is tested to equal. Re-running a load adds nothing
twice (the `line_id` contract); the planner's statistics are refreshed at the end.
"""

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import pandas as pd

from roundabout.audit import Entry
from roundabout.data.io import CanonicalData
from roundabout.data.validation import FormatRules, ValidationResult, validate_inspections, validate_lines
from roundabout.errors import InvalidInputError
from roundabout.features.columns import columns_from_frame
from roundabout.features.parties import party_columns
from roundabout.parties.index import ScreeningIndex
from roundabout.store.bulk import PARTITION_LINES, BulkLoader
from roundabout.store.service_store import ServiceStore


@dataclass(frozen=True)
class BackfillResult:
    lines_read: int
    lines_new: int
    outcomes_new: int
    outcomes_read: int = 0


def _checked(result: ValidationResult) -> None:
    if len(result.rejects):
        first = result.rejects.iloc[0]
        raise InvalidInputError(
            str(first["field"]),
            f"{first['reason']} ({result.summary.rows_rejected} bad row(s) in total; nothing was loaded)",
            first["value"],
            int(first["source_row"]),
        )


def outcome_records(frame: pd.DataFrame) -> list[dict[str, Any]]:
    """Checked outcomes (a frame from `validate_inspections`) as the records the store takes, with how each
    line was selected and its propensity when the history recorded them."""
    n = len(frame)
    selection = (
        frame["selection"] if "selection" in frame.columns else pd.Series([None] * n, index=frame.index)
    )
    propensity = (
        frame["propensity"] if "propensity" in frame.columns else pd.Series([None] * n, index=frame.index)
    )
    columns = (
        frame["line_id"],
        frame["inspected_on"],
        frame["outcome"],
        frame["violation_type"],
        selection,
        propensity,
    )
    return [
        {
            "line_id": line_id,
            "inspected_on": inspected_on.date(),
            "outcome": outcome,
            "violation_type": None if pd.isna(violation_type) else violation_type,
            "selection": None if pd.isna(chosen) else chosen,
            "propensity": None if pd.isna(p) else float(p),
        }
        for line_id, inspected_on, outcome, violation_type, chosen, p in zip(*columns, strict=True)
    ]


def backfill(
    store: ServiceStore,
    data: CanonicalData,
    rules: FormatRules,
    chunk: int = 10_000,
    on_chunk: Callable[[int], None] | None = None,
    screening: ScreeningIndex | None = None,
    method: str = "bulk",
    partition_lines: int = PARTITION_LINES,
) -> BackfillResult:
    """Add `data`'s lines and outcomes to `store` (idempotent); `on_chunk(n)` after each n lines.
    Parties are screened against `screening` (the store's active lists, as the service would).

    `method="bulk"`: partitions of days (`partition_lines`), set-wise (`store.bulk`); `"lines"`: the
    per-line writer the service uses, `chunk` lines per transaction (the reference a bulk load equals)."""
    lines = validate_lines(data.lines, rules, extra_columns=data.extra_columns)
    _checked(lines)
    outcomes = validate_inspections(data.inspections, rules)
    _checked(outcomes)
    frame = lines.valid.sort_values(["date", "line_id"], kind="stable").reset_index(drop=True)
    records = outcome_records(outcomes.valid)
    if method == "bulk":
        cols = columns_from_frame(frame, data.extra_columns, all_fields=True)
        cols.update(party_columns(cols, screening))
        result = BulkLoader(store).load(cols, data.extra_columns, records, partition_lines, on_chunk)
        store.analyze()
        return BackfillResult(result.lines_read, result.lines_new, result.outcomes_new, len(records))
    if method != "lines":
        raise InvalidInputError("method", "is bulk or lines", method)
    added = 0
    for start in range(0, len(frame), chunk):
        part = frame.iloc[start : start + chunk]
        cols = columns_from_frame(part, data.extra_columns, all_fields=True)
        cols.update(party_columns(cols, screening))
        with store.transaction() as conn:
            added += store.writer.add_lines(conn, cols, data.extra_columns)
        if on_chunk is not None:
            on_chunk(len(part))
    dates = frame["date"]
    batch = Entry(
        "history_load",
        "cli",
        None,
        {
            "lines": len(frame),
            "lines_added": added,
            "first_date": dates.min().date() if len(frame) else None,
            "last_date": dates.max().date() if len(frame) else None,
            "outcomes": len(records),
        },
    )
    if records:
        new_outcomes = store.add_outcomes(records, batch)
    else:
        new_outcomes = 0
        store.audit.record([batch])
    store.analyze()
    return BackfillResult(len(frame), added, new_outcomes, len(records))
