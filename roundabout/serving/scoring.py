"""Scoring a request: features from the store (point in time), the model, the store update, the audit.

Lines are taken in date order, one date at a time: each date's lines get their features from the store as
it stands (only lines dated strictly before them count), then are added to it, so a later-dated line in
the same request sees the earlier ones, exactly as if they had come in separate calls. Adding is
idempotent on `line_id`, so a line sent twice is stored once and scored the same.
"""

import threading
from collections import defaultdict
from typing import Any

import pandas as pd

from roundabout.models import RiskModel
from roundabout.serving.audit import AuditLog
from roundabout.serving.holder import Serving

#: Store writes of this process take turns. SQLite has one writer at a time and makes the others sleep
#: with a growing back-off, which put hundreds of milliseconds on the tail under concurrent requests; on
#: PostgreSQL, upserts of the same aggregate rows from concurrent threads could deadlock.
_WRITES = threading.Lock()


def line_features(serving: Serving, lines: list[dict[str, Any]]) -> pd.DataFrame:
    """Point-in-time features of `lines` (request order), adding each date's lines after scoring it."""
    by_date: dict[Any, list[int]] = defaultdict(list)
    for i, line in enumerate(lines):
        by_date[line["date"]].append(i)
    parts = []
    for day in sorted(by_date):
        group = [lines[i] for i in by_date[day]]
        parts.append(serving.store.features_for(group))
        with _WRITES:
            serving.store.add_lines(group)
    features = pd.concat(parts) if len(parts) > 1 else parts[0]
    return features.loc[[line["line_id"] for line in lines]]


def score_lines(
    serving: Serving,
    audit: AuditLog,
    lines: list[dict[str, Any]],
    explain: bool,
    top_k: int,
    request_id: str,
    key_id: str,
) -> list[dict[str, Any]]:
    """Score, store and audit `lines`; results in request order."""
    model: RiskModel = serving.model
    if len(lines) == 1:
        # The single-line path: plain dicts and numpy, no DataFrame.
        features = serving.store.features_for_line(lines[0])
        with _WRITES:
            serving.store.add_lines(lines)
        scored = [model.score_one(features, lines[0], explain, top_k)]
    else:
        features = line_features(serving, lines)
        frame = pd.DataFrame(lines) if model.target_stats.columns else None
        batch = model.score_batch(model.matrix(features, frame), explain=explain, top_k=top_k)
        scored = [batch.line(i) for i in range(len(lines))]
    results = []
    for line, score in zip(lines, scored, strict=True):
        results.append(
            {
                "line_id": line["line_id"],
                "risk_score": score.risk_score,
                "anomaly_score": score.anomaly_score,
                "channel": score.channel,
                "reasons": [r.to_dict() for r in score.reasons] if explain else [],
            }
        )
    with _WRITES:
        audit.record(
            [
                {
                    "request_id": request_id,
                    "key_id": key_id,
                    "line_id": r["line_id"],
                    "model_name": serving.name,
                    "model_version": serving.version,
                    "risk_score": r["risk_score"],
                    "anomaly_score": r["anomaly_score"],
                    "channel": r["channel"],
                    "reasons": r["reasons"],
                }
                for r in results
            ]
        )
    return results
