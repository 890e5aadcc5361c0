"""The Dask executor of the feature specs gives every feature of every line as the pandas executor does
(within 1e-9), on a two-worker `LocalCluster` over a month-partitioned folder, and finishes complete when a
worker dies mid-run; its shuffles carry only the columns a family's queries read."""

import os
import signal
import threading
import time

import numpy as np
import pandas as pd
import pytest
from distributed import Client, LocalCluster

from roundabout.data.dask_io import LineParts, line_parts
from roundabout.data.io import write_folder
from roundabout.features import FeatureArtifacts, build_features
from roundabout.features.dask_executor import columns_of_no_lines, dask_features, families, family_reads
from roundabout.parties.index import ListVersion, LoadedList, ScreeningIndex
from roundabout.simulation.config import SimulationConfig
from roundabout.simulation.world import simulate_world


@pytest.fixture(scope="module")
def world() -> object:
    return simulate_world(SimulationConfig(n_lines=8_000, seed=11))


@pytest.fixture(scope="module")
def parts(world: object, tmp_path_factory: pytest.TempPathFactory) -> LineParts:
    folder = tmp_path_factory.mktemp("dask") / "world"
    write_folder(world.data, folder, partitioned=True)
    return line_parts(folder)


@pytest.fixture(scope="module")
def client() -> Client:
    with (
        LocalCluster(
            n_workers=2, threads_per_worker=1, memory_limit="2GB", dashboard_address=":0"
        ) as cluster,
        Client(cluster) as client,
    ):
        yield client


def _assert_same(reference: pd.DataFrame, got: pd.DataFrame) -> None:
    assert sorted(got.index) == sorted(reference.index) and got.index.is_unique
    got = got.loc[reference.index, list(reference.columns)]
    close = np.isclose(reference.to_numpy(), got.to_numpy(), rtol=1e-9, atol=1e-9, equal_nan=True)
    wrong = [name for name, ok in zip(reference.columns, close.all(axis=0), strict=True) if not ok]
    assert not wrong, f"features differ: {wrong}"


def test_every_feature_of_every_line_as_the_pandas_executor(
    world: object, parts: LineParts, client: Client
) -> None:
    data = world.data
    index = ScreeningIndex.build([LoadedList(ListVersion("simulated", 1), world.sanctions)])
    artifacts = FeatureArtifacts().fit(data.lines, data.inspections, data.extra_columns)
    reference = build_features(data, artifacts, screening=index)
    assert parts.npartitions > 10  # a month a partition: families spread over many of them
    got = dask_features(parts, data.inspections, artifacts, index).compute()
    _assert_same(reference, got)
    # the network features read across families: they are not all zero here, so the test can fail
    assert (reference["trader_flagged_counterparties"] > 0).sum() > 50
    assert reference["listed_party_distance"].lt(3).sum() > 50


def test_every_query_family_is_shuffled_by_the_first_column_of_its_keys() -> None:
    grouped = families()
    assert set(grouped) == {"trader_id", "declarant_id", "counterparty_key"}
    assert "last_import_day" in grouped["trader_id"]  # trader+HS6 lives with its trader


def test_a_family_shuffles_only_the_columns_its_queries_read() -> None:
    cols = columns_of_no_lines({})
    trader = family_reads(cols, "trader_id")
    assert {"trader_id", "hs6", "day", "value_usd", "counterparty_key", "cp_listed"} <= set(trader)
    assert "goods_description" not in trader and "trader_name" not in trader
    declarant = family_reads(cols, "declarant_id")
    assert set(declarant) == {"declarant_id", "day", "chpl"}
    # the counterparty pass reads what its flags for the traders' pass need too
    assert {"counterparty_key", "trader_id", "trader_listed"} <= set(family_reads(cols, "counterparty_key"))


@pytest.mark.slow
def test_a_worker_killed_mid_run_is_replaced_and_the_output_is_complete(
    world: object, parts: LineParts
) -> None:
    data = world.data
    artifacts = FeatureArtifacts().fit(data.lines, data.inspections, data.extra_columns)
    reference = build_features(data, artifacts)
    with (
        LocalCluster(
            n_workers=2, threads_per_worker=1, memory_limit="2GB", dashboard_address=":0"
        ) as cluster,
        Client(cluster) as client,
    ):
        pids = list(client.run(os.getpid).values())
        killed = threading.Event()

        def kill_one() -> None:
            time.sleep(1.5)
            os.kill(pids[0], signal.SIGKILL)
            killed.set()

        threading.Thread(target=kill_one, daemon=True).start()
        got = dask_features(parts, data.inspections, artifacts).compute()
        assert killed.is_set()
        assert pids[0] not in client.run(os.getpid).values()  # the nanny started another worker
    _assert_same(reference, got)
