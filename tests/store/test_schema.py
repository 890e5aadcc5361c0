"""The store's schema comes from its migrations, upgrades stores in place, and stays equal to the code's."""

import threading

import pandas as pd
import pytest
import sqlalchemy as sa
from alembic import command
from alembic.autogenerate import compare_metadata
from alembic.runtime.migration import MigrationContext

from roundabout.features import FeatureArtifacts
from roundabout.store import ServiceStore
from roundabout.store.backfill import backfill
from roundabout.store.schema import alembic_config, current_revision, head_revision
from tests.support.histories import RULES, random_history
from tests.support.replay import checked, read_frame


def _differences(store: ServiceStore) -> list:
    with store.backend.connect() as conn:
        context = MigrationContext.configure(conn, opts={"compare_type": True})
        return compare_metadata(context, store.tables.meta)


def test_the_migrations_build_exactly_the_tables_of_the_code(store_url) -> None:
    """A new table or column in the code without a migration (or the reverse) fails here."""
    store = ServiceStore.open(store_url)
    try:
        store.migrate()
        assert current_revision(store.backend) == head_revision()
        assert _differences(store) == []
    finally:
        store.dispose()


def test_every_migration_goes_down_and_up_again(store_url) -> None:
    store = ServiceStore.open(store_url)
    try:
        store.migrate()
        with store.backend.transaction() as conn:
            command.downgrade(alembic_config(conn), "base")
        with store.backend.connect() as conn:
            assert set(sa.inspect(conn).get_table_names()) <= {"alembic_version"}
        store.migrate()
        assert _differences(store) == []
    finally:
        store.dispose()


LATER_TABLES = (
    "sanction_entries",
    "sanction_lists",
    "feat_agg_trader_listed_cp",
    "feat_agg_cp_listed_trader",
    "feat_agg_counterparty_outcomes",
)


def _loaded_store(url: str):
    data = random_history(700, seed=12)
    store = ServiceStore.open(url)
    store.migrate()
    backfill(store, data, RULES)
    return store, data


def test_a_store_made_before_versioning_is_stamped_and_upgraded_in_place(tmp_path) -> None:
    """A store the old code made (no version table; no running distinct counts) keeps its data and gets
    the distinct counts filled from its pairs."""
    store, data = _loaded_store(f"sqlite:///{tmp_path / 'store.db'}")
    features = store.features(FeatureArtifacts().fit(data.lines, data.inspections))
    final = checked(RULES, data.lines[data.lines["date"] == data.lines["date"].max()].to_dict("records"))
    expected = read_frame(store, features, final)
    assert (expected["counterparty_traders"] > 0).any()
    with store.backend.transaction() as conn:
        conn.execute(sa.text("DROP TABLE feat_distinct"))
        conn.execute(sa.text("DROP TABLE alembic_version"))
        for later in LATER_TABLES:  # tables of revisions after versioning began
            conn.execute(sa.text(f"DROP TABLE {later}"))
    assert current_revision(store.backend) is None
    store.migrate()
    assert current_revision(store.backend) == head_revision()
    pd.testing.assert_frame_equal(read_frame(store, features, final), expected)
    assert store.exporter.line_count() == len(data.lines)
    store.dispose()


def test_an_old_decisions_table_is_kept(tmp_path) -> None:
    store, _ = _loaded_store(f"sqlite:///{tmp_path / 'store.db'}")
    with store.backend.transaction() as conn:
        conn.execute(sa.text("DROP TABLE alembic_version"))
        for later in LATER_TABLES:
            conn.execute(sa.text(f"DROP TABLE {later}"))
        conn.execute(
            sa.text(
                "INSERT INTO decisions (request_id, key_id, line_id, model_name, model_version, risk_score, "
                "anomaly_score, channel, reasons, decided_at) VALUES ('r', 'k', 'L1', 'm', '1', 0.5, 0.5, "
                "'green', '[]', '2024-01-01 00:00:00')"
            )
        )
    store.migrate()
    assert store.decisions.count() == 1
    store.dispose()


def test_workers_starting_together_migrate_one_after_the_other(store_url, tmp_path) -> None:
    """Several API workers start at once on a new database: each migrates or finds it done, none fails."""
    url = f"sqlite:///{tmp_path / 'store.db'}" if store_url == "sqlite://" else store_url
    stores = [ServiceStore.open(url, timeout=30) for _ in range(4)]
    errors: list[BaseException] = []

    def start(store: ServiceStore) -> None:
        try:
            store.migrate()
        except BaseException as exc:  # collected for the assertion
            errors.append(exc)

    threads = [threading.Thread(target=start, args=(s,)) for s in stores]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    try:
        assert errors == []
        assert current_revision(stores[0].backend) == head_revision()
    finally:
        for s in stores:
            s.dispose()


@pytest.mark.parametrize("url", ["mysql://u@h/db", "oracle://x"])
def test_an_unsupported_database_is_named(url) -> None:
    from roundabout.errors import ConfigError

    with pytest.raises(ConfigError, match="SQLite or PostgreSQL"):
        ServiceStore.open(url)
