"""Scoring a request: features from the store (point in time), the model, the store update, the audit.

Lines are taken in date order, one date at a time: each date's lines get their features from the store as
it stands (only lines dated strictly before them count), then are added to it, so a later-dated line in
the same request sees the earlier ones, exactly as if they had come in separate calls. Adding is
idempotent on `line_id`, so a line sent twice is stored once and scored the same.

A line is checked once, by the store's validator, and the typed record serves both the features and the
write. Single-line calls (the common call), alone or in a group of calls that arrived together
(`serving/single_lines.py`), are read, added and audited in one transaction on one connection: a line and
its decision are stored together or not at all.
"""

from collections import defaultdict
from dataclasses import dataclass
from typing import Any

import pandas as pd

from roundabout.features.store import FeatureStore
from roundabout.models import LineScore, RiskModel
from roundabout.serving.audit import AuditLog
from roundabout.serving.live_model import ServingVersion
from roundabout.serving.turns import STORE_WRITES

#: Frames a last catch-up pass may leave for the write turn: copying and syncing a few dozen pages takes
#: about a millisecond, where the ~400 left by one pass under full load held every write for ~17 ms.
CHECKPOINT_REMAINDER = 50
CHECKPOINT_PASSES = 6


def checkpoint(store: FeatureStore) -> None:
    """Fold SQLite's write-ahead log back into the store file: catch up alongside the requests, then copy
    the last few frames in a write turn, where no write of this process overlaps it (nor, holding the
    write lock, of another worker's), so it completes and the next write starts the log over.

    A checkpoint that always overlaps a write never completes, and under steady load the log (and the
    index every reader maps) grew by hundreds of megabytes a minute. Each catch-up pass copies what was
    written during the one before, so the remainder shrinks fast; the turn waits only for the last one.
    """
    frames, written = store.checkpoint(), None
    for _ in range(CHECKPOINT_PASSES):
        grown = store.checkpoint()
        # Stop when the last pass found little to copy, or no less than the one before (the writes outpace
        # the passes: catching up further would only let the log grow).
        if grown - frames < CHECKPOINT_REMAINDER or (written is not None and grown - frames >= written):
            break
        frames, written = grown, grown - frames
    with STORE_WRITES.first():
        store.checkpoint(exclusive=True)


def line_features(store: FeatureStore, typed: list[dict[str, Any]]) -> pd.DataFrame:
    """Point-in-time features of checked lines (request order), adding each date's lines after scoring
    them. Reads run outside the write turn, so a large batch does not hold up single lines."""
    by_date: dict[Any, list[int]] = defaultdict(list)
    for i, line in enumerate(typed):
        by_date[line["date"]].append(i)
    parts = []
    for day in sorted(by_date):
        group = [typed[i] for i in by_date[day]]
        with store.engine.connect() as conn:
            parts.append(store.lines_features(conn, group))
        with STORE_WRITES, store.transaction() as conn:
            store.add_columns(conn, store.columns(group))
    features = pd.concat(parts) if len(parts) > 1 else parts[0]
    return features.loc[[line["line_id"] for line in typed]]


@dataclass
class LineCall:
    """One call's single line (as sent, and as checked by `FeatureStore.validate_line`) with what its
    decision records."""

    line: dict[str, Any]
    typed: dict[str, Any]
    explain: bool
    top_k: int
    request_id: str
    key_id: str


def score_calls(serving: ServingVersion, audit: AuditLog, calls: list[LineCall]) -> list[dict[str, Any]]:
    """Score, store and audit single-line calls in arrival order, in one transaction; a result per call.

    Each line's history is read, then the line is added, before the next line's history is read, on one
    connection, so each line sees the ones before it exactly as if the calls had come one after the
    other. A line and its decision are stored together or not at all.
    """
    model: RiskModel = serving.model
    store = serving.store
    results, decisions = [], []
    with STORE_WRITES, store.transaction() as conn:
        features = store.features_then_add(conn, store.columns([call.typed for call in calls]))
        for call, line_features in zip(calls, features, strict=True):
            score = model.score_one(line_features, call.line, call.explain, call.top_k)
            result = _result(call.line, score, call.explain)
            results.append(result)
            decisions.append(_decision(serving, result, call.request_id, call.key_id))
        audit.record(decisions, conn)
    return results


def score_lines(
    serving: ServingVersion,
    audit: AuditLog,
    lines: list[dict[str, Any]],
    explain: bool,
    top_k: int,
    request_id: str,
    key_id: str,
) -> list[dict[str, Any]]:
    """Score, store and audit `lines` (distinct line_ids); results in request order."""
    model: RiskModel = serving.model
    store = serving.store
    typed = [store.validate_line(line, row=i + 1 if len(lines) > 1 else None) for i, line in enumerate(lines)]
    if len(lines) == 1:
        return score_calls(serving, audit, [LineCall(lines[0], typed[0], explain, top_k, request_id, key_id)])
    features = line_features(store, typed)
    frame = pd.DataFrame(lines) if model.target_stats.columns else None
    batch = model.score_batch(model.matrix(features, frame), explain=explain, top_k=top_k)
    results = [_result(line, batch.line(i), explain) for i, line in enumerate(lines)]
    with STORE_WRITES:
        audit.record([_decision(serving, r, request_id, key_id) for r in results])
    return results


def _result(line: dict[str, Any], score: LineScore, explain: bool) -> dict[str, Any]:
    return {
        "line_id": line["line_id"],
        "risk_score": score.risk_score,
        "anomaly_score": score.anomaly_score,
        "channel": score.channel,
        "reasons": [r.to_dict() for r in score.reasons] if explain else [],
    }


def _decision(
    serving: ServingVersion, result: dict[str, Any], request_id: str, key_id: str
) -> dict[str, Any]:
    return {
        "request_id": request_id,
        "key_id": key_id,
        "line_id": result["line_id"],
        "model_name": serving.name,
        "model_version": serving.version,
        "risk_score": result["risk_score"],
        "anomaly_score": result["anomaly_score"],
        "channel": result["channel"],
        "reasons": result["reasons"],
    }
