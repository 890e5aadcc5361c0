"""The raw-column LightGBM yardstick: what it reads and how it treats what it has not seen."""

import warnings

import numpy as np
import pandas as pd

from roundabout.training.raw_baseline import RawLightGBM


def _lines(n: int, rng: np.random.Generator, countries: list[str]) -> pd.DataFrame:
    return pd.DataFrame(
        {
            "line_id": [f"L{i}" for i in range(n)],
            "dispatch_country": rng.choice(countries, n),
            "customs_value": rng.lognormal(8, 1, n),
            "description": ["chips"] * n,
        }
    )


def test_levels_unseen_in_training_score_as_missing_without_warning() -> None:
    rng = np.random.default_rng(0)
    train = _lines(600, rng, ["CN", "TR", "AE"])
    y = (train["dispatch_country"] == "AE").to_numpy(dtype=float)
    model = RawLightGBM().fit(train, y, train, y)
    assert "line_id" not in model.columns_ and "description" not in model.columns_
    assert set(model.categories_) == {"dispatch_country"}
    new = _lines(4, rng, ["AE"]).assign(dispatch_country=["AE", "GE", None, "CN"])
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        scores = model.score(new)
    assert scores[0] > scores[3]  # the learnt level still ranks
    assert scores[1] == scores[2]  # an unseen level is read as a missing one
