"""Loading a whole history into the store in bulk: partitions of days, each added in one transaction.

The lines (sorted by date, their columns and party screening computed once) are cut into partitions of
about `partition_lines` lines that never split a day. Each partition, in date order, is one transaction:

1. take the tables' write locks, in the order the per-line writer writes them (PostgreSQL: `LOCK TABLE
   ... IN SHARE ROW EXCLUSIVE MODE`, which readers pass; SQLite: `BEGIN IMMEDIATE`), so a service
   writing at the same time waits for the partition and then goes on, and no deadlock can form;
2. drop the lines the store already holds (the `line_id` contract: a re-run adds nothing twice);
3. insert the new lines (COPY on PostgreSQL), merge their aggregate sums, first sightings and distinct
   counts, then the RU/BY exports' derived sums, then the partition's outcomes and those stored before
   their lines (`merge.py`, from frames computed by `deltas.py`);
4. append its audit record (`history_load`, with a hash of its outcomes) and the outcome records, last.

A load killed at any point leaves the store as it was before the unfinished partition; running it again
skips the partitions that committed and finishes the rest. After each partition the planner's statistics
are refreshed (`ANALYZE` on PostgreSQL), so the next partition and the service are planned for the
tables as they are. A line scored while history loads sees the partitions committed before it.
"""

from collections.abc import Callable, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from datetime import date
from typing import Any

import numpy as np
import pandas as pd

from roundabout.audit import Entry
from roundabout.features.columns import Columns
from roundabout.features.history import AGGREGATES, AGGREGATES_BY_NAME
from roundabout.store.bulk.deltas import line_sums, outcome_sums, pair_firsts, stage1_sums
from roundabout.store.bulk.merge import Merger, Running
from roundabout.store.bulk.table_io import TableIO
from roundabout.store.reader import key_strings
from roundabout.store.service_store import ServiceStore
from roundabout.store.tables import DISTINCT_RELATIONS
from roundabout.store.writer import LAST_IMPORT, last_import_days, line_values

#: Lines per partition (one transaction each) by default.
PARTITION_LINES = 250_000
_EPOCH = date(1970, 1, 1)
_OUTCOME_COLUMNS = ["line_id", "inspected_on", "outcome", "violation_type", "selection", "propensity"]


@dataclass(frozen=True)
class LoadResult:
    """What a bulk load read, added and skipped."""

    lines_read: int
    lines_new: int
    outcomes_new: int


def partition_bounds(days: np.ndarray, size: int) -> list[tuple[int, int]]:
    """Row ranges [start, end) of date-sorted lines, of about `size` lines each, never splitting a day."""
    bounds, start, n = [], 0, len(days)
    while start < n:
        end = min(start + size, n)
        if end < n:
            # move the cut to the start of the day it falls in (or past it, for a day longer than `size`)
            day_start = int(np.searchsorted(days, days[end], side="left"))
            end = day_start if day_start > start else int(np.searchsorted(days, days[end], side="right"))
        bounds.append((start, end))
        start = end
    return bounds


class BulkLoader:
    """Loads partitions of lines and their outcomes into one store (see the module docstring)."""

    def __init__(self, store: ServiceStore) -> None:
        self.store = store
        self.tables = store.tables
        self.io = TableIO(store.backend)
        self.merge = Merger(self.io)

    def lock_order(self) -> list[str]:
        """The tables a partition writes, in the order the per-line writer first writes each."""
        t = self.tables
        stage0 = [t.aggs[a.name].name for a in AGGREGATES if a.source == "lines" and a.stage == 0]
        stage1 = [t.aggs[a.name].name for a in AGGREGATES if a.stage == 1]
        outcome_aggs = [t.aggs[a.name].name for a in AGGREGATES if a.source == "outcomes"]
        return [
            t.lines.name,
            *stage0,
            t.distinct.name,
            t.pairs.name,
            *stage1,
            t.outcomes.name,
            *outcome_aggs,
            t.outcome_records.name,
        ]

    def load(
        self,
        cols: Columns,
        extra_columns: dict[str, str],
        outcomes: Sequence[dict[str, Any]],
        partition_lines: int = PARTITION_LINES,
        on_lines: Callable[[int], None] | None = None,
    ) -> LoadResult:
        """Add date-sorted lines `cols` (checked, all fields, screened) and checked `outcomes` (distinct line
        ids), partition by partition; `on_lines(n)` after each partition of n lines."""
        stored = self._stored_outcomes(outcomes)
        waiting = {o["line_id"]: o for o in outcomes if o["line_id"] not in stored}
        bounds = partition_bounds(cols["day"], partition_lines)
        added = outcomes_new = loaded = analysed = 0
        with ThreadPoolExecutor(1, thread_name_prefix="bulk-prepare") as ahead:
            # the next partition's frames are computed while the database takes this one
            coming = ahead.submit(self._prepare, cols, bounds[0], extra_columns) if bounds else None
            for number, (start, end) in enumerate(bounds, 1):
                assert coming is not None
                ready = coming.result()
                if number < len(bounds):
                    coming = ahead.submit(self._prepare, cols, bounds[number], extra_columns)
                with self.store.transaction() as conn:
                    self.store.backend.lock_for_load(conn, self.lock_order())
                    new, fresh = self._partition(conn, ready, waiting, (number, len(bounds)))
                added, outcomes_new, loaded, analysed = self._after(
                    new, fresh, (added, outcomes_new, loaded, analysed)
                )
                if on_lines is not None:
                    on_lines(end - start)
        # outcomes whose lines were in the store before, or are not in it at all (kept until they arrive)
        rest = list(waiting.values())
        if rest:
            content = {"outcomes": len(rest), "lines_with_them": "already stored or not yet"}
            outcomes_new += self.store.add_outcomes(rest, Entry("history_load", "cli", None, content))
        elif not loaded:
            # a load that added nothing is on the trail too
            self.store.audit.record(
                [Entry("history_load", "cli", None, {"lines": len(cols["day"]), "lines_added": 0})]
            )
        return LoadResult(len(cols["day"]), added, outcomes_new)

    def _after(self, new: int, fresh: int, counts: tuple[int, int, int, int]) -> tuple[int, int, int, int]:
        """Counts after a partition committed (lines, outcomes, partitions loaded, lines at the last
        `ANALYZE`); the planner's statistics are taken again each time the loaded lines have doubled."""
        added, outcomes_new, loaded, analysed = counts
        if new:
            loaded += 1
            if added + new >= 2 * analysed:
                self.store.backend.analyze(self.lock_order())
                analysed = added + new
        return added + new, outcomes_new + fresh, loaded, analysed

    def _stored_outcomes(self, outcomes: Sequence[dict[str, Any]]) -> set[str]:
        """The line ids of `outcomes` the store has an outcome for; raises `ConflictError` (before anything
        is written) when one differs from the stored one."""
        ids = [o["line_id"] for o in outcomes]
        with self.store.backend.connect() as conn:
            found = self.merge.rows_of(conn, self.tables.outcomes, ids, ["line_id"])
            known = set(found["line_id"])
            if known:
                self.store.writer.refuse_changed([o for o in outcomes if o["line_id"] in known], conn)
        return known

    @staticmethod
    def _prepare(cols: Columns, bounds: tuple[int, int], extra_columns: dict[str, str]) -> "_Prepared":
        """What a partition of lines adds, computed without the store (taking every line as new)."""
        part = {name: values[bounds[0] : bounds[1]] for name, values in cols.items()}
        return _Prepared.of(part, extra_columns)

    def _partition(
        self,
        conn: Any,
        ready: "_Prepared",
        waiting: dict[str, dict[str, Any]],
        number: tuple[int, int],
    ) -> tuple[int, int]:
        """Add one partition's new lines and outcomes in the caller's (locked) transaction; how many lines
        and outcomes were new."""
        t, merge = self.tables, self.merge
        ids = ready.part["line_id"].tolist()
        known = set(merge.rows_of(conn, t.lines, ids, ["line_id"])["line_id"])
        if known:
            keep = np.array([i not in known for i in ids], dtype=bool)
            ready = _Prepared.of({name: values[keep] for name, values in ready.part.items()}, ready.extra)
            ids = ready.part["line_id"].tolist()
        if not ids:
            return 0, 0
        part = ready.part
        self.io.insert(conn, t.lines, ready.lines)
        for name, delta in ready.sums.items():
            merge.sums(conn, Running.of_aggregate(t, AGGREGATES_BY_NAME[name]), delta)
        counts = merge.pairs(conn, t.pairs, ready.sighted)
        merge.sums(conn, Running.of_distinct(t), counts[counts["rel"].isin(DISTINCT_RELATIONS)])
        if ready.exports is not None:
            stage0 = {"last_import_day": self._last_import_days(conn, ready.exports)}
            for name, delta in stage1_sums(ready.exports, stage0).items():
                merge.sums(conn, Running.of_aggregate(t, AGGREGATES_BY_NAME[name]), delta)
        # outcomes stored before their lines arrived, and the folder's outcomes of these lines
        pending = merge.rows_of(conn, t.outcomes, ids, ["line_id", "inspected_on", "outcome"])
        early = set(pending["line_id"])
        fresh = [waiting.pop(i) for i in ids if i in waiting and i not in early]
        if fresh:
            self.io.insert(conn, t.outcomes, pd.DataFrame(fresh, columns=_OUTCOME_COLUMNS))
        counted_outcomes = [*fresh, *pending.to_dict("records")]
        if counted_outcomes:
            self._fold_outcomes(conn, part, counted_outcomes)
        days = part["day"]
        content = {
            "partition": number[0],
            "partitions": number[1],
            "first_date": _EPOCH.fromordinal(_EPOCH.toordinal() + int(days.min())),
            "last_date": _EPOCH.fromordinal(_EPOCH.toordinal() + int(days.max())),
            "lines_added": len(ids),
            "lines_known": len(known),
            "outcomes": len(fresh),
        }
        self.store.outcome_records.received(conn, fresh, Entry("history_load", "cli", None, content))
        return len(ids), len(fresh)

    def _fold_outcomes(self, conn: Any, part: Columns, outcomes: list[dict[str, Any]]) -> None:
        """Count outcomes of lines of `part` on their inspection days, for the keys of their lines."""
        position = pd.Index(part["line_id"]).get_indexer([o["line_id"] for o in outcomes])
        rows = {name: values[position] for name, values in part.items()}
        inspected = [o["inspected_on"] for o in outcomes]
        days = np.array(
            [((date.fromisoformat(d) if isinstance(d, str) else d) - _EPOCH).days for d in inspected],
            dtype="int64",
        )
        violation = np.array([o["outcome"] == "violation" for o in outcomes], dtype="float64")
        for name, delta in outcome_sums(rows, days, violation).items():
            self.merge.sums(conn, Running.of_aggregate(self.tables, AGGREGATES_BY_NAME[name]), delta)

    def _last_import_days(self, conn: Any, exports: Columns) -> np.ndarray:
        """The exports' `last_import_day`, from the stored import days of their keys within the lookback
        (the partition's own imports are in the store by now)."""
        query = LAST_IMPORT
        keys = key_strings(exports, AGGREGATES_BY_NAME[query.aggregate].key)
        frame = pd.DataFrame({"key": pd.Series(keys, dtype=object), "day": exports["day"]}).dropna()
        spans = frame.groupby("key", sort=True)["day"].agg(["min", "max"]).reset_index()
        spans = pd.DataFrame(
            {"key": spans["key"], "d0": spans["min"] - query.lookback, "d1": spans["max"]}
        ).astype({"d0": "int64", "d1": "int64"})
        table = self.tables.aggs[query.aggregate]
        stored = self.merge.spans(conn, table, spans, table.c[query.measure] > 0)
        return last_import_days(stored, exports)


@dataclass(frozen=True)
class _Prepared:
    """A partition's lines and what they add, computed in memory (`deltas.py`)."""

    part: Columns
    extra: dict[str, str]
    lines: pd.DataFrame
    sums: dict[str, pd.DataFrame]
    sighted: pd.DataFrame
    exports: Columns | None

    @classmethod
    def of(cls, part: Columns, extra: dict[str, str]) -> "_Prepared":
        values = line_values(part, extra)
        lines = pd.DataFrame({k: pd.Series(v, dtype=object) for k, v in values.items()})
        exports = np.flatnonzero(part["ru_by_export"] == 1.0)
        sub = {name: values[exports] for name, values in part.items()} if len(exports) else None
        return cls(part, extra, lines, line_sums(part), pair_firsts(part), sub)
