"""One chunk of a source file made canonical: mapped, validated, converted, its outcomes taken out.

An ingest runs this chunk after chunk (`ingest.py`), so a file of any size loads in bounded memory; what
must hold across the whole file is carried from chunk to chunk here: a `line_id` (or a line's outcome)
met in an earlier chunk is a duplicate exactly as within one (the first occurrence loads), and an outcome
whose line has not arrived yet waits for it until the end of the file (`finish`). The counts add up to
those of the file read whole; `tests/data/test_streaming.py` holds the two to the same output.
"""

from collections import Counter
from dataclasses import dataclass, field

import numpy as np
import pandas as pd

from roundabout.data.conversions import convert
from roundabout.data.mapping import IngestMapping, MappingError
from roundabout.data.seen import SeenKeys
from roundabout.data.sources import SourceTable, text
from roundabout.data.validation import (
    FormatRules,
    ValidationResult,
    ValidationSummary,
    empty_rejects,
    validate_inspections,
    validate_lines,
)

ORPHAN_REASON = "its goods line was not loaded"


def apply_mapping(frame: pd.DataFrame, mapping: IngestMapping, outcomes: bool = True) -> pd.DataFrame:
    """Rename, join, fill constants, translate codes: a frame with canonical names and source values.
    Without `outcomes` the mapping's outcome columns need not be in the source."""
    missing = sorted(mapping.source_columns(outcomes) - set(frame.columns))
    if missing:
        shown = ", ".join(map(repr, list(frame.columns)[:30]))
        raise MappingError(
            f"source columns named in the mapping are absent: {', '.join(missing)}; found {shown}"
        )
    out: dict[str, pd.Series] = {}
    for field_name, source in mapping.columns.items():
        if isinstance(source, str):
            out[field_name] = frame[source]
        else:
            parts = [text(frame[c]).str.strip() for c in source]
            joined = parts[0]
            for part in parts[1:]:
                joined = joined + "/" + part
            out[field_name] = joined
    for field_name, value in mapping.constants.items():
        out[field_name] = pd.Series([value] * len(frame), dtype="str", index=frame.index)
    for field_name, codes in mapping.values.items():
        if field_name in out:
            # A code mapped to None is the source's "unknown": it becomes an empty value, checked as one.
            given = text(out[field_name]).str.strip()
            out[field_name] = given.map(codes).where(given.isin(list(codes)), given)
    if (
        "hs_code" in out
        and pd.api.types.is_integer_dtype(out["hs_code"])
        and len(mapping.rules.hs_code_digits) == 1
    ):
        # A numeric code column has lost its leading zeros; with one allowed length they are unambiguous.
        out["hs_code"] = out["hs_code"].astype("str").str.zfill(mapping.rules.hs_code_digits[0])
    for name, extra in mapping.extra_columns.items():
        out[name] = frame[extra.source]
    return pd.DataFrame(out, index=frame.index)


def _outcome_frame(
    frame: pd.DataFrame, line_ids: pd.Series, mapping: IngestMapping
) -> tuple[pd.DataFrame, np.ndarray]:
    """Inspection outcomes from the rows that carry one (an empty outcome means not inspected)."""
    assert mapping.outcomes is not None
    cols = mapping.outcomes
    outcome = text(frame[cols.outcome]).str.strip()
    given = outcome.notna() & (outcome != "")
    raw = pd.DataFrame(
        {
            "line_id": text(line_ids),
            "inspected_on": frame[cols.inspected_on],
            "outcome": outcome,
            "violation_type": frame[cols.violation_type] if cols.violation_type else pd.NA,
        }
    )
    for field_name, codes in cols.values.items():
        coded = text(raw[field_name]).str.strip()
        raw[field_name] = coded.map(codes).where(coded.isin(list(codes)), coded)
    return raw.loc[given.to_numpy()].reset_index(drop=True), np.flatnonzero(given.to_numpy())


@dataclass
class Tally:
    """A table's counts summed over chunks."""

    read: int = 0
    loaded: int = 0
    rejected: int = 0
    reasons: Counter[str] = field(default_factory=Counter)

    def add(self, summary: ValidationSummary) -> None:
        self.read += summary.rows_read
        self.loaded += summary.rows_loaded
        self.rejected += summary.rows_rejected
        self.reasons.update(summary.by_reason)

    def reject(self, n: int, reason: str, read: bool = False) -> None:
        """`n` rows rejected for `reason` (`read`: rows the summary has not counted yet; else loaded ones)."""
        if n:
            self.read += n if read else 0
            self.loaded -= 0 if read else n
            self.rejected += n
            self.reasons[reason] += n

    def summary(self) -> ValidationSummary:
        reasons = dict(sorted(self.reasons.items(), key=lambda kv: (-kv[1], kv[0])))
        return ValidationSummary(self.read, self.loaded, self.rejected, reasons)


@dataclass
class Chunk:
    """What one chunk loads: typed lines, their outcomes (None when outcomes are not loaded)."""

    lines: pd.DataFrame
    inspections: pd.DataFrame | None


@dataclass
class ChunkLoader:
    """Makes chunks canonical in file order, carrying what holds across them; `rejects` collects every
    reject record, `lines` / `inspections` the counts."""

    mapping: IngestMapping
    rules: FormatRules
    outcomes: bool
    rates: pd.DataFrame | None = None
    lines: Tally = field(default_factory=Tally)
    inspections: Tally = field(default_factory=Tally)
    rejects: list[pd.DataFrame] = field(default_factory=list)
    _claimed: SeenKeys = field(default_factory=SeenKeys)  # line ids that passed validation
    _unconverted: set[str] = field(default_factory=set)  # ... and then failed a conversion
    _outcome_ids: SeenKeys = field(default_factory=SeenKeys)
    _waiting: list[tuple[pd.DataFrame, np.ndarray]] = field(default_factory=list)

    @property
    def with_outcomes(self) -> bool:
        return self.outcomes and self.mapping.outcomes is not None

    def load(self, table: SourceTable, unjoined: pd.DataFrame | None = None) -> Chunk:
        """One chunk (joined already when the mapping joins tables; `unjoined`: its items the join
        rejected)."""
        canonical = apply_mapping(table.frame, self.mapping, self.outcomes)
        extra_kinds = {name: extra.kind for name, extra in self.mapping.extra_columns.items()}
        checked = validate_lines(canonical, self.rules, table.source_rows, extra_kinds)
        checked = self._unique(checked, self._claimed, "lines")
        self._claimed.add(checked.valid["line_id"], checked.source_rows)
        valid_ids = checked.valid["line_id"]
        lines, unconverted = convert(checked, table, self.mapping, self.rates)
        if len(unconverted):
            self._unconverted |= set(valid_ids) - set(lines.valid["line_id"])
        self.rejects += [table.malformed, checked.rejects, unconverted]
        self.lines.add(lines.summary)
        self.lines.reject(len(table.malformed), "row: malformed CSV record", read=True)
        if unjoined is not None and len(unjoined):
            self.rejects.append(unjoined)
            for (name, reason), n in unjoined.groupby(["field", "reason"]).size().items():
                self.lines.reject(int(n), f"{name}: {reason}", read=True)
        if not self.with_outcomes:
            return Chunk(lines.valid, None)
        return Chunk(lines.valid, self._outcomes(table, canonical["line_id"]))

    def _outcomes(self, table: SourceTable, line_ids: pd.Series) -> pd.DataFrame:
        assert self.mapping.outcomes is not None
        raw, positions = _outcome_frame(table.frame, line_ids.reset_index(drop=True), self.mapping)
        rules = self.rules.model_copy(
            update={"date_formats": {"inspected_on": self.mapping.outcomes.date_format}}
        )
        checked = validate_inspections(raw, rules, table.source_rows[positions])
        checked = self._unique(checked, self._outcome_ids, "inspections")
        self._outcome_ids.add(checked.valid["line_id"], checked.source_rows)
        self.rejects.append(checked.rejects)
        self.inspections.add(checked.summary)
        # a line claimed by now will not load later (a later row with its id is a duplicate): the outcome
        # loads with it, or is an orphan if it failed a conversion; one not claimed yet waits for the end
        ids = checked.valid["line_id"]
        claimed = self._claimed.first_rows(ids) > 0
        loaded = self._loaded(ids, claimed)
        lost, waiting = claimed & ~loaded, ~claimed
        if waiting.any():
            self._waiting.append((checked.valid.loc[waiting], checked.source_rows[waiting]))
        self._orphans(checked.valid.loc[lost], checked.source_rows[lost])
        return checked.valid.loc[loaded].reset_index(drop=True)

    def _loaded(self, ids: pd.Series, claimed: np.ndarray) -> np.ndarray:
        if not self._unconverted:
            return claimed
        return claimed & ~np.isin(ids.to_numpy(dtype=object), list(self._unconverted))

    def finish(self) -> pd.DataFrame | None:
        """At the end of the file: the outcomes that waited for their lines and found them (None when
        outcomes are not loaded); the others are rejected."""
        if not self.with_outcomes:
            return None
        found = []
        for valid, rows in self._waiting:
            loaded = self._loaded(valid["line_id"], self._claimed.first_rows(valid["line_id"]) > 0)
            found.append(valid.loc[loaded])
            self._orphans(valid.loc[~loaded], rows[~loaded])
        self._waiting.clear()
        return pd.concat(found, ignore_index=True) if found else None

    def _orphans(self, valid: pd.DataFrame, rows: np.ndarray) -> None:
        """Outcomes whose goods line was rejected or absent: kept out, and said so."""
        if len(valid):
            self.rejects.append(
                pd.DataFrame(
                    {
                        "table": "inspections",
                        "source_row": rows,
                        "field": "line_id",
                        "value": valid["line_id"].to_numpy(),
                        "reason": ORPHAN_REASON,
                    }
                )
            )
            self.inspections.reject(len(valid), f"line_id: {ORPHAN_REASON}")

    def _unique(self, checked: ValidationResult, seen: SeenKeys, table: str) -> ValidationResult:
        """Rows whose key an earlier chunk loaded rejected as duplicates, as within a chunk."""
        first = seen.first_rows(checked.valid["line_id"])
        dup = first > 0
        if not dup.any():
            return checked
        reason = np.array([f"duplicate line_id (first at row {r})" for r in first[dup]], dtype=object)
        self.rejects.append(
            pd.DataFrame(
                {
                    "table": table,
                    "source_row": checked.source_rows[dup],
                    "field": "line_id",
                    "value": checked.valid.loc[dup, "line_id"].astype("str").to_numpy(),
                    "reason": reason,
                }
            )
        )
        n = int(dup.sum())
        s = checked.summary
        reasons = dict(Counter(s.by_reason) + Counter({"line_id: duplicate line_id": n}))
        summary = ValidationSummary(s.rows_read, s.rows_loaded - n, s.rows_rejected + n, reasons)
        return ValidationResult(
            checked.valid.loc[~dup].reset_index(drop=True),
            checked.rejects,
            summary,
            checked.source_rows[~dup],
        )

    def all_rejects(self) -> pd.DataFrame:
        """Every reject so far, by table and source row."""
        found = [r for r in self.rejects if len(r)]
        rejects = pd.concat(found, ignore_index=True) if found else empty_rejects()
        return rejects.sort_values(["table", "source_row"], kind="stable").reset_index(drop=True)
