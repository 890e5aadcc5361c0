"""Benchmark of the online feature path: latency of one line's features with a big store.

    python bench/bench_online.py --lines 1000000 --seed 1 [--url sqlite:///...] [--score 3000]

Uses the simulated world of bench_features.py (simulated if missing). All but the last `--score` lines (by
date) are loaded into a fresh store in bulk (`roundabout.store.backfill`, chunks of 100k lines, plus the
outcomes known by then); the artifacts are fitted on those lines. Then the remaining lines arrive in date
order: each line is checked (the record validator, as at the API's edge), its features read on their own
(`OnlineFeatures.read`), and the line is then added (`OnlineFeatures.add`), as in serving. Reports
p50/p95/p99 of the read and of the add, as wall-clock and as CPU time of the calling thread.

The stores run as the service runs them (`--checkpoints background`, the default): SQLite's write-ahead
log is folded back into the file by a thread every second, not by whichever commit crosses the log's
1,000-page mark; `--checkpoints auto` keeps SQLite's automatic checkpoints, to compare.
"""

import argparse
import os
import platform
import shutil
import tempfile
import threading
import time
from datetime import date
from pathlib import Path

import numpy as np
from bench_features import ensure_world

from roundabout.data.io import CanonicalData, read_folder
from roundabout.data.records import RecordValidator
from roundabout.data.validation import FormatRules
from roundabout.features import FeatureArtifacts
from roundabout.store import OnlineFeatures, ServiceStore
from roundabout.store.backfill import backfill

CHUNK = 100_000


def load(store: ServiceStore, history: CanonicalData, rules: FormatRules) -> float:
    t0 = time.perf_counter()
    backfill(store, history, rules, chunk=CHUNK)  # ends with ANALYZE, as `roundabout backfill`
    return time.perf_counter() - t0


def serve(
    store: ServiceStore, features: OnlineFeatures, validator: RecordValidator, records: list[dict]
) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """Milliseconds of each line's check and features, and of adding it afterwards: wall-clock, and CPU
    time of this thread (SQLite runs in-process; on a shared machine the CPU time leaves out the waits for
    a core, so it is what the same calls would take on a quiet one)."""
    n = len(records)
    feats, adds, feats_cpu, adds_cpu = np.empty(n), np.zeros(n), np.empty(n), np.zeros(n)
    for i, record in enumerate(records):
        t0, c0 = time.perf_counter(), time.thread_time()
        line = validator.line(record)
        with store.backend.connect() as conn:
            features.read(conn, [line])
        t1, c1 = time.perf_counter(), time.thread_time()
        with store.transaction() as conn:
            features.add(conn, [line])
        feats[i], adds[i] = t1 - t0, time.perf_counter() - t1
        feats_cpu[i], adds_cpu[i] = c1 - c0, time.thread_time() - c1
    return feats * 1e3, adds * 1e3, feats_cpu * 1e3, adds_cpu * 1e3


def checkpoint_every_second(store: ServiceStore, done: threading.Event) -> None:
    """What the service's background task does (`serving.app`), until `done` is set."""
    while not done.wait(1.0):
        store.checkpoint()


def report(label: str, ms: np.ndarray) -> None:
    p50, p95, p99 = np.percentile(ms, [50, 95, 99])
    print(f"{label:34s} p50 {p50:6.3f} ms  p95 {p95:6.3f} ms  p99 {p99:6.3f} ms  max {ms.max():7.2f} ms")


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--lines", type=int, default=1_000_000)
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--data", type=Path, default=None)
    parser.add_argument("--score", type=int, default=3000, help="lines scored one by one")
    parser.add_argument("--url", default=None, help="store URL (default: SQLite file in a temp dir)")
    parser.add_argument("--checkpoints", choices=["background", "auto"], default="background")
    args = parser.parse_args()
    folder = args.data or Path(f"/tmp/roundabout-world-{args.lines}-{args.seed}")
    ensure_world(folder, args.lines, args.seed)
    data = read_folder(folder)
    lines = data.lines.sort_values("date", kind="stable").reset_index(drop=True)
    history, incoming = lines.iloc[: -args.score], lines.iloc[-args.score :]
    first_incoming = incoming["date"].min()
    known = data.inspections["inspected_on"] < first_incoming
    outcomes = data.inspections[known & data.inspections["line_id"].isin(history["line_id"])]
    tmp = Path(tempfile.mkdtemp(prefix="roundabout-bench-"))
    url = args.url or f"sqlite:///{tmp / 'store.db'}"
    try:
        artifacts = FeatureArtifacts().fit(history, outcomes, data.extra_columns)
        rules = FormatRules(max_date=lines["date"].max().date())
        auto = args.checkpoints == "auto"
        store = ServiceStore.open(url, autocheckpoint=auto)
        store.migrate()
        # a kept store (--url) that already holds the history is reused as it is
        empty = store.exporter.line_count() == 0
        known = CanonicalData(history, outcomes, None, data.extra_columns)
        t_load = load(store, known, rules) if empty else float("nan")
        print(
            f"# online features, {date.today()}, {platform.machine()}, {len(os.sched_getaffinity(0))} cores"
        )
        print(
            f"store                              {url.split('://')[0]}, {store.exporter.line_count():,} lines"
        )
        print(f"bulk load                          {t_load:.1f} s ({len(history) / t_load:,.0f} lines/s)")
        records = incoming.to_dict("records")
        if store.exporter.line_count() > len(history):  # a reused store that already served these lines
            raise SystemExit("the store already holds the incoming lines; start from a fresh --url")
        done = threading.Event()
        checkpointer = threading.Thread(target=checkpoint_every_second, args=(store, done))
        if not auto:
            checkpointer.start()
        validator = RecordValidator(rules, data.extra_columns)
        feats, adds, feats_cpu, adds_cpu = serve(store, store.features(artifacts), validator, records)
        done.set()
        if not auto:
            checkpointer.join()
        print(f"checkpoints                        {args.checkpoints}")
        print(f"load average                       {', '.join(f'{x:.2f}' for x in os.getloadavg())}")
        print("wall-clock:")
        report("check and features of one line", feats)
        report("add one line", adds)
        print("CPU time of the calling thread:")
        report("check and features of one line", feats_cpu)
        report("add one line", adds_cpu)
        store.dispose()
    finally:
        shutil.rmtree(tmp, ignore_errors=True)


if __name__ == "__main__":
    main()
