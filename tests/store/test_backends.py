"""What each database backend does its own way: SQLite's checkpoints."""

import sqlite3
import threading
from pathlib import Path

from roundabout.features import FeatureArtifacts
from roundabout.store import ServiceStore
from tests.support.histories import RULES, random_history
from tests.support.replay import add_lines, checked


def test_the_exclusive_step_waits_for_another_workers_write_and_copies_it(tmp_path: Path) -> None:
    data = random_history(300, seed=3)
    path = tmp_path / "store.db"
    store = ServiceStore.open(f"sqlite:///{path}", autocheckpoint=False)
    store.migrate()
    features = store.features(FeatureArtifacts().fit(data.lines, data.inspections))
    records = checked(RULES, data.lines.sort_values("date").to_dict("records"))
    add_lines(store, features, records[:200])
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
        add_lines(store, features, records[200:201])
        assert store.checkpoint() < frames[0]
    finally:
        other.close()
        store.dispose()
