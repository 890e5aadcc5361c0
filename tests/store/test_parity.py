"""One definition: a simulated history replayed through the online store gives, for every line, exactly
the batch features (floats within 1e-9 relative), on SQLite and on PostgreSQL: line by line, and in the
groups the service scores single-line calls in (each line seeing the ones before it in its group). The
parties are screened against the world's own sanctions list on both paths."""

import pytest

from roundabout.data.validation import FormatRules
from roundabout.features import FeatureArtifacts, build_features
from roundabout.parties.index import ListVersion, LoadedList, ScreeningIndex
from roundabout.simulation.config import SimulationConfig
from roundabout.simulation.world import simulate_world
from roundabout.store import ServiceStore
from tests.support.replay import assert_same_features, replay

N_LINES = 12_000


@pytest.fixture(scope="module")
def world():
    simulated = simulate_world(SimulationConfig(n_lines=N_LINES, seed=7))
    data = simulated.data
    index = ScreeningIndex.build([LoadedList(ListVersion("simulated", 1), simulated.sanctions)])
    artifacts = FeatureArtifacts().fit(data.lines, data.inspections, data.extra_columns)
    return data, artifacts, build_features(data, artifacts, screening=index), index


def _check(url: str, world, group_lines: int = 1) -> None:
    data, artifacts, batch, index = world
    # the simulated world's dates are in the past; accept them all
    rules = FormatRules(max_date=data.lines["date"].max().date())
    store = ServiceStore.open(url)
    try:
        store.migrate()
        online = replay(store, store.features(artifacts, screening=lambda: index), data, rules, group_lines)
        assert store.exporter.line_count() == len(data.lines)
    finally:
        store.dispose()
    assert len(online) == N_LINES
    assert_same_features(online, batch)
    # the history exercises every family: chains, outcomes and distinct parties are not all empty
    for name in (
        "chain_lag_days",
        "declarant_inspections",
        "trader_quick_reships",
        "counterparty_traders",
        "counterparty_new_traders_90d",
        "counterparty_inspections",
        "counterparty_list_score",
    ):
        assert batch[name].fillna(0).gt(0).any(), name
    assert set(batch["listed_party_distance"].unique()) == {0.0, 1.0, 2.0, 3.0}


@pytest.mark.slow
def test_parity_sqlite(world, tmp_path) -> None:
    _check(f"sqlite:///{tmp_path / 'store.db'}", world)


@pytest.mark.slow
def test_parity_sqlite_in_groups(world, tmp_path) -> None:
    _check(f"sqlite:///{tmp_path / 'store.db'}", world, group_lines=7)


@pytest.mark.slow
@pytest.mark.postgres
def test_parity_postgres_in_groups(world, postgres_url) -> None:
    _check(postgres_url, world, group_lines=7)
