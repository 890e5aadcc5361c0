"""SQLite's write-ahead log stays bounded while lines are written without a pause."""

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
