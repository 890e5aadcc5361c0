"""The evaluate job: a logged or registered model re-scored on any canonical data folder, beside the rules
baseline, with the holdout report of training (`full_report` of `metrics.py`).

Which lines count: from `since` on when it is given; otherwise from the start of the model's own holdout
period on (its metadata records the split), so a model is never scored on the lines it was fitted or
calibrated on unless asked to. Features are built over the whole folder with the model's own artifacts,
so history before the evaluated period still counts; the rules baseline learns its HS6 medians from the
lines before it.

A held-out file evaluated against its labels goes with its history (`history`: the training folders):
its lines are placed after the history, their features see the history's lines and outcomes but never the
folder's own outcomes, which serve only as the labels the scores are measured against. Its scores are then
exactly those `roundabout score --history` gives the same lines.
"""

from collections.abc import Callable, Sequence
from datetime import date
from pathlib import Path
from typing import Any, Protocol

import numpy as np
import pandas as pd

from roundabout.data.history import beside_history, read_history
from roundabout.data.io import CanonicalData, read_folder
from roundabout.errors import ConfigError
from roundabout.features import FeatureArtifacts
from roundabout.models.mlflow_service import MlflowService
from roundabout.models.risk_model import RiskModel
from roundabout.parties.index import ScreeningIndex
from roundabout.training.baseline import RulesBaseline
from roundabout.training.config import TrainConfig
from roundabout.training.exploration import EXPLORATION, exploration_report
from roundabout.training.metrics import full_report
from roundabout.training.split import Split, labels, selection_of
from roundabout.training.stages import Mark, StageClock


class Loaded(Protocol):
    """Lines drawn from a history, and their features as of the whole of it (`dask_split.Drawn`)."""

    data: CanonicalData
    rate: float

    def features(self, artifacts: FeatureArtifacts) -> pd.DataFrame: ...


EVALUATE_STAGES = ["load model", "load data", "features", "score", "evaluate"]
#: How `meta.period` names the evaluated period.
HOLDOUT_PERIOD, SINCE_PERIOD, ALL_LINES = "the model's holdout period", "--since", "every line"


def evaluate_holdout(
    split: Split, scores: dict[str, np.ndarray], config: TrainConfig, prob: np.ndarray | None
) -> dict[str, Any]:
    """The report of each scorer (model, baseline, ...) on the same holdout lines: against outcomes
    (unweighted), against outcomes weighted by inverse propensity (`exploration`) and against truth."""
    hold = split.data.lines[split.holdout]
    value = hold["value_usd"].to_numpy(dtype="float64", na_value=0.0)
    label = labels(split.data)[split.holdout]
    # the promotion compares at its own rate, which is measured whatever the listed rates are
    rates = sorted({*config.evaluation.inspection_rates, config.promotion.rate})
    report = full_report(
        hold["line_id"].to_numpy(dtype=object),
        value,
        label,
        scores,
        split.data.truth,
        rates,
        prob,
        config.evaluation.calibration_bins,
    )
    selection, propensity = (a[split.holdout] for a in selection_of(split.data))
    for name, s in scores.items():
        report[name][EXPLORATION] = exploration_report(s, label, propensity, selection, value, rates)
    return report


def baseline_scores(split: Split) -> np.ndarray:
    """The rules baseline of the holdout lines, its medians learnt on the training lines."""
    lines = split.data.lines
    return RulesBaseline().fit(lines[split.train]).score(lines[split.holdout], history=lines)


def holdout_start(model: RiskModel) -> str | None:
    """First day of the holdout period the model was evaluated on at training, if it records one."""
    start = model.metadata.get("trained_on", {}).get("holdout", {}).get("start")
    return str(start) if start else None


def evaluate_model(
    mlflow_service: MlflowService,
    model_uri: str,
    data_dir: Path,
    since: str | None = None,
    rates: list[float] | None = None,
    mark: Mark | None = None,
    history: Sequence[Path] = (),
    screening: ScreeningIndex | None = None,
    load: Callable[[Path], "Loaded"] | None = None,
) -> dict[str, Any]:
    """Re-evaluate a model on a canonical data folder, with its `history` folders before it if given (see
    the module docstring); `report["meta"]` says which lines were evaluated and why. `load`: the lines
    drawn from a folder too large for this process, with their features (`dask_split.draw_history`)."""
    clock = StageClock(mark)
    config = TrainConfig()
    if rates:
        config.evaluation.inspection_rates = rates
    first = _since_date(since)
    clock("load model")
    model = mlflow_service.load_model(model_uri)
    period = SINCE_PERIOD
    if first is None:
        start = holdout_start(model)
        first, period = (date.fromisoformat(start), HOLDOUT_PERIOD) if start else (None, ALL_LINES)
    clock("load data")
    drawn: Loaded | None = None
    if load is not None:
        if history:
            raise ConfigError("--engine dask: --history is not available on Dask yet")
        drawn = load(Path(data_dir))
    data = drawn.data if drawn is not None else read_folder(Path(data_dir))
    if history:
        beside = beside_history(data, read_history(history))
        scored, in_data = beside.data, beside.target
    else:
        scored, in_data = data, np.ones(len(data.lines), dtype=bool)
    lines = scored.lines
    dates = lines["date"].to_numpy(dtype="datetime64[D]")
    target = in_data & (dates >= np.datetime64(first, "D")) if first else in_data
    if not target.any():
        which = "--since" if period == SINCE_PERIOD else "the start of the model's holdout period"
        raise ConfigError(
            f"no line of {data_dir} is dated on or after {first} ({which}): pass another --since"
        )
    reference = ~target if (~target).any() else target
    # The labels (and truth) measured against are the evaluated folder's; the features saw only `scored`.
    labelled = CanonicalData(lines, data.inspections, data.truth, scored.extra_columns)
    split = Split(labelled, reference & ~target, np.zeros(len(lines), dtype=bool), target)
    clock("features")
    if drawn is not None:
        features = drawn.features(model.artifacts)[target]
    else:
        features = model.features_of(scored, screening=screening)[target]
    clock("score")
    risk = model.score_batch(model.matrix(features, lines[target])).risk_score
    baseline = RulesBaseline().fit(lines[reference]).score(lines[target], history=lines)
    clock("evaluate")
    report = evaluate_holdout(split, {"model": risk, "baseline": baseline}, config, risk)
    report["meta"] = {
        "model_uri": model_uri,
        "data": str(data_dir),
        "period": period,
        "lines": int(target.sum()),
        "since": str(dates[target].min()),
        "until": str(dates[target].max()),
        "history": ", ".join(str(h) for h in history) or "none",
    }
    if drawn is not None and drawn.rate < 1.0:
        report["meta"]["drawn"] = f"a uniform draw of {drawn.rate:.2%} of the lines"
    return report


def _since_date(since: str | None) -> date | None:
    if since is None:
        return None
    try:
        return date.fromisoformat(since)
    except ValueError:
        raise ConfigError(f"--since: {since!r} is not a date (YYYY-MM-DD)") from None
