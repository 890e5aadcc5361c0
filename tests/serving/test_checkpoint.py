"""SQLite's write-ahead log stays bounded while lines are written without a pause."""

import sqlite3
import threading
from pathlib import Path

from roundabout.data.validation import FormatRules
from roundabout.features import FeatureArtifacts
from roundabout.features.store import FeatureStore
from roundabout.serving.scoring import checkpoint
from roundabout.serving.turns import STORE_WRITES
from tests.features.conftest import random_history


def _wal_peak(tmp_path: Path, fold) -> int:
    """Largest log size seen while one thread adds lines one by one, in write turns, and another folds
    the log back every 20 ms with `fold`."""
    tmp_path.mkdir()
    data = random_history(1200, seed=3)
    store = FeatureStore(
        f"sqlite:///{tmp_path / 'store.db'}",
        FeatureArtifacts().fit(data.lines, data.inspections),
        rules=FormatRules(trader_id_pattern=r"\d{12}|FOREIGN-\d+"),  # the random histories' id formats
        autocheckpoint=False,
        cache_size=0,
    )
    store.create_schema()
    wal = tmp_path / "store.db-wal"
    done, peak = threading.Event(), [0]

    def checkpointer() -> None:
        while not done.wait(0.02):
            fold(store)
            peak[0] = max(peak[0], wal.stat().st_size if wal.exists() else 0)

    thread = threading.Thread(target=checkpointer)
    thread.start()
    try:
        for record in data.lines.sort_values("date").to_dict("records"):
            with STORE_WRITES:
                store.add_lines([record])
    finally:
        done.set()
        thread.join()
        store.dispose()
    return peak[0]


def test_checkpoints_in_a_write_turn_keep_the_log_from_growing(tmp_path: Path) -> None:
    overlapping = _wal_peak(tmp_path / "a", lambda store: store.checkpoint())
    in_turn = _wal_peak(tmp_path / "b", checkpoint)
    # Passive checkpoints that overlap writes never complete, so the log is never started over.
    assert in_turn * 4 < overlapping, (in_turn, overlapping)


def test_the_exclusive_step_waits_for_another_workers_write_and_copies_it(tmp_path: Path) -> None:
    data = random_history(300, seed=3)
    path = tmp_path / "store.db"
    store = FeatureStore(
        f"sqlite:///{path}",
        FeatureArtifacts().fit(data.lines, data.inspections),
        rules=FormatRules(trader_id_pattern=r"\d{12}|FOREIGN-\d+"),
        autocheckpoint=False,
    )
    store.create_schema()
    records = data.lines.sort_values("date").to_dict("records")
    store.add_lines(records[:200])
    other = sqlite3.connect(path, isolation_level=None)  # another worker, in the middle of its write
    other.execute("BEGIN IMMEDIATE")
    other.execute("UPDATE feat_lines SET description = 'changed' WHERE line_id = ?", (records[0]["line_id"],))
    try:
        assert store.checkpoint() > 0  # a passive one does not wait
        finished, frames = threading.Event(), []
        thread = threading.Thread(
            target=lambda: (frames.append(store.checkpoint(exclusive=True)), finished.set())
        )
        thread.start()
        assert not finished.wait(0.5), "the exclusive checkpoint ran while another connection was writing"
        other.execute("COMMIT")
        assert finished.wait(10)
        thread.join()
        # It copied the whole log, the other worker's write included, so the next write starts it over.
        store.add_lines(records[200:201])
        assert store.checkpoint() < frames[0]
    finally:
        other.close()
        store.dispose()
