"""A model scores a history on Dask as it does in one process: every line once, the same scores, channel
and exploration draw (the model loaded from its saved folder on the workers' side of the pickle)."""

import numpy as np
import pandas as pd
from distributed import Client, LocalCluster

from roundabout.data.dask_io import line_parts
from roundabout.data.io import CanonicalData, write_folder
from roundabout.models.dask_scoring import dask_scores
from roundabout.models.risk_model import RiskModel
from roundabout.training.fit import Fitted


def test_scores_on_dask_are_the_in_process_ones(world: CanonicalData, fitted: Fitted, tmp_path) -> None:
    model = RiskModel.load(fitted.model.save(tmp_path / "model"))
    key = b"exploration key"
    expected = model.score_data(world, key=key).set_index("line_id").sort_index()
    write_folder(world, tmp_path / "world", partitioned=True)
    cluster = LocalCluster(n_workers=2, threads_per_worker=1, memory_limit="2GB", dashboard_address=":0")
    with cluster, Client(cluster):
        got = dask_scores(line_parts(tmp_path / "world"), world.inspections, model, key=key)
        got = got.compute().set_index("line_id").sort_index()
    assert got.index.equals(expected.index) and got.index.is_unique
    assert list(got.columns) == list(expected.columns)
    for column in expected.columns:
        if pd.api.types.is_float_dtype(expected[column]):
            assert np.allclose(got[column], expected[column], rtol=1e-9, atol=1e-12, equal_nan=True), column
        else:
            assert (got[column].astype(str) == expected[column].astype(str)).all(), column
    assert expected["channel"].eq("red").sum() > 0
