"""The split of a history on Dask (`train --engine dask`): cut where the in-process split cuts, every
labelled training and validation line kept, a uniform draw for the rest, features as of the whole
history."""

from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from distributed import Client, LocalCluster

from roundabout.data.io import CanonicalData, write_folder
from roundabout.errors import ConfigError
from roundabout.features import FeatureArtifacts, build_features
from roundabout.simulation.config import SimulationConfig
from roundabout.simulation.world import simulate_world
from roundabout.training.config import SplitConfig
from roundabout.training.dask_split import dask_split, drawn_mask
from roundabout.training.split import cut_dates, labels, split_data


@pytest.fixture(scope="module")
def world() -> CanonicalData:
    return simulate_world(SimulationConfig(n_lines=8_000, seed=5)).data


@pytest.fixture(scope="module")
def folder(world: CanonicalData, tmp_path_factory: pytest.TempPathFactory) -> Path:
    out = tmp_path_factory.mktemp("dask_split") / "world"
    write_folder(world, out, partitioned=True)
    return out


@pytest.fixture(scope="module")
def client() -> Client:
    with (
        LocalCluster(n_workers=2, threads_per_worker=1, memory_limit="2GB", dashboard_address=":0") as c,
        Client(c) as client,
    ):
        yield client


def test_cut_dates_from_day_counts_are_the_sorted_dates_cuts() -> None:
    rng = np.random.default_rng(0)
    config = SplitConfig()
    for n in (1, 2, 7, 1000):
        dates = np.datetime64("2023-01-01") + rng.integers(0, 40, n).astype("timedelta64[D]")
        ordered = np.sort(dates)
        expected = (
            ordered[min(n - 1, int(n * (1 - config.valid_fraction - config.holdout_fraction)))],
            ordered[min(n - 1, int(n * (1 - config.holdout_fraction)))],
        )
        assert cut_dates(pd.Series(dates).value_counts(), config) == expected


def test_a_draw_is_uniform_and_the_same_for_the_same_ids() -> None:
    ids = np.array([f"L{i}" for i in range(100_000)], dtype=object)
    drawn = drawn_mask(ids, 0.1)
    assert abs(drawn.mean() - 0.1) < 0.005
    assert np.array_equal(drawn, drawn_mask(ids[::-1], 0.1)[::-1])
    assert drawn_mask(ids, 1.0).all()


def test_the_split_keeps_the_labelled_lines_and_draws_the_rest(
    world: CanonicalData, folder: Path, client: Client
) -> None:
    split = dask_split(folder, SplitConfig(), lambda c: client.compute(c, sync=True), None, 2_000)
    whole = split_data(world, SplitConfig())
    lines = split.data.lines
    assert split.drawn is not None and abs(int(split.drawn.sum()) - 2_000) < 200
    assert split.holdout.sum() == (split.holdout & split.drawn).sum()  # the holdout is a uniform draw
    # every labelled line of the training and validation periods is there
    label = labels(world)
    wanted = world.lines["line_id"][(whole.train | whole.valid) & ~np.isnan(label)]
    assert set(wanted) <= set(lines["line_id"])
    assert (split.train & ~split.drawn).sum() > 0  # labelled lines kept beyond the draw
    # the parts are cut where the in-process split cuts
    dates = world.lines.set_index("line_id")["date"]
    assert dates[lines["line_id"][split.holdout]].min() >= dates[world.lines["line_id"][whole.holdout]].min()
    # features as of the whole history, not of the lines kept
    artifacts = FeatureArtifacts().fit(world.lines, world.inspections, world.extra_columns)
    got = split.features(artifacts)
    expected = build_features(world, artifacts).loc[lines["line_id"].to_numpy(dtype=object)]
    assert list(got.index) == list(expected.index)
    assert np.isclose(got.to_numpy(), expected.to_numpy(), rtol=1e-9, atol=1e-9, equal_nan=True).all()


def test_a_folders_split_is_refused_on_dask(folder: Path) -> None:
    config = SplitConfig(kind="folders", valid_data=folder, holdout_data=folder)
    with pytest.raises(ConfigError, match=r"split\.kind .folders. is not available on Dask"):
        dask_split(folder, config, lambda c: c.compute(), None, 1_000)
