"""Stores for the store tests: empty databases of each kind, opened on fitted artifacts."""

from collections.abc import Iterator
from typing import Any

import pytest
import sqlalchemy as sa

from roundabout.data.io import CanonicalData
from roundabout.features import FeatureArtifacts
from roundabout.store import OnlineFeatures, ServiceStore


@pytest.fixture(params=["sqlite", pytest.param("postgres", marks=pytest.mark.postgres)])
def store_url(request: pytest.FixtureRequest) -> str:
    """An empty database of each kind the store runs on (PostgreSQL: one-line writes are pipelined)."""
    return "sqlite://" if request.param == "sqlite" else request.getfixturevalue("postgres_url")


@pytest.fixture
def opened() -> Iterator[Any]:
    """`opened(url, data)`: a migrated store and the features of artifacts fitted on `data`; disposed after
    the test."""
    stores: list[ServiceStore] = []

    def open_on(url: str, data: CanonicalData) -> tuple[ServiceStore, OnlineFeatures]:
        store = ServiceStore.open(url)
        stores.append(store)
        store.migrate()
        artifacts = FeatureArtifacts().fit(data.lines, data.inspections, data.extra_columns)
        return store, store.features(artifacts)

    yield open_on
    for store in stores:
        store.dispose()


#: The audit trail records every load, even one that changed nothing.
AUDIT_TABLES = frozenset({"audit_records", "audit_head", "audit_checkpoints"})


def snapshot(store: ServiceStore) -> dict[str, list]:
    """Every row of every store table but the audit trail's, to prove a write changed nothing."""
    with store.backend.connect() as conn:
        return {
            t.name: sorted(map(tuple, conn.execute(sa.select(t)).all()), key=repr)
            for t in store.tables.meta.sorted_tables
            if t.name not in AUDIT_TABLES
        }
