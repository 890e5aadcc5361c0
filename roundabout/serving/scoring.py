"""Scoring a request: features from the store (point in time), the model, the store update, the decisions.

A line is checked once, at the API's edge, and the checked line serves the features, the model (its id
statistics) and the write. Features come as one float matrix, a row per line in the model's input order.

- Single-line calls (the common call), alone or in a group of calls that arrived together
  (`single_lines.py`), are read, added and decided in one transaction on one connection, in arrival order:
  each line sees the ones before it as if the calls had come one after the other, and a line and its
  decision are stored together or not at all.
- A many-line call takes its lines in date order, one date at a time: each date's lines get their features
  as the store stands (only lines dated strictly before them count), then are added, so a later-dated line
  of the call sees the earlier ones, exactly as separate calls would. The whole call is one transaction:
  its lines, their decisions and audit records commit together or not at all (a call cut short leaves no
  line stored without its decision). It holds the write turn while it runs, so single lines wait behind a
  large call; `max_batch_lines` bounds how long.

Adding is idempotent on `line_id`: a line sent twice is stored once and scored the same.

Each call screens its parties against one index of the sanctions lists (the one the service follows when
the call starts), whose versions its decisions record; a party feature among the reasons names the list
entry the party resembles.
"""

from collections import defaultdict
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

import numpy as np

from roundabout.features.parties import party_reason
from roundabout.models import LineScore
from roundabout.models.policy import draw, draws
from roundabout.parties.index import ScreeningIndex
from roundabout.serving.budget import OfficeDayBudget
from roundabout.serving.live_lists import versions_of
from roundabout.serving.live_model import ServingVersion
from roundabout.serving.turns import Turns
from roundabout.store import ServiceStore
from roundabout.store.served import encode_inputs


@dataclass
class LineCall:
    """One call's single checked line, with what its decision records."""

    line: Mapping[str, Any]
    explain: bool
    top_k: int
    request_id: str
    key_id: str
    #: The key of the exploration draws (`models/policy.py`).
    selection_key: bytes
    #: The office-day budgets (None: the channel shares only).
    budget: OfficeDayBudget | None = None


def score_calls(
    version: ServingVersion, store: ServiceStore, writes: Turns, calls: list[LineCall]
) -> list[dict[str, Any]]:
    """Score, store and decide single-line calls in arrival order, in one transaction; a result per call."""
    model = version.model
    index = version.features.screening()
    results, decisions = [], []
    with writes, store.transaction() as conn:
        features = version.features.read_then_add(conn, [call.line for call in calls], index)
        for call, row in zip(calls, features, strict=True):
            u = draw(call.selection_key, call.line["line_id"]) if model.policy.rate else None
            score = model.score_one(row, call.line, call.explain, call.top_k, u)
            result = _result(call.line, score, call.explain, index)
            if call.budget is not None:
                call.budget.place(conn, store, call.line, result, score.exploration)
            results.append(result)
            decisions.append(_decision(version, result, call.request_id, call.key_id, index, row))
        store.decisions.record(conn, decisions, [call.line for call in calls])
    return results


def score_lines(
    version: ServingVersion,
    store: ServiceStore,
    writes: Turns,
    lines: list[Mapping[str, Any]],
    explain: bool,
    top_k: int,
    request_id: str,
    key_id: str,
    selection_key: bytes,
    budget: OfficeDayBudget | None = None,
) -> list[dict[str, Any]]:
    """Score, store and decide checked lines of one call (distinct line_ids); results in the call's order.
    `selection_key` keys the lines' exploration draws."""
    by_date: dict[Any, list[int]] = defaultdict(list)
    for i, line in enumerate(lines):
        by_date[line["date"]].append(i)
    index = version.features.screening()
    features = np.empty((len(lines), len(version.features.names)))
    model = version.model
    with writes, store.transaction() as conn:
        for day in sorted(by_date):
            group = [lines[i] for i in by_date[day]]
            features[by_date[day]] = version.features.read(conn, group, index)
            version.features.add(conn, group, index)
        u = draws(selection_key, [line["line_id"] for line in lines]) if model.policy.rate else None
        X = model.matrix(features, lines)
        scores = model.score_batch(X, explain=explain, top_k=top_k, lines=lines, draws=u)
        results = [_result(line, scores.line(i), explain, index) for i, line in enumerate(lines)]
        if budget is not None:  # places in the call's order
            for i, (line, result) in enumerate(zip(lines, results, strict=True)):
                budget.place(conn, store, line, result, float(scores.exploration[i]))
        decisions = [
            _decision(version, r, request_id, key_id, index, features[i]) for i, r in enumerate(results)
        ]
        store.decisions.record(conn, decisions, lines)
    return results


def _reasons(line: Mapping[str, Any], score: LineScore, index: ScreeningIndex | None) -> list[dict[str, Any]]:
    """The reasons as sent, a party feature's text naming the list entry the party resembles."""
    out = []
    for reason in score.reasons:
        shown = reason.to_dict()
        if reason.feature in PARTY_FEATURES:
            shown["text"] = party_reason(reason.feature, line, index) or shown["text"]
        out.append(shown)
    return out


PARTY_FEATURES = frozenset({"counterparty_list_score", "trader_list_score", "listed_party_russia"})


def _result(
    line: Mapping[str, Any], score: LineScore, explain: bool, index: ScreeningIndex | None
) -> dict[str, Any]:
    return {
        "line_id": line["line_id"],
        "risk_score": score.risk_score,
        "anomaly_score": score.anomaly_score,
        "oddness_score": score.oddness_score,
        "channel": score.channel,
        "selection": score.selection,
        "propensity": score.propensity,
        "reasons": _reasons(line, score, index) if explain else [],
    }


def _decision(
    version: ServingVersion,
    result: dict[str, Any],
    request_id: str,
    key_id: str,
    index: ScreeningIndex | None,
    inputs: np.ndarray,
) -> dict[str, Any]:
    return {
        "inputs": encode_inputs(inputs),
        "request_id": request_id,
        "key_id": key_id,
        "line_id": result["line_id"],
        "model_name": version.name,
        "model_version": version.version,
        "risk_score": result["risk_score"],
        "anomaly_score": result["anomaly_score"],
        "oddness_score": result["oddness_score"],
        "channel": result["channel"],
        "reasons": result["reasons"],
        "list_versions": versions_of(index),
        "selection": result["selection"],
        "propensity": result["propensity"],
    }
