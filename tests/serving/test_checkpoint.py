"""SQLite's write-ahead log stays bounded while lines are written without a pause."""

import threading
from pathlib import Path

from roundabout.features import FeatureArtifacts
from roundabout.serving.background import checkpoint
from roundabout.serving.turns import Turns
from roundabout.store import ServiceStore
from tests.support.histories import RULES, random_history
from tests.support.replay import add_lines, checked


def _wal_peak(tmp_path: Path, fold) -> int:
    """Largest log size seen while one thread adds lines one by one, in write turns, and another folds
    the log back every 20 ms with `fold`."""
    tmp_path.mkdir()
    data = random_history(1200, seed=3)
    store = ServiceStore.open(f"sqlite:///{tmp_path / 'store.db'}", autocheckpoint=False)
    store.migrate()
    features = store.features(FeatureArtifacts().fit(data.lines, data.inspections))
    writes = Turns()
    wal = tmp_path / "store.db-wal"
    done, peak = threading.Event(), [0]

    def checkpointer() -> None:
        while not done.wait(0.02):
            fold(store, writes)
            peak[0] = max(peak[0], wal.stat().st_size if wal.exists() else 0)

    thread = threading.Thread(target=checkpointer)
    thread.start()
    try:
        for record in checked(RULES, data.lines.sort_values("date").to_dict("records")):
            with writes:
                add_lines(store, features, [record])
    finally:
        done.set()
        thread.join()
        store.dispose()
    return peak[0]


def test_checkpoints_in_a_write_turn_keep_the_log_from_growing(tmp_path: Path) -> None:
    overlapping = _wal_peak(tmp_path / "a", lambda store, writes: store.checkpoint())
    in_turn = _wal_peak(tmp_path / "b", checkpoint)
    # Passive checkpoints that overlap writes never complete, so the log is never started over: it grows
    # with every write. In turn it starts over; its peak is what was written while the checkpointing
    # thread waited for its turn, which a busy 2-core machine can stretch (18.8 MB against 74.3 MB seen:
    # the ratio 4 once asked for failed on such a run).
    assert in_turn * 2 < overlapping, (in_turn, overlapping)
