"""Loading history in bulk leaves the store a line-by-line load leaves: every row of every table the
features read, and so every feature of the lines that come after; on SQLite and PostgreSQL, into an empty
store and into one that already holds lines and outcomes. Loads are idempotent, refuse a changed outcome
before writing, and a load killed by SIGKILL resumes to the same store."""

import itertools
import os
import signal
import subprocess
import sys
import time
from collections.abc import Iterator
from dataclasses import replace
from datetime import timedelta
from pathlib import Path

import numpy as np
import pytest
import sqlalchemy as sa
from typer.testing import CliRunner

from roundabout.cli import app
from roundabout.data.io import CanonicalData, write_folder
from roundabout.data.validation import FormatRules
from roundabout.errors import ConflictError
from roundabout.features import FeatureArtifacts
from roundabout.parties.index import ListVersion, LoadedList, ScreeningIndex
from roundabout.simulation.config import SimulationConfig
from roundabout.simulation.world import simulate_world
from roundabout.store import ServiceStore
from roundabout.store.audit_check import verify_store
from roundabout.store.backfill import backfill
from roundabout.store.bulk import partition_bounds
from tests.store.conftest import snapshot
from tests.support.postgres import fresh_postgres_database
from tests.support.replay import assert_same_features, checked, read_frame

#: The tables a load writes, compared row by row (the audit trail differs: one record per partition).
COMPARED = ("feat_", "outcome_records")
#: Columns that differ between two stores however the rows came (ids, links to the trail, arrival times).
IGNORED = {"id", "audit_seq", "received_at"}


@pytest.fixture(scope="module")
def world() -> tuple[CanonicalData, ScreeningIndex, FormatRules]:
    simulated = simulate_world(SimulationConfig(n_lines=6_000, seed=5))
    index = ScreeningIndex.build([LoadedList(ListVersion("simulated", 1), simulated.sanctions)])
    rules = FormatRules(max_date=simulated.data.inspections["inspected_on"].max().date())
    return simulated.data, index, rules


@pytest.fixture(params=["sqlite", pytest.param("postgres", marks=pytest.mark.postgres)])
def two_urls(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[tuple[str, str]]:
    """Two empty stores of one kind: one loaded in bulk, one line by line."""
    if request.param == "sqlite":
        yield f"sqlite:///{tmp_path / 'bulk.db'}", f"sqlite:///{tmp_path / 'lines.db'}"
        return
    first, second = fresh_postgres_database(), fresh_postgres_database()
    try:
        yield next(first), next(second)
    finally:
        first.close()
        second.close()


def tables_of(url: str) -> dict[str, list[tuple]]:
    """Every row of the tables a load writes, sorted, without the columns that always differ."""
    store = ServiceStore.open(url)
    try:
        with store.backend.connect() as conn:
            out = {}
            for t in store.tables.meta.sorted_tables:
                if t.name.startswith(COMPARED):
                    cols = [c for c in t.columns if c.name not in IGNORED]
                    out[t.name] = sorted(map(tuple, conn.execute(sa.select(*cols)).all()), key=repr)
            return out
    finally:
        store.dispose()


def assert_same_tables(a: dict[str, list[tuple]], b: dict[str, list[tuple]]) -> None:
    """Equal rows, floats within 1e-9 relative (sums added in another order)."""
    assert a.keys() == b.keys()
    for name in a:
        assert len(a[name]) == len(b[name]), name
        for x, y in zip(a[name], b[name], strict=True):
            for u, v in zip(x, y, strict=True):
                if isinstance(u, float) and isinstance(v, float):
                    assert u == pytest.approx(v, rel=1e-9, abs=1e-9), (name, x, y)
                else:
                    assert u == v, (name, x, y)


def load(url: str, data: CanonicalData, rules: FormatRules, index: ScreeningIndex, **how) -> int:
    store = ServiceStore.open(url)
    try:
        store.migrate()
        return backfill(store, data, rules, screening=index, **how).lines_new
    finally:
        store.dispose()


def test_a_bulk_load_leaves_the_store_a_line_by_line_load_leaves(world, two_urls) -> None:
    data, index, rules = world
    bulk_url, lines_url = two_urls
    cut = data.lines["date"].quantile(0.85)
    history = replace(data, lines=data.lines[data.lines["date"] < cut])
    n = len(history.lines)
    assert load(bulk_url, history, rules, index, partition_lines=700) == n  # several partitions
    assert load(lines_url, history, rules, index, method="lines", chunk=1_000) == n
    bulk, lines = tables_of(bulk_url), tables_of(lines_url)
    assert_same_tables(bulk, lines)
    assert len(bulk["feat_agg_trader_reship"]) > 0 and len(bulk["feat_distinct"]) > 0
    # the features of the lines after the history, read from each store
    artifacts = FeatureArtifacts().fit(history.lines, history.inspections, history.extra_columns)
    later = checked(rules, data.lines[data.lines["date"] >= cut].to_dict("records"), data.extra_columns)
    frames = []
    for url in (bulk_url, lines_url):
        store = ServiceStore.open(url)
        frames.append(read_frame(store, store.features(artifacts, screening=lambda: index), later))
        store.dispose()
    assert len(frames[0]) == len(later) > 500
    assert_same_features(frames[0], frames[1])
    assert frames[0]["trader_counterparties"].gt(0).any() and frames[0]["chain_lag_days"].notna().any()
    # and the trail vouches for what the bulk load wrote
    store = ServiceStore.open(bulk_url)
    try:
        report = verify_store(store.audit, {}, tables=True)
    finally:
        store.dispose()
    assert report.ok, report.problems[:3]
    assert report.rows_checked["outcome_records"] == len(history.inspections)


def test_a_bulk_load_into_a_store_holding_lines_matches_the_same_order_line_by_line(world, two_urls) -> None:
    """Lines already there (later ones, as a serving store holds, and a scattered tenth) and outcomes
    that arrived before their lines: the bulk load skips the known lines, counts the early outcomes, and
    fixes every running total and first sighting of the stored rows as the per-line writer does."""
    data, index, rules = world
    lines = data.lines
    before = [
        replace(
            data,
            lines=lines[lines["date"] >= lines["date"].quantile(0.7)],
            inspections=data.inspections.sample(frac=0.3, random_state=2),
        ),
        replace(data, lines=lines.sample(frac=0.1, random_state=1), inspections=data.inspections.iloc[:0]),
    ]
    bulk_url, lines_url = two_urls
    for url in two_urls:
        for part in before:
            load(url, part, rules, index, method="lines")
    added = load(bulk_url, data, rules, index, partition_lines=900)
    assert load(lines_url, data, rules, index, method="lines") == added > 0
    assert_same_tables(tables_of(bulk_url), tables_of(lines_url))


def test_a_second_load_adds_nothing(world, tmp_path) -> None:
    data, index, rules = world
    url = f"sqlite:///{tmp_path / 'store.db'}"
    small = replace(data, lines=data.lines.iloc[:1_500])
    assert load(url, small, rules, index, partition_lines=400) == 1_500
    store = ServiceStore.open(url)
    try:
        first = snapshot(store)
        again = backfill(store, small, rules, screening=index, partition_lines=400)
        assert (again.lines_new, again.outcomes_new) == (0, 0)
        assert snapshot(store) == first
    finally:
        store.dispose()


def test_a_changed_outcome_stops_the_load_before_anything_is_written(world, tmp_path) -> None:
    data, index, rules = world
    url = f"sqlite:///{tmp_path / 'store.db'}"
    first = data.inspections.iloc[:1]
    load(url, replace(data, lines=data.lines.iloc[:0], inspections=first), rules, index)
    changed = data.inspections.copy()
    changed.loc[changed.index[0], "outcome"] = "clean" if first["outcome"].iloc[0] != "clean" else "violation"
    store = ServiceStore.open(url)
    try:
        before = snapshot(store)
        with pytest.raises(ConflictError, match="differ from the one already stored"):
            backfill(store, replace(data, inspections=changed), rules, screening=index)
        assert snapshot(store) == before
    finally:
        store.dispose()


def test_partitions_hold_whole_days_in_order() -> None:
    days = np.repeat(np.arange(10), [5, 1, 30, 2, 2, 2, 9, 1, 1, 4])
    bounds = partition_bounds(days, 6)
    assert bounds[0][0] == 0 and bounds[-1][1] == len(days)
    assert all(a[1] == b[0] for a, b in itertools.pairwise(bounds))
    for start, end in bounds:
        assert end > start
        assert start == 0 or days[start - 1] != days[start]  # no day is cut in two
    assert max(e - s for s, e in bounds) == 30  # a day longer than a partition is one partition


def _history_loads(url: str) -> int:
    engine = sa.create_engine(url)
    try:
        with engine.connect() as conn:
            if not sa.inspect(conn).has_table("audit_records"):
                return 0
            query = "SELECT count(*) FROM audit_records WHERE kind = 'history_load'"
            return int(conn.exec_driver_sql(query).scalar_one())
    finally:
        engine.dispose()


@pytest.mark.slow
@pytest.mark.parametrize("kind", [pytest.param("postgres", marks=pytest.mark.postgres)])
def test_a_load_killed_at_any_point_resumes_to_the_uninterrupted_store(world, kind, tmp_path) -> None:
    """`roundabout backfill` SIGKILLed twice at random moments mid-load, then run again: the store ends with
    each line once and equals an uninterrupted load (PostgreSQL here; a partition failing on SQLite below,
    and five kills on each store in `bench/bench_backfill.py`)."""
    data, _index, _rules = world
    folder = tmp_path / "history"
    write_folder(data, folder)
    databases = [fresh_postgres_database(), fresh_postgres_database()] if kind == "postgres" else []
    try:
        if kind == "postgres":
            killed_url, whole_url = (next(d) for d in databases)
        else:
            killed_url, whole_url = (f"sqlite:///{tmp_path / n}" for n in ("killed.db", "whole.db"))
        rng = np.random.default_rng(3)

        def run(url: str) -> subprocess.Popen:
            env = {**os.environ, "ROUNDABOUT_HOME": str(tmp_path / "home"), "ROUNDABOUT_STORE_URL": url}
            command = [sys.executable, "-m", "roundabout.cli", "backfill", "--data", str(folder)]
            return subprocess.Popen(
                [*command, "--partition-lines", "400"],
                env=env,
                stdout=subprocess.PIPE,
                stderr=subprocess.STDOUT,
            )

        started = time.monotonic()
        whole = run(whole_url)
        assert whole.wait(timeout=600) == 0, whole.stdout.read().decode() if whole.stdout else ""
        partitions = _history_loads(whole_url)
        per_partition = (time.monotonic() - started) / partitions
        kills = []
        for _ in range(2):
            # after a random number of partitions more have committed, at a random moment of the next one
            target = int(rng.integers(_history_loads(killed_url) + 1, partitions - 3))
            process = run(killed_url)
            while _history_loads(killed_url) < target and process.poll() is None:
                time.sleep(0.02)
            time.sleep(float(rng.uniform(0.0, 0.8)) * per_partition)
            assert process.poll() is None, "the load ended before it could be killed"
            os.kill(process.pid, signal.SIGKILL)
            process.wait()
            kills.append(_history_loads(killed_url))
        assert 0 < kills[0] < kills[1] < partitions  # partitions had committed, and some were left to do
        final = run(killed_url)
        assert final.wait(timeout=600) == 0
        resumed = tables_of(killed_url)
        assert len(resumed["feat_lines"]) == len(data.lines)
        assert len({row[0] for row in resumed["feat_lines"]}) == len(data.lines)
        assert_same_tables(resumed, tables_of(whole_url))
    finally:
        for d in databases:
            d.close()


def test_a_partition_that_fails_leaves_nothing_of_itself(world, tmp_path, monkeypatch) -> None:
    """A partition failing half-way (here: at its outcomes) rolls back whole; the partitions before it stay,
    and running the load again completes it."""
    from roundabout.store.bulk import load as bulk_load

    data, index, rules = world
    url = f"sqlite:///{tmp_path / 'store.db'}"
    small = replace(data, lines=data.lines.iloc[:2_000])
    original = bulk_load.BulkLoader._fold_outcomes
    calls = {"n": 0}

    def failing(self, conn, part, outcomes):
        calls["n"] += 1
        if calls["n"] == 3:
            raise RuntimeError("killed")
        return original(self, conn, part, outcomes)

    monkeypatch.setattr(bulk_load.BulkLoader, "_fold_outcomes", failing)
    with pytest.raises(RuntimeError, match="killed"):
        load(url, small, rules, index, partition_lines=400)
    partial = {row[0] for row in tables_of(url)["feat_lines"]}
    dates = small.lines.set_index("line_id")["date"]
    assert 0 < len(partial) < 2_000
    # whole days, in date order: every line kept is dated before every line left out
    assert dates[list(partial)].max() < dates.drop(list(partial)).min()
    monkeypatch.setattr(bulk_load.BulkLoader, "_fold_outcomes", original)
    load(url, small, rules, index, partition_lines=400)
    whole = f"sqlite:///{tmp_path / 'whole.db'}"
    load(whole, small, rules, index, partition_lines=400)
    assert_same_tables(tables_of(url), tables_of(whole))


def test_a_history_loaded_in_date_slices_equals_one_load(world, tmp_path, monkeypatch) -> None:
    """`--since` / `--until` read only a slice of the folder's lines (and their outcomes), so a history
    larger than memory loads slice by slice, in date order, into the store one load would make."""
    from roundabout.settings import get_settings

    data, _index, _rules = world
    folder = tmp_path / "history"
    write_folder(data, folder)
    runner = CliRunner()

    def backfill_cli(url: str, *options: str) -> str:
        monkeypatch.setenv("ROUNDABOUT_STORE_URL", url)
        get_settings.cache_clear()
        done = runner.invoke(app, ["backfill", "--data", str(folder), "--partition-lines", "1000", *options])
        assert done.exit_code == 0, done.output
        return done.output

    middle = data.lines["date"].sort_values().iloc[len(data.lines) // 2].date()
    sliced, whole = (f"sqlite:///{tmp_path / n}" for n in ("sliced.db", "whole.db"))
    first = backfill_cli(sliced, "--until", middle.isoformat())
    backfill_cli(sliced, "--since", (middle + timedelta(days=1)).isoformat())
    backfill_cli(whole)
    assert f"{(data.lines['date'].dt.date <= middle).sum():,}" in first
    assert_same_tables(tables_of(sliced), tables_of(whole))
    bad = runner.invoke(app, ["backfill", "--data", str(folder), "--since", "2024-13-01"])
    assert bad.exit_code == 2 and "--since" in bad.output and "2024-13-01" in bad.output
