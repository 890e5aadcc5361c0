"""A model trained on a world's history and a store holding its decisions on the months after it, made by
the service's own scoring path: what the monitor reads."""

from dataclasses import dataclass
from datetime import date
from pathlib import Path

import numpy as np
import pandas as pd

from roundabout.data.io import CanonicalData, write_folder
from roundabout.data.rules import FormatRules
from roundabout.models import RiskModel
from roundabout.serving.replay import replay
from roundabout.simulation import SimulationConfig, simulate
from roundabout.store import ServiceStore
from roundabout.store.backfill import backfill
from roundabout.training.fit import fit_risk_model
from roundabout.training.train import load_split
from tests.training.conftest import small_config

LABEL = ("roundabout", "1")


@dataclass
class Served:
    """The trained model, the store of its decisions on the served period, and that period."""

    model: RiskModel
    store: ServiceStore
    first: date
    last: date


def _before(data: CanonicalData, day: date) -> CanonicalData:
    keep = (data.lines["date"] < pd.Timestamp(day)).to_numpy()
    ids = set(data.lines["line_id"][keep])
    inspections = data.inspections[data.inspections["line_id"].isin(ids)]
    truth = data.truth[keep] if data.truth is not None else None
    return CanonicalData(data.lines[keep].reset_index(drop=True), inspections.reset_index(drop=True), truth)


def serve_world(config: SimulationConfig, served_from: date, root: Path, store_url: str) -> Served:
    """Train on the world's lines before `served_from` and load them into the store at `store_url`; then
    replay every later line through the service's scoring path (`serving.replay`), outcomes fed back as
    their inspection dates pass."""
    data = simulate(config)
    history = _before(data, served_from)
    write_folder(history, root / "history")
    model = fit_risk_model(load_split(root / "history", small_config()), small_config()).model
    later = (data.lines["date"] >= pd.Timestamp(served_from)).to_numpy()
    lines = data.lines[later].reset_index(drop=True)
    outcomes = data.inspections[data.inspections["line_id"].isin(set(lines["line_id"]))]
    store = ServiceStore.open(store_url)
    store.migrate()
    backfill(store, history, FormatRules())
    replay(store, model, LABEL, CanonicalData(lines, outcomes.reset_index(drop=True), None), FormatRules())
    return Served(model, store, served_from, lines["date"].max().date())


def period_lines(store: ServiceStore) -> np.ndarray:
    """Line ids the store holds decisions for (a check for the tests)."""
    return np.array(sorted({r for r in store.served.period(date(2000, 1, 1), date(2100, 1, 1))["line_id"]}))
