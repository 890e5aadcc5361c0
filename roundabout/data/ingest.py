"""Ingest: read an administration's CSV or Parquet file, map it, validate every row, write a data folder.

Bad rows never stop a load and are never dropped silently: each one is written to `rejects.csv` with its
source row number (1 = the first data row; in a CSV without line breaks inside quoted values that is file
line n+1), the field and the reason. Only problems that make the whole file unreadable (missing file,
broken mapping, mapped column absent) stop the load, with a message naming what is wrong.
"""

import hashlib
import shutil
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

import numpy as np
import pandas as pd

from roundabout.data.append import SOURCES_FILE, SUPERSEDED, Appended, append_folder, sources_of
from roundabout.data.conversions import convert
from roundabout.data.io import (
    INSPECTIONS_SCHEMA,
    LINES_FILE,
    CanonicalData,
    empty_frame,
    settle,
    write_folder,
    write_table_as_is,
)
from roundabout.data.joins import Joined, join_tables
from roundabout.data.mapping import IngestMapping, MappingError
from roundabout.data.sources import SourceTable, read_source, text
from roundabout.data.validation import (
    FormatRules,
    ValidationSummary,
    empty_rejects,
    validate_inspections,
    validate_lines,
)

REJECTS_FILE = "rejects.csv"


@dataclass
class IngestResult:
    """What a load did: the summaries of both tables and where the files went."""

    lines: ValidationSummary
    inspections: ValidationSummary | None
    out: Path
    rejects_path: Path
    appended: dict[str, Appended] | None = None  # per table, when added to a folder that held lines
    tables: dict[str, dict[str, int]] | None = None  # per joined table: rows read, joined, rejected


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
        out[field_name] = pd.Series([value] * len(frame), dtype="str")
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
    return pd.DataFrame(out)


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


def ingest(
    source: Path | Mapping[str, Path],
    mapping: IngestMapping,
    out: Path,
    base_rules: FormatRules | None = None,
    on_stage: Callable[[str], None] | None = None,
    outcomes: bool = True,
    append: bool = False,
) -> IngestResult:
    """Load one source file into the canonical data folder `out`. `outcomes=False` loads the lines only,
    even when the mapping names outcome columns: a held-out file whose labels must not reach training or
    the features of later lines (the manifest records that they were left out). `append=True` adds to a
    folder already at `out` by the rule of `data/append.py` (new ids added, exact repeats skipped, changed
    lines replaced with the old version kept), all or nothing."""
    stage = on_stage or (lambda _name: None)
    stage("read")
    table, joined = _read(source, mapping)
    stage("map")
    canonical = apply_mapping(table.frame, mapping, outcomes)
    rules = mapping.format_rules(base_rules or FormatRules())
    extra_kinds = {name: extra.kind for name, extra in mapping.extra_columns.items()}
    stage("validate")
    lines = validate_lines(canonical, rules, table.source_rows, extra_kinds)
    rejects = [table.malformed, lines.rejects]
    lines, unconverted = convert(lines, table, mapping)
    rejects.append(unconverted)
    summary = _with_malformed(lines.summary, table.malformed)
    if joined is not None:
        summary = _with_unjoined(summary, joined.line_rejects)
        rejects += [joined.line_rejects, joined.other_rejects]

    inspections: pd.DataFrame | None = None
    inspection_summary = None
    if outcomes and mapping.outcomes is not None:
        raw, positions = _outcome_frame(table.frame, canonical["line_id"], mapping)
        rows = table.source_rows[positions]
        outcome_rules = rules.model_copy(
            update={"date_formats": {"inspected_on": mapping.outcomes.date_format}}
        )
        checked = validate_inspections(raw, outcome_rules, rows)
        orphan = ~checked.valid["line_id"].isin(lines.valid["line_id"]).to_numpy()
        inspections = checked.valid.loc[~orphan].reset_index(drop=True)
        inspection_summary = _with_orphans(checked.summary, int(orphan.sum()))
        rejects += [checked.rejects, _orphan_rejects(checked.valid, checked.source_rows, orphan)]

    stage("write")
    no_outcomes = inspections is None
    data = CanonicalData(
        lines.valid, empty_frame(INSPECTIONS_SCHEMA) if no_outcomes else inspections, None, extra_kinds
    )
    manifest = {
        "source": {k: str(v) for k, v in source.items()} if isinstance(source, Mapping) else str(source),
        **({"tables": joined.counts} if joined is not None else {}),
        "mapping": mapping.name,
        "lines": summary.as_dict(),
        "inspections": inspection_summary.as_dict() if inspection_summary else None,
        "outcomes_left_out": not outcomes,
    }
    target = Path(out)
    settle(target)
    appending = append and (target / LINES_FILE).exists()
    written = target.with_name(target.name + ".incoming") if appending else target
    if appending:
        shutil.rmtree(written, ignore_errors=True)
    else:  # a plain ingest makes the folder anew: no earlier append's replaced versions stay
        for name in SUPERSEDED.values():
            (written / name).unlink(missing_ok=True)
    write_folder(data, written, manifest, with_inspections=not no_outcomes)
    digest = hashlib.sha256(mapping.model_dump_json().encode()).hexdigest()
    sources = sources_of(
        lines.valid["line_id"], str(manifest["source"]), mapping.name, digest, datetime.now(UTC)
    )
    write_table_as_is(sources, written / SOURCES_FILE)
    found = [r for r in rejects if len(r)]
    all_rejects = pd.concat(found, ignore_index=True) if found else empty_rejects()
    all_rejects = all_rejects.sort_values(["table", "source_row"], kind="stable")
    all_rejects.to_csv(written / REJECTS_FILE, index=False)
    appended = None
    if appending:
        appended = append_folder(target, written, str(source), manifest)
        shutil.rmtree(written)
    tables = joined.counts if joined is not None else None
    return IngestResult(summary, inspection_summary, target, target / REJECTS_FILE, appended, tables)


def _read(source: Path | Mapping[str, Path], mapping: IngestMapping) -> tuple[SourceTable, Joined | None]:
    """The source as one table of goods lines: read, or (a mapping with `tables`) read and joined."""
    if not mapping.tables:
        if isinstance(source, Mapping):
            raise MappingError("one --source file, unnamed: this mapping declares no tables")
        return read_source(Path(source), mapping), None
    files = dict(source) if isinstance(source, Mapping) else {}
    if missing := [name for name in mapping.source_files() if name not in files]:
        raise MappingError(f"this mapping joins tables: give --source NAME=FILE for {', '.join(missing)}")
    if extra := sorted(set(files) - set(mapping.source_files())):
        raise MappingError(f"--source names no table of the mapping reads: {', '.join(extra)}")
    read = {name: read_source(Path(path), mapping) for name, path in files.items()}
    joined = join_tables(read, mapping)
    main_file = mapping.tables[mapping.main_table or ""].file or mapping.main_table
    other_malformed = [
        t.malformed.assign(table=n) for n, t in read.items() if n != main_file and len(t.malformed)
    ]
    if other_malformed:
        joined.other_rejects = pd.concat([joined.other_rejects, *other_malformed], ignore_index=True)
    return joined.table, joined


def _with_unjoined(summary: ValidationSummary, rejected: pd.DataFrame) -> ValidationSummary:
    """Count goods lines the join rejected as read and rejected."""
    n = len(rejected)
    if not n:
        return summary
    by_reason = dict(summary.by_reason)
    for (field, reason), count in rejected.groupby(["field", "reason"]).size().items():
        by_reason[f"{field}: {reason}"] = int(count)
    return ValidationSummary(summary.rows_read + n, summary.rows_loaded, summary.rows_rejected + n, by_reason)


def _with_malformed(summary: ValidationSummary, malformed: pd.DataFrame) -> ValidationSummary:
    """Count records the CSV parser could not split into fields as read and rejected."""
    n = len(malformed)
    if not n:
        return summary
    by_reason = {"row: malformed CSV record": n, **summary.by_reason}
    return ValidationSummary(summary.rows_read + n, summary.rows_loaded, summary.rows_rejected + n, by_reason)


ORPHAN_REASON = "its goods line was not loaded"


def _with_orphans(summary: ValidationSummary, n: int) -> ValidationSummary:
    if not n:
        return summary
    by_reason = {**summary.by_reason, f"line_id: {ORPHAN_REASON}": n}
    return ValidationSummary(summary.rows_read, summary.rows_loaded - n, summary.rows_rejected + n, by_reason)


def _orphan_rejects(valid: pd.DataFrame, rows: np.ndarray, orphan: np.ndarray) -> pd.DataFrame:
    """Outcomes whose goods line was rejected or absent: kept out, and said so."""
    return pd.DataFrame(
        {
            "table": "inspections",
            "source_row": rows[orphan],
            "field": "line_id",
            "value": valid.loc[orphan, "line_id"].to_numpy(),
            "reason": ORPHAN_REASON,
        }
    )
