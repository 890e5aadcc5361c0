"""Served lines read back for monitoring, on SQLite and PostgreSQL: the latest decision per line, its inputs
as stored, the outcome if any, a period by the lines' own dates."""

from datetime import date, timedelta

import numpy as np
import pandas as pd

from roundabout.data.io import CanonicalData
from roundabout.data.rules import FormatRules
from roundabout.simulation import SimulationConfig, simulate
from roundabout.store import ServiceStore
from roundabout.store.backfill import backfill
from roundabout.store.served import decode_inputs, encode_inputs


def _decision(line_id: str, version: str, risk: float, inputs: np.ndarray | None) -> dict:
    return {
        "request_id": "r",
        "key_id": "k",
        "line_id": line_id,
        "model_name": "risk",
        "model_version": version,
        "risk_score": risk,
        "anomaly_score": 0.0,
        "oddness_score": None,
        "channel": "green",
        "reasons": [],
        "list_versions": None,
        "selection": "model",
        "propensity": 1.0,
        **({"inputs": encode_inputs(inputs)} if inputs is not None else {}),
    }


def test_a_period_reads_each_lines_latest_decision_and_inputs(store_url: str) -> None:
    data = simulate(SimulationConfig(n_lines=300, seed=2))
    lines = data.lines.sort_values("date").reset_index(drop=True)
    store = ServiceStore.open(store_url)
    try:
        store.migrate()
        backfill(store, CanonicalData(lines, data.inspections, None), FormatRules())
        store.served.register_inputs("risk", "1", ["a", "b"])
        store.served.register_inputs("risk", "1", ["a", "b"])  # a second worker: nothing new
        assert store.served.input_names() == {("risk", "1"): ["a", "b"]}
        first, second = lines["line_id"].iloc[-1], lines["line_id"].iloc[-2]
        with store.transaction() as conn:
            store.decisions.record(conn, [_decision(first, "1", 0.1, np.array([1.5, np.nan]))])
            store.decisions.record(conn, [_decision(first, "1", 0.9, np.array([2.5, 7.0]))])
            store.decisions.record(conn, [_decision(second, "1", 0.2, None)])
        last = lines["date"].iloc[-1].date()
        assert store.served.last_date() == last
        period = store.served.period(lines["date"].iloc[-2].date(), last, ["customs_office"])
        assert set(period["line_id"]) == {first, second} and "customs_office" in period.columns
        mine = period.set_index("line_id")
        assert mine.loc[first, "risk_score"] == 0.9  # the latest decision only
        X = decode_inputs([mine.loc[first, "inputs"], mine.loc[second, "inputs"]], 2)
        assert X[0].tolist() == [2.5, 7.0] and np.isnan(X[1]).all()
        before = store.served.period(date(2000, 1, 1), lines["date"].iloc[-2].date() - timedelta(days=1))
        assert first not in set(before["line_id"])
        assert pd.api.types.is_datetime64_any_dtype(period["date"])
        assert store.decisions.for_line(first)[0].keys().isdisjoint({"inputs"})  # the audit view stays JSON
    finally:
        store.dispose()


def test_the_latest_decided_date_is_the_date_of_the_line_decided_last(store_url: str) -> None:
    data = simulate(SimulationConfig(n_lines=200, seed=4))
    lines = data.lines.sort_values("date").reset_index(drop=True)
    store = ServiceStore.open(store_url)
    try:
        store.migrate()
        assert store.served.latest_decided_date() is None
        backfill(store, CanonicalData(lines, data.inspections.iloc[:0], None), FormatRules())
        early, late = lines["line_id"].iloc[0], lines["line_id"].iloc[-1]
        with store.transaction() as conn:
            store.decisions.record(conn, [_decision(late, "1", 0.5, None), _decision(early, "1", 0.5, None)])
        assert store.served.latest_decided_date() == lines["date"].iloc[0].date()  # decided last
        assert store.served.last_date() == lines["date"].iloc[-1].date()  # dated last
    finally:
        store.dispose()
