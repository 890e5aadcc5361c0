"""Keeps the serving model: loads `models:/<name>@<alias>`, follows the alias, swaps atomically.

A new version is loaded and checked off the request path (a smoke score must be finite and in [0, 1],
and its feature list must be one the store computes); only then is it swapped in, by replacing one
reference. A version that fails stays out, the old one keeps serving, and the failure is kept for
`/readyz`, logs and metrics.
"""

import logging
import threading
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

import numpy as np

from roundabout.features.store import FeatureStore
from roundabout.models import RiskModel
from roundabout.models.mlflow_service import MlflowService, RunFacts
from roundabout.serving.schemas import EXAMPLE_LINE

log = logging.getLogger("roundabout.serving")


class ModelRejected(RuntimeError):
    """A model version that must not serve."""


@dataclass
class ServingVersion:
    """One loaded version with the feature store bound to its artifacts; replaced whole on a swap."""

    model: RiskModel
    store: FeatureStore
    name: str
    version: str
    alias: str
    run_id: str | None
    trained_at: str | None = None
    holdout_metrics: dict[str, float] = field(default_factory=dict)
    loaded_at: datetime = field(default_factory=lambda: datetime.now(UTC))


def smoke_check(model: RiskModel, store: FeatureStore) -> None:
    """Score the example line with this version's features; refuse a version that cannot."""
    missing = [f for f in model.base_features if f not in store.feature_names]
    if missing:
        raise ModelRejected(f"feature list does not match the store: unknown features {missing[:5]}")
    features = store.features_for([EXAMPLE_LINE])
    x = model.matrix(features, None if not model.target_stats.columns else _example_frame())
    scores = model.score_batch(x, explain=True)
    risk, anomaly = float(scores.risk_score[0]), float(scores.anomaly_score[0])
    if not (np.isfinite(risk) and 0.0 <= risk <= 1.0 and np.isfinite(anomaly)):
        raise ModelRejected(f"smoke score is not a finite probability (risk={risk}, anomaly={anomaly})")
    # The single-line path (LightGBM's native fast path, the numpy forest walk) must agree with the batch
    # path; this also builds its native handles before the version takes its first request.
    one = model.score_one(x[0, : len(model.base_features)], EXAMPLE_LINE, explain=True)
    if not np.isclose(one.risk_score, risk, rtol=1e-9, atol=1e-12):
        raise ModelRejected(f"single-line score {one.risk_score} differs from the batch score {risk}")


def _example_frame() -> Any:
    import pandas as pd

    return pd.DataFrame([EXAMPLE_LINE])


class LiveModel:
    """The version serving now and the last load failure, with a lock so only one check runs at a time."""

    def __init__(
        self,
        name: str,
        alias: str,
        store_url: str,
        mlflow_service: MlflowService,
        on_change: Callable[[str, str | None], None] | None = None,
        store_timeout: float | None = None,
        store_options: dict[str, Any] | None = None,
    ) -> None:
        self.name, self.alias, self.store_url = name, alias, store_url
        self.store_timeout = store_timeout
        self.store_options = store_options or {}  # further FeatureStore arguments
        self.mlflow_service = mlflow_service
        self.current: ServingVersion | None = None
        self.last_error: str | None = None
        self.last_check: datetime | None = None
        self._lock = threading.Lock()
        self._on_change = on_change or (lambda _result, _version: None)

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
            try:
                model = self.mlflow_service.load_model(f"models:/{self.name}/{version}")
                store = FeatureStore(
                    self.store_url,
                    artifacts=model.artifacts,
                    timeout=self.store_timeout,
                    **self.store_options,
                )
                store.create_schema()
                smoke_check(model, store)
            except Exception as exc:  # any failure to load or score keeps the version out
                return self._failed(f"version {version} refused: {type(exc).__name__}: {exc}", version)
            old = self.current
            facts = self._run_facts(found.run_id)
            self.current = ServingVersion(
                model,
                store,
                self.name,
                version,
                self.alias,
                found.run_id,
                facts.started_at,
                facts.holdout_metrics,
            )
            self.last_error = None
            log.info("serving %s version %s (was %s)", self.name, version, old.version if old else "none")
            self._on_change("swapped", version)
            if old is not None and old.store is not store:
                old.store.dispose()
            return "swapped"

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
