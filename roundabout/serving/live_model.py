"""Keeps the serving model: loads `models:/<name>@<alias>`, follows the alias, swaps atomically.

A new version is loaded and checked off the request path (a smoke score must be finite and in [0, 1],
and its feature list must be one the store computes); only then is it swapped in, by replacing one
reference. A version that fails stays out, the old one keeps serving, and the failure is kept for
`/readyz`, logs and metrics.
"""

import logging
import os
import socket
import threading
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime

import numpy as np

from roundabout.audit import Entry
from roundabout.data.records import RecordValidator
from roundabout.data.rules import FormatRules
from roundabout.features import feature_names
from roundabout.models import RiskModel
from roundabout.models.mlflow_service import MlflowService, RunFacts
from roundabout.parties.index import ScreeningIndex
from roundabout.serving.schemas import EXAMPLE_LINE
from roundabout.store import OnlineFeatures, ServiceStore

log = logging.getLogger("roundabout.serving")


class ModelRejected(RuntimeError):
    """A model version that must not serve."""


@dataclass
class ServingVersion:
    """One loaded version: the model, its features from the store, and the record validator of its lines
    (its extra columns); replaced whole on a swap."""

    model: RiskModel
    features: OnlineFeatures
    validator: RecordValidator
    name: str
    version: str
    alias: str
    run_id: str | None
    trained_at: str | None = None
    holdout_metrics: dict[str, float] = field(default_factory=dict)
    loaded_at: datetime = field(default_factory=lambda: datetime.now(UTC))


def check_feature_list(model: RiskModel) -> None:
    """Refuse a version reading an input the features code does not compute (another code's model)."""
    computed = set(feature_names(model.artifacts))
    missing = [f for f in model.base_features if f not in computed]
    if missing:
        raise ModelRejected(f"feature list does not match the features code: unknown features {missing[:5]}")


def smoke_check(
    model: RiskModel, store: ServiceStore, features: OnlineFeatures, validator: RecordValidator
) -> None:
    """Score the example line with this version's features; refuse a version that cannot."""
    if list(model.base_features) != list(features.names):
        raise ModelRejected("feature list does not match the features code: another order")
    line = validator.line(EXAMPLE_LINE)
    with store.backend.connect() as conn:
        x = features.read(conn, [line])
    scores = model.score_batch(model.matrix(x, [line]), explain=True)
    risk, anomaly = float(scores.risk_score[0]), float(scores.anomaly_score[0])
    if not (np.isfinite(risk) and 0.0 <= risk <= 1.0 and np.isfinite(anomaly)):
        raise ModelRejected(f"smoke score is not a finite probability (risk={risk}, anomaly={anomaly})")
    oddness = float(scores.oddness_score[0])
    if model.oddness is not None and not (np.isfinite(oddness) and oddness >= 0):
        raise ModelRejected(f"smoke oddness score is not a finite non-negative number ({oddness})")
    # The single-line path (LightGBM's native fast path, the numpy forest walk) must agree with the batch
    # path; this also builds its native handles before the version takes its first request.
    one = model.score_one(x[0], line, explain=True)
    if not np.isclose(one.risk_score, risk, rtol=1e-9, atol=1e-12):
        raise ModelRejected(f"single-line score {one.risk_score} differs from the batch score {risk}")


class LiveModel:
    """The version serving now and the last load failure, with a lock so only one check runs at a time."""

    def __init__(
        self,
        name: str,
        alias: str,
        store: ServiceStore,
        rules: FormatRules,
        mlflow_service: MlflowService,
        on_change: Callable[[str, str | None], None] | None = None,
        screening: Callable[[], ScreeningIndex | None] | None = None,
    ) -> None:
        self.name, self.alias, self.store, self.rules = name, alias, store, rules
        self.screening = screening
        self.mlflow_service = mlflow_service
        self.current: ServingVersion | None = None
        self.last_error: str | None = None
        self.last_check: datetime | None = None
        self._lock = threading.Lock()
        self._on_change = on_change or (lambda _result, _version: None)
        self._seen: str | None = None  # the version the alias named at the last check
        self._actor = f"service:{socket.gethostname()}:{os.getpid()}"

    def check(self) -> str:
        """Resolve the alias; load, check and swap in a new version. Returns unchanged/swapped/failed."""
        with self._lock:
            self.last_check = datetime.now(UTC)
            try:
                found = self.mlflow_service.resolve(self.name, self.alias)
            except Exception as exc:  # registry unreachable or alias missing: keep serving what we have
                return self._failed(f"cannot resolve models:/{self.name}@{self.alias}: {exc}", None)
            version = found.version
            if self.current is not None and self.current.version == version:
                return "unchanged"
            moved, self._seen = version != self._seen, version
            if moved:
                was = self.current.version if self.current else None
                self._audit("alias_seen", version, {"alias": self.alias, "version": version, "serving": was})
            try:
                model = self.mlflow_service.load_model(f"models:/{self.name}/{version}")
                check_feature_list(model)
                features = self.store.features(model.artifacts, model.base_features, self.screening)
                validator = RecordValidator(self.rules, model.artifacts.extra_columns)
                smoke_check(model, self.store, features, validator)
                # the order of its decisions' recorded inputs, for the monitor
                self.store.served.register_inputs(self.name, version, features.names)
            except Exception as exc:  # any failure to load or score keeps the version out
                message = f"version {version} refused: {type(exc).__name__}: {exc}"
                if moved:  # once per version the alias names, not at every check
                    self._audit("model_refused", version, {"alias": self.alias, "error": message})
                return self._failed(message, version)
            old = self.current
            facts = self._run_facts(found.run_id)
            self.current = ServingVersion(
                model,
                features,
                validator,
                self.name,
                version,
                self.alias,
                found.run_id,
                facts.started_at,
                facts.holdout_metrics,
            )
            self.last_error = None
            log.info("serving %s version %s (was %s)", self.name, version, old.version if old else "none")
            self._audit(
                "model_load",
                version,
                {"alias": self.alias, "run_id": found.run_id, "previous": old.version if old else None},
            )
            self._on_change("swapped", version)
            return "swapped"

    def _audit(self, kind: str, version: str, content: dict[str, object]) -> None:
        """An audit record of what the service did with a version; a store that fails here is logged (the
        model check goes on: serving must not depend on the trail being writable at this moment)."""
        try:
            self.store.audit.record([Entry(kind, self._actor, f"{self.name}/{version}", content)])
        except Exception as exc:
            log.warning("cannot record %s of version %s in the audit trail: %s", kind, version, exc)

    def _run_facts(self, run_id: str | None) -> RunFacts:
        """When the version's training run started, and its holdout metrics (empty if unreadable)."""
        if not run_id:
            return RunFacts(None, {})
        try:
            return self.mlflow_service.run_facts(run_id)
        except Exception:  # the model serves without them; /v1/model shows them empty
            log.warning("cannot read training run %s of the serving model", run_id)
            return RunFacts(None, {})

    def _failed(self, message: str, version: str | None) -> str:
        self.last_error = message
        log.error("model check failed: %s", message)
        self._on_change("failed", version)
        return "failed"
