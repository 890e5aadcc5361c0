"""The oddness suite for tests and the benchmark: a small altered world, and recall of the altered lines
when a share of lines is inspected by a score (the definition of `training.metrics`: the top
round(rate x n) lines, earlier lines winning ties)."""

from collections.abc import Iterable, Sequence

import numpy as np
import pandas as pd

from roundabout.data.io import CanonicalData
from roundabout.simulation.oddities import AlteredWorld, OdditiesConfig, alter_data
from roundabout.training.metrics import rate_key, top_mask

RATES: tuple[float, ...] = (0.01, 0.05, 0.10)


def altered_world(
    train: CanonicalData | pd.DataFrame,
    test: CanonicalData,
    per_kind: int = 5,
    seed: int = 0,
    kinds: Sequence[str] | None = None,
    months: int = 3,
) -> AlteredWorld:
    """`test` with `per_kind` lines of each kind altered, against the training world's lines."""
    reference = train.lines if isinstance(train, CanonicalData) else train
    options: dict[str, object] = {"per_kind": per_kind, "seed": seed, "months": months}
    if kinds is not None:
        options["kinds"] = tuple(kinds)
    return alter_data(test, reference, OdditiesConfig.model_validate(options))


def recall_at(scores: pd.Series, ids: Iterable[str], rate: float) -> float:
    """Share of the lines `ids` among the top `rate` of `scores` (a Series indexed by line id: the whole
    population inspected from, in line order); NaN when no id is in it."""
    inspected = pd.Series(top_mask(scores.to_numpy(dtype="float64"), rate), index=scores.index)
    wanted = inspected.index.isin(list(ids))
    return float(inspected[wanted].mean()) if wanted.any() else float("nan")


def recall_by_kind(
    scores: pd.Series, manifest: pd.DataFrame, rates: Sequence[float] = RATES
) -> dict[str, dict[str, float]]:
    """{kind, 'all singles', 'all combos', 'all': {'lines': n, 'at_1pct': recall, ...}} of the manifest's
    lines among `scores` (the population)."""
    inspected = {
        r: pd.Series(top_mask(scores.to_numpy(dtype="float64"), r), index=scores.index) for r in rates
    }
    groups = {kind: part["line_id"] for kind, part in manifest.groupby("kind", sort=False)}
    groups["all singles"] = manifest.loc[~manifest["combo"], "line_id"]
    groups["all combos"] = manifest.loc[manifest["combo"], "line_id"]
    groups["all"] = manifest["line_id"]
    out: dict[str, dict[str, float]] = {}
    for name, ids in groups.items():
        row: dict[str, float] = {"lines": float(len(ids))}
        for rate, mask in inspected.items():
            hit = mask.reindex(ids.to_numpy()).to_numpy(dtype=float)
            row[rate_key(rate)] = float(np.nanmean(hit)) if len(ids) else float("nan")
        out[name] = row
    return out
