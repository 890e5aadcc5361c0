"""Ingest: read an administration's CSV or Parquet file, map it, validate every row, write a data folder.

Bad rows never stop a load and are never dropped silently: each one is written to `rejects.csv` with its
source row number (1 = the first data row; in a CSV without line breaks inside quoted values that is file
line n+1), the field and the reason. Only problems that make the whole file unreadable (missing file,
broken mapping, mapped column absent) stop the load, with a message naming what is wrong.

The goods lines' file is read, made canonical and written a chunk of rows at a time (`chunk_load.py`,
`folder_writer.py`), so memory does not grow with its length; the tables its lines join to (headers,
parties) are read whole.
"""

import hashlib
import itertools
import os
import shutil
from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

from roundabout.data.append import SUPERSEDED, Appended, append_folder, carry_over, sources_of, swap_in
from roundabout.data.chunk_load import ChunkLoader
from roundabout.data.currency import read_rates
from roundabout.data.dataset import LINES_DIR
from roundabout.data.folder_writer import FolderWriter
from roundabout.data.io import INSPECTIONS_FILE, LINES_FILE, TRUTH_FILE, has_lines, settle
from roundabout.data.joins import JoinPlan, plan_join
from roundabout.data.mapping import IngestMapping, MappingError
from roundabout.data.sources import CHUNK_ROWS, SourceTable, iter_source, read_source
from roundabout.data.validation import FormatRules, ValidationSummary

REJECTS_FILE = "rejects.csv"

#: Called after each chunk with the goods-line rows read so far and the share of the file read.
RowsProgress = Callable[[int, float], None]


@dataclass
class IngestResult:
    """What a load did: the summaries of both tables and where the files went."""

    lines: ValidationSummary
    inspections: ValidationSummary | None
    out: Path
    rejects_path: Path
    appended: dict[str, Appended] | None = None  # per table, when added to a folder that held lines
    tables: dict[str, dict[str, int]] | None = None  # per joined table: rows read, joined, rejected


def ingest(
    source: Path | Mapping[str, Path],
    mapping: IngestMapping,
    out: Path,
    base_rules: FormatRules | None = None,
    on_stage: Callable[[str], None] | None = None,
    outcomes: bool = True,
    append: bool = False,
    chunk_rows: int = CHUNK_ROWS,
    on_rows: RowsProgress | None = None,
    partitioned: bool = False,
) -> IngestResult:
    """Load one source (a file, or one file per table of a mapping that joins tables) into the canonical
    data folder `out`, `chunk_rows` goods-line rows at a time. `outcomes=False` loads the lines only, even
    when the mapping names outcome columns: a held-out file whose labels must not reach training or the
    features of later lines (the manifest records that they were left out). `append=True` adds to a folder
    already at `out` by the rule of `data/append.py` (new ids added, exact repeats skipped, changed lines
    replaced with the old version kept), all or nothing. `partitioned` writes the lines as a dataset of
    month partitions (`dataset.py`); a folder appended to keeps the layout it has."""
    stage = on_stage or (lambda _name: None)
    stage("read")
    chunks, plan = _open(source, mapping, chunk_rows)
    rates = None
    if mapping.currency is not None:
        rates = read_rates(mapping.currency.rates, mapping.currency.usd)
    rules = mapping.format_rules(base_rules or FormatRules())
    loader = ChunkLoader(mapping, rules, outcomes, rates)
    extra_kinds = {name: extra.kind for name, extra in mapping.extra_columns.items()}
    target = Path(out)
    settle(target)
    appending = append and has_lines(target)
    # written beside the folder and swapped in whole: a load that fails or is killed leaves it as it was
    written = target.with_name(target.name + ".incoming")
    shutil.rmtree(written, ignore_errors=True)
    named = {k: str(v) for k, v in source.items()} if isinstance(source, Mapping) else str(source)
    digest = hashlib.sha256(mapping.model_dump_json().encode()).hexdigest()
    at = datetime.now(UTC)
    stage("load")
    try:
        writer = FolderWriter(written, extra_kinds, loader.with_outcomes, partitioned and not appending)
        provenance = (str(named), mapping.name, digest, at)
        manifest, counts = _load(chunks, plan, loader, writer, provenance, on_rows, stage)
        appended = None
        if appending:
            stage("append")
            appended = append_folder(target, written, str(source), manifest)
            shutil.rmtree(written)
        else:  # the folder made anew: what else it held stays, but no earlier load's tables or replaced rows
            made = {*os.listdir(written), LINES_FILE, LINES_DIR, INSPECTIONS_FILE, TRUTH_FILE}
            carry_over([target], written, skip=made | set(SUPERSEDED.values()))
            swap_in(target, written)
    except BaseException:
        shutil.rmtree(written, ignore_errors=True)
        raise
    summary = loader.lines.summary()
    inspection_summary = loader.inspections.summary() if loader.with_outcomes else None
    return IngestResult(summary, inspection_summary, target, target / REJECTS_FILE, appended, counts)


def _load(
    chunks: Iterator[SourceTable],
    plan: JoinPlan | None,
    loader: ChunkLoader,
    folder: FolderWriter,
    provenance: tuple[str, str, str, datetime],
    on_rows: RowsProgress | None,
    stage: Callable[[str], None],
) -> tuple[dict[str, object], dict[str, dict[str, int]] | None]:
    """Every chunk loaded and written into `folder`, each line with its `provenance` (source, mapping,
    its hash, load time); the manifest's load summary and the joined tables' counts."""
    with folder as writer:
        for chunk in chunks:
            unjoined = None
            if plan is not None:
                chunk, unjoined = plan.join(chunk)
            done = loader.load(chunk, unjoined)
            writer.write(done.lines, done.inspections, sources_of(done.lines["line_id"], *provenance))
            if on_rows is not None:
                on_rows(loader.lines.read, chunk.done)
        writer.write(None, loader.finish(), None)
        stage("write")
        counts = None
        if plan is not None:
            other_rejects, counts = plan.finish()
            loader.rejects.append(other_rejects)
        inspections = loader.inspections.summary() if loader.with_outcomes else None
        manifest = {
            "source": provenance[0],
            **({"tables": counts} if counts is not None else {}),
            "mapping": provenance[1],
            "lines": loader.lines.summary().as_dict(),
            "inspections": inspections.as_dict() if inspections else None,
            "outcomes_left_out": not loader.outcomes,
        }
        loader.all_rejects().to_csv(writer.folder / REJECTS_FILE, index=False)
        writer.close(manifest)
    return manifest, counts


def _open(
    source: Path | Mapping[str, Path], mapping: IngestMapping, chunk_rows: int
) -> tuple[Iterator[SourceTable], JoinPlan | None]:
    """The goods lines' file as chunks and, for a mapping with `tables`, the other tables read and keyed."""
    if not mapping.tables:
        if isinstance(source, Mapping):
            raise MappingError("one --source file, unnamed: this mapping declares no tables")
        return _checked(iter_source(Path(source), mapping, chunk_rows)), None
    files = dict(source) if isinstance(source, Mapping) else {}
    if missing := [name for name in mapping.source_files() if name not in files]:
        raise MappingError(f"this mapping joins tables: give --source NAME=FILE for {', '.join(missing)}")
    if extra := sorted(set(files) - set(mapping.source_files())):
        raise MappingError(f"--source names no table of the mapping reads: {', '.join(extra)}")
    main_file = mapping.tables[mapping.main_table or ""].file or mapping.main_table or ""
    # the goods lines' file is streamed; another table read from the same file is read whole as well
    shared = any((t.file or n) == main_file for n, t in mapping.tables.items() if n != mapping.main_table)
    others = {
        name: read_source(Path(path), mapping, mapping.file_columns(name))
        for name, path in files.items()
        if name != main_file or shared
    }
    plan = plan_join(others, mapping)
    plan.other_rejects += [t.malformed.assign(table=n) for n, t in others.items() if len(t.malformed)]
    return _checked(iter_source(Path(files[main_file]), mapping, chunk_rows)), plan


def _checked(chunks: Iterator[SourceTable]) -> Iterator[SourceTable]:
    """The chunks with the first read now, before anything is written: an unreadable file fails first."""
    return itertools.chain([next(chunks)], chunks)
