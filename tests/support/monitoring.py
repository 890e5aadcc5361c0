"""A model trained on a world's history and a store holding the decisions on the months after it, as the
service records them (line, decision, model inputs): what the monitor reads."""

from dataclasses import dataclass
from datetime import date
from pathlib import Path

import numpy as np
import pandas as pd

from roundabout.data.io import CanonicalData, write_folder
from roundabout.data.rules import FormatRules
from roundabout.models import RiskModel
from roundabout.simulation import SimulationConfig, simulate
from roundabout.store import ServiceStore
from roundabout.store.backfill import backfill
from roundabout.store.served import encode_inputs
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
    """Train on the world's lines before `served_from`; decide every later line into the store at
    `store_url` as the service would (inputs recorded), with the outcomes the world found on them."""
    data = simulate(config)
    history = _before(data, served_from)
    write_folder(history, root / "history")
    model = fit_risk_model(load_split(root / "history", small_config()), small_config()).model
    later = (data.lines["date"] >= pd.Timestamp(served_from)).to_numpy()
    features = model.features_of(data)[later]
    lines = data.lines[later].reset_index(drop=True)
    scores = model.score_batch(model.matrix(features, lines))
    base = model.matrix(features, lines)[:, : len(model.base_features)]
    store = ServiceStore.open(store_url)
    store.migrate()
    ids = set(lines["line_id"])
    outcomes = data.inspections[data.inspections["line_id"].isin(ids)].reset_index(drop=True)
    backfill(store, CanonicalData(lines, outcomes, None), FormatRules())
    store.served.register_inputs(*LABEL, model.base_features)
    rows = [
        {
            "request_id": "monitor-test",
            "key_id": "test",
            "line_id": line_id,
            "model_name": LABEL[0],
            "model_version": LABEL[1],
            "risk_score": float(scores.risk_score[i]),
            "anomaly_score": float(scores.anomaly_score[i]),
            "oddness_score": None,
            "channel": str(scores.channel[i]),
            "reasons": [],
            "list_versions": None,
            "selection": str(scores.selection[i]),
            "propensity": float(scores.propensity[i]),
            "inputs": encode_inputs(base[i]),
        }
        for i, line_id in enumerate(lines["line_id"])
    ]
    with store.transaction() as conn:
        store.decisions.record(conn, rows)
    last = lines["date"].max().date()
    return Served(model, store, served_from, last)


def period_lines(store: ServiceStore) -> np.ndarray:
    """Line ids the store holds decisions for (a check for the tests)."""
    return np.array(sorted({r for r in store.served.period(date(2000, 1, 1), date(2100, 1, 1))["line_id"]}))
