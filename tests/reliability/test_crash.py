"""SIGKILL the server while a client scores lines and posts outcomes: every acknowledged line, decision and
outcome is in the store exactly once afterwards, and the audit trail still verifies, every decision and
outcome matching its record (short run; the full one is `bench/crash.py`)."""

from pathlib import Path

import pytest

from roundabout.store import ServiceStore
from roundabout.store.audit_check import verify_store
from tests.support.faults import crash_run
from tests.support.server import Registry

pytestmark = pytest.mark.slow


@pytest.mark.parametrize("kind", ["sqlite", "postgres"])
def test_acknowledged_writes_survive_sigkill(
    kind: str, registry: Registry, tmp_path: Path, request: pytest.FixtureRequest
) -> None:
    url = (
        f"sqlite:///{tmp_path / 'store.db'}" if kind == "sqlite" else request.getfixturevalue("postgres_url")
    )
    report = crash_run(registry, url, tmp_path, outcomes=120, kills=2, clients=3)
    assert report.kills == 2
    assert report.lines_acked == report.outcomes_acked == 120
    assert report.held, report
    store = ServiceStore.open(url)
    try:
        trail = verify_store(store.audit, {})
    finally:
        store.dispose()
    assert trail.ok, trail.problems
    assert trail.rows_checked["decisions"] >= 120 and trail.rows_checked["outcome_records"] >= 120
