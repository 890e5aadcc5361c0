"""Parity of a bulk-loaded store with one built line by line: the features of held-out lines read from each.

    .venv/bin/python bench/bench_backfill_parity.py [--lines 100000] [--held-out 3000] [--seed 7]
                                                    [--stores sqlite,postgres]

A simulated world of `--lines` lines is cut at the day that leaves the last `--held-out` lines (or a few
more: whole days) out. The history before it is loaded into two fresh stores of each kind, one by
`backfill(method="bulk")` (default partitions) and one by `backfill(method="lines")` (the service's per-line
writer), both screening against the world's sanctions list. The held-out lines' features (every feature
of artifacts fitted on the history) are read from each store as of their dates, and compared: equal within
1e-9 relative, NaN where NaN. Prints one row per store kind: lines, features, values compared, values
differing, largest relative difference. Exits 1 if any differ.
"""

import argparse
import sys
import tempfile
from pathlib import Path

import numpy as np
import sqlalchemy as sa

from roundabout.data.io import CanonicalData
from roundabout.data.records import RecordValidator
from roundabout.data.validation import FormatRules
from roundabout.features import FeatureArtifacts
from roundabout.parties.index import ListVersion, LoadedList, ScreeningIndex
from roundabout.simulation.config import SimulationConfig
from roundabout.simulation.world import simulate_world
from roundabout.store import ServiceStore
from roundabout.store.backfill import backfill

PG_ADMIN = "postgresql+psycopg://postgres@127.0.0.1:5432/postgres"


def _fresh(kind: str, name: str, work: Path) -> str:
    if kind == "sqlite":
        return f"sqlite:///{work / f'{name}.db'}"
    admin = sa.create_engine(PG_ADMIN, isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        conn.exec_driver_sql(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        conn.exec_driver_sql(f'CREATE DATABASE "{name}"')
    admin.dispose()
    return PG_ADMIN.rsplit("/", 1)[0] + f"/{name}"


def _drop(kind: str, name: str) -> None:
    if kind == "postgres":
        admin = sa.create_engine(PG_ADMIN, isolation_level="AUTOCOMMIT")
        with admin.connect() as conn:
            conn.exec_driver_sql(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        admin.dispose()


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--lines", type=int, default=100_000)
    parser.add_argument("--held-out", type=int, default=3_000)
    parser.add_argument("--seed", type=int, default=7)
    parser.add_argument("--stores", default="sqlite,postgres")
    args = parser.parse_args()
    simulated = simulate_world(SimulationConfig(n_lines=args.lines, seed=args.seed))
    data = simulated.data
    index = ScreeningIndex.build([LoadedList(ListVersion("simulated", 1), simulated.sanctions)])
    rules = FormatRules(max_date=data.inspections["inspected_on"].max().date())
    cut = data.lines["date"].sort_values().iloc[-args.held_out]
    history = CanonicalData(data.lines[data.lines["date"] < cut], data.inspections, None, data.extra_columns)
    validator = RecordValidator(rules, data.extra_columns)
    held = [validator.line(r) for r in data.lines[data.lines["date"] >= cut].to_dict("records")]
    artifacts = FeatureArtifacts().fit(history.lines, history.inspections, history.extra_columns)
    header = "| store | history lines | held-out | features | values compared | differing | max rel. diff |"
    print(header)
    print("|---|---:|---:|---:|---:|---:|---:|")
    failed = False
    with tempfile.TemporaryDirectory(prefix="roundabout-parity-") as tmp:
        for kind in args.stores.split(","):
            frames = []
            for method in ("bulk", "lines"):
                name = f"roundabout_bench_parity_{method}"
                url = _fresh(kind, name, Path(tmp))
                store = ServiceStore.open(url)
                try:
                    store.migrate()
                    backfill(store, history, rules, screening=index, method=method)
                    features = store.features(artifacts, screening=lambda: index)
                    with store.backend.connect() as conn:
                        frames.append(features.read(conn, held))
                finally:
                    store.dispose()
                    _drop(kind, name)
            a, b = frames
            both_nan = np.isnan(a) & np.isnan(b)
            with np.errstate(divide="ignore", invalid="ignore"):
                rel = np.where(both_nan, 0.0, np.abs(a - b) / np.maximum(np.abs(b), 1e-300))
            rel = np.where((a == b) | both_nan, 0.0, rel)
            differing = int((rel > 1e-9).sum())
            failed |= differing > 0
            print(
                f"| {kind} | {len(history.lines):,} | {len(held):,} | {a.shape[1]} | {a.size:,} | "
                f"{differing:,} | {float(np.nanmax(rel)):.1e} |"
            )
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
