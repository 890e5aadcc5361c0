"""The loop: months of deployment of each policy on one simulated world, through the real training code.

Before `deploy_start` the world's legacy rules chose the inspections (with their propensities). One model is
trained on that history and registered; each policy starts from it, with its own exploration quota cut into
the capacity (`with_policy`). Then, period by period: the champion scores the period's lines (point-in-time
features over everything before them, outcomes included), the policy selects (channels, draws, propensities;
office-day budgets if set), the simulator inspects the selected lines (its detection rates and label noise)
and the outcomes join the history; every `retrain_every` periods the policy's history up to then (outcomes
known by then only) is written as a data folder and `training.train` fits, evaluates, registers and promotes
a new version, which scores the next period if it became champion. The new scheme begins partway through:
no label of it exists before it starts. Every policy sees the same lines, the same draws (one key) and the
same inspection randomness per period.
"""

import time
from collections.abc import Callable
from dataclasses import dataclass, field, replace
from pathlib import Path

import numpy as np
import pandas as pd

from roundabout.data.io import CanonicalData, write_folder
from roundabout.loop.config import LoopConfig, PolicySpec
from roundabout.loop.measure import chance_of_finding, period_measures, precision_check
from roundabout.models.mlflow_service import CHAMPION, MlflowService
from roundabout.models.policy import (
    Selection,
    SelectionPolicy,
    cap_per_office_day,
    draws,
    fill_budget,
)
from roundabout.models.risk_model import RiskModel
from roundabout.simulation.inspections import HiddenTruth, inspect_selected
from roundabout.simulation.world import SimulatedWorld, simulate_world
from roundabout.training.config import TrainConfig
from roundabout.training.train import train

Progress = Callable[[str], None]


@dataclass
class LoopResult:
    """Per policy and period, what the loop measured (`measure.period_measures`), and per retraining the
    precision estimates against the truth (`measure.precision_check`)."""

    periods: pd.DataFrame
    retrains: pd.DataFrame
    config: LoopConfig
    seconds: dict[str, float] = field(default_factory=dict)


def boundaries(config: LoopConfig) -> list[pd.Timestamp]:
    """Start of each period, and the end of the last (exclusive)."""
    start = pd.Timestamp(config.deploy_start)
    step = pd.DateOffset(months=1) if config.period == "month" else pd.DateOffset(weeks=1)
    return [start + step * k for k in range(config.periods + 1)]


def train_config(
    config: LoopConfig, spec: PolicySpec, cut: pd.Timestamp, period: pd.Timedelta
) -> TrainConfig:
    """The training options of one retraining at `cut`: the last period is the holdout, the two before it
    validate; the policy's quota and weighting; promotion on the exploration sample when there is one."""
    return TrainConfig.model_validate(
        {
            "seed": config.seed,
            "split": {
                "kind": "dates",
                "valid_start": (cut - 3 * period).date(),
                "holdout_start": (cut - period).date(),
            },
            "search": {"budget_minutes": config.search_minutes},
            "channels": {
                "red_share": config.red_share,
                "yellow_share": 0.0,
                "period_days": max(7, period.days),
                "exploration_rate": spec.exploration_rate,
                "exploration_strategy": spec.strategy,
            },
            "labels": {"weighting": "ipw" if spec.ipw else "none"},
            "promotion": {
                "against": "exploration" if spec.exploration_rate > 0 else "outcomes",
                "rate": config.red_share,
            },
            "experiment": "loop",
        }
    )


def reference_scores(
    model: RiskModel, data: CanonicalData, recent: np.ndarray
) -> tuple[np.ndarray, np.ndarray]:
    """Risk and unsupervised evidence of the `recent` lines of `data`, where thresholds are cut."""
    scores = model.score_batch(model.matrix(model.features_of(data)[recent], data.lines[recent]))
    odd = scores.oddness_score if model.oddness is not None else None
    return scores.risk_score, model.fusion.evidence(scores.anomaly_score, odd)


def with_policy(
    model: RiskModel, spec: PolicySpec, config: LoopConfig, risk: np.ndarray, evidence: np.ndarray
) -> RiskModel:
    """`model` with the policy's quota cut into the capacity, on reference scores (`reference_scores`)."""
    policy = SelectionPolicy.fit(spec.exploration_rate, spec.strategy, "red", 0.25, risk, evidence)
    thresholds = policy.thresholds(risk, evidence, config.red_share, 0.0)
    return replace(model, policy=policy, thresholds=thresholds)


def stages(config: LoopConfig) -> list[str]:
    """The stages `run_loop` reports, in order."""
    out = ["world", "first model"]
    for spec in config.policies:
        for k in range(config.periods):
            if k and k % config.retrain_every == 0:
                out.append(f"{spec.name}: retrain before period {k + 1}")
            out.append(f"{spec.name}: period {k + 1} of {config.periods}")
    return out


def run_loop(config: LoopConfig, out: Path, mlflow_service: MlflowService, progress: Progress) -> LoopResult:
    """Run every policy of `config` (see the module docstring); working folders go under `out`.
    `progress(stage)` is called as each of `stages(config)` begins."""
    clock = time.perf_counter()
    seconds: dict[str, float] = {}
    progress("world")
    world = simulate_world(config.world())
    lines = world.data.lines
    dates = lines["date"].to_numpy(dtype="datetime64[ns]")
    edges = boundaries(config)
    history = dates < np.datetime64(edges[0])
    legacy = world.data.inspections[world.data.inspections["line_id"].isin(lines["line_id"][history])]
    key = f"loop-{config.seed}".encode()
    step = edges[1] - edges[0]

    progress("first model")
    start = _data(world, edges[0], legacy)
    first = train(
        _folder(out / "first", start),
        mlflow_service,
        train_config(config, PolicySpec(name="first"), edges[0], step),
        register="loop-first",
    )
    assert first.model_uri is not None
    seconds["world_and_first_model"] = time.perf_counter() - clock
    recent = (dates >= np.datetime64(edges[0] - step))[history]
    reference = reference_scores(first.model, start, recent)
    chance = chance_of_finding(world.hidden, config.world().inspections)
    period_rows, retrain_rows = [], []
    for spec in config.policies:
        name = f"loop-{spec.name}"
        version = mlflow_service.register(first.model_uri, name)
        mlflow_service.set_alias(name, CHAMPION, version)
        clock = time.perf_counter()
        champion = with_policy(first.model, spec, config, *reference)
        outcomes = legacy
        for k in range(config.periods):
            lo, hi = edges[k], edges[k + 1]
            if k and k % config.retrain_every == 0:
                progress(f"{spec.name}: retrain before period {k + 1}")
                known = outcomes[pd.to_datetime(outcomes["inspected_on"]) < lo]
                data = _data(world, lo, known)
                folder = _folder(out / "work" / spec.name, data)
                result = train(folder, mlflow_service, train_config(config, spec, lo, step), register=name)
                holdout = (data.lines["date"] >= lo - step).to_numpy()
                check = precision_check(
                    result, data, holdout, chance[dates < np.datetime64(lo)][holdout], config.red_share
                )
                retrain_rows.append({"policy": spec.name, "period": k + 1, **check})
                if result.decision is not None and result.decision.alias == CHAMPION:
                    champion = result.model
            progress(f"{spec.name}: period {k + 1} of {config.periods}")
            chosen, part = _select(champion, world, outcomes, lo, hi, key, config)
            found = _inspect(world, part, chosen, k, config)
            outcomes = pd.concat([outcomes, found], ignore_index=True)
            measures = period_measures(
                lines.iloc[part], world.data.truth.iloc[part], chosen, found, config.new_scheme
            )
            period_rows.append({"policy": spec.name, "period": k + 1, "start": lo.date(), **measures})
        seconds[spec.name] = time.perf_counter() - clock
    return LoopResult(pd.DataFrame(period_rows), pd.DataFrame(retrain_rows), config, seconds)


def _data(world: SimulatedWorld, before: pd.Timestamp, outcomes: pd.DataFrame) -> CanonicalData:
    """The world's lines dated before `before`, with `outcomes` and the truth of those lines."""
    lines = world.data.lines
    keep = lines["date"] < before
    truth = world.data.truth[keep.to_numpy()] if world.data.truth is not None else None
    return CanonicalData(lines[keep].reset_index(drop=True), outcomes.reset_index(drop=True), truth)


def _folder(path: Path, data: CanonicalData) -> Path:
    write_folder(data, path, {"source": "loop simulation"})
    return path


def _select(
    model: RiskModel,
    world: SimulatedWorld,
    outcomes: pd.DataFrame,
    lo: pd.Timestamp,
    hi: pd.Timestamp,
    key: bytes,
    config: LoopConfig,
) -> tuple[Selection, np.ndarray]:
    """The policy's decision on each line of the period [lo, hi) and the positions of those lines: exactly
    the capacity's share of the period's lines is inspected (`fill_budget`), then the office-day budget."""
    lines = world.data.lines
    upto = (lines["date"] < hi).to_numpy()
    part = np.flatnonzero(upto & (lines["date"] >= lo).to_numpy())
    data = CanonicalData(lines[upto], outcomes, None)
    in_part = (lines["date"][upto] >= lo).to_numpy()
    features = model.features_of(data)[in_part]
    period = lines.iloc[part]
    ids = period["line_id"].to_numpy(dtype=object)
    scores = model.score_batch(model.matrix(features, period))
    rule = scores.selection == "rule"
    budget = round(config.red_share * len(ids))
    chosen = fill_budget(scores.risk_score, rule, scores.exploration, draws(key, ids), budget)
    if config.office_red_per_day is not None:
        office, day = period["customs_office"], period["date"]
        chosen = cap_per_office_day(chosen, scores.risk_score, office, day, config.office_red_per_day, None)
    return chosen, part


def _inspect(
    world: SimulatedWorld, part: np.ndarray, chosen: Selection, k: int, config: LoopConfig
) -> pd.DataFrame:
    """The simulator's outcomes of the selected lines of the period (the same randomness for every policy)."""
    rows = np.flatnonzero(chosen.channel != "green")
    lines = world.data.lines.iloc[part]
    hidden: HiddenTruth = world.hidden.take(part)
    rng = np.random.default_rng([config.seed, k])
    return inspect_selected(
        rng,
        lines,
        hidden,
        rows,
        chosen.channel[rows],
        chosen.selection[rows],
        chosen.propensity[rows],
        config.world().inspections,
    )
