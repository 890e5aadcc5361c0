"""The FastAPI application factory: the one place the service reads its settings and wires its parts.

`create_app()` builds a service from settings; nothing happens at import time. On start (the lifespan) it
migrates the store to this code's schema, reads the store's API keys, indexes the store's active sanctions
lists, loads `models:/<name>@<alias>` (warm-up: `/readyz` says ready only once a version is serving), then
follows the alias, the list versions and the keys, folds SQLite's log back, signs checkpoints of the audit
trail and recomputes the monitoring figures in the background.
"""

import asyncio
import contextlib
import logging
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

from fastapi import FastAPI
from fastapi_offline import FastAPIOffline

from roundabout.console import console_router, static_files
from roundabout.data.rules import FormatRules
from roundabout.models.mlflow_service import MlflowService
from roundabout.monitoring import MonitorConfig
from roundabout.serving.background import audit_signer, checkpoint_periodically, follow
from roundabout.serving.budget import OfficeDayBudget
from roundabout.serving.console import console_context
from roundabout.serving.errors import install_error_handlers
from roundabout.serving.keys import KeyRing
from roundabout.serving.live_keys import LiveKeys
from roundabout.serving.live_lists import LiveLists
from roundabout.serving.live_model import LiveModel
from roundabout.serving.live_monitor import LiveMonitor
from roundabout.serving.metrics import Metrics
from roundabout.serving.middleware import BodyLimit, RequestMetrics
from roundabout.serving.routers import feedback, health, model, monitoring, score, screen
from roundabout.serving.single_lines import SingleLineScorer
from roundabout.serving.state import ServiceState
from roundabout.serving.turns import Turns
from roundabout.settings import Settings, get_settings
from roundabout.store import STORE_ERRORS, ServiceStore

log = logging.getLogger("roundabout.serving")


def create_app(settings: Settings | None = None, mlflow_service: MlflowService | None = None) -> FastAPI:
    """Build the service. `mlflow_service` (the registry the model comes from) defaults to the settings'."""
    settings = settings or get_settings()
    metrics = Metrics()
    if mlflow_service is None:
        mlflow_service = MlflowService(
            settings.mlflow_tracking_uri,
            settings.mlflow_artifact_root,
            settings.registered_model,
            settings.mlflow_request_retries,
            settings.mlflow_request_timeout_seconds,
        )
    # Requests never fold the SQLite log back into the file (~10 ms on the commit that does it): the
    # service does it in the background every `checkpoint_interval_seconds`.
    store = ServiceStore.open(
        settings.service_store_url, timeout=settings.store_timeout_seconds, autocheckpoint=False
    )
    rules = FormatRules(min_date=settings.min_date, max_future_days=settings.max_future_days)

    def on_change(result: str, version: str | None) -> None:
        metrics.model_reloads.labels(result).inc()
        if result == "swapped" and version is not None:
            metrics.model_version.clear()
            metrics.model_version.labels(settings.registered_model, version).set(1)

    lists = LiveLists(store, on_change=lambda result: metrics.list_reloads.labels(result).inc())
    live_model = LiveModel(
        settings.registered_model, settings.model_alias, store, rules, mlflow_service, on_change, lists.get
    )
    writes = Turns()
    single_lines = SingleLineScorer(store, writes, on_group=metrics.score_groups.observe)
    keys = KeyRing(settings.api_keys)
    live_keys = LiveKeys(store, keys)  # the store's keys join the ring at start
    capped = settings.office_red_per_day is not None or settings.office_yellow_per_day is not None
    budget = OfficeDayBudget(settings.office_red_per_day, settings.office_yellow_per_day) if capped else None
    monitor = LiveMonitor(
        live_model,
        settings.service_store_url,
        MonitorConfig(days=settings.monitor_days),
        metrics.monitor.show,
    )
    state = ServiceState(
        settings, keys, live_model, store, writes, metrics, single_lines, lists, budget, monitor
    )

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        try:
            await asyncio.to_thread(store.migrate)
            await asyncio.to_thread(state.selection_key)
        except STORE_ERRORS as exc:
            live_model.last_error = f"store unavailable at start: {type(exc).__name__}"
            log.error(live_model.last_error)
        await asyncio.to_thread(live_keys.check)
        if not keys.ids:
            log.warning(
                "no API key is configured (ROUNDABOUT_API_KEYS) or stored: every call but /healthz, /readyz "
                "and /metrics will get 401; make one with `roundabout keys new`"
            )
        await asyncio.to_thread(lists.check)
        await asyncio.to_thread(live_model.check)
        tasks = [
            asyncio.create_task(follow(live_model.check, settings.reload_interval_seconds, "alias")),
            asyncio.create_task(follow(lists.check, settings.lists_reload_interval_seconds, "lists")),
            asyncio.create_task(follow(live_keys.check, settings.keys_reload_interval_seconds, "keys")),
            asyncio.create_task(checkpoint_periodically(store, writes, settings.checkpoint_interval_seconds)),
        ]
        sign = audit_signer(store, settings.audit_key_path) if settings.audit_checkpoint_seconds > 0 else None
        if sign is not None:
            tasks.append(
                asyncio.create_task(follow(sign, settings.audit_checkpoint_seconds, "audit checkpoint"))
            )
        if settings.monitor_interval_seconds > 0:  # a first pass right away, then on the schedule
            tasks.append(
                asyncio.create_task(follow(monitor.run, settings.monitor_interval_seconds, "monitor", 0))
            )
        try:
            yield
        finally:
            for task in tasks:
                task.cancel()
            for task in tasks:
                with contextlib.suppress(asyncio.CancelledError):
                    await task
            await asyncio.to_thread(single_lines.stop)
            if sign is not None:  # the last records of this run signed too
                with contextlib.suppress(Exception):
                    await asyncio.to_thread(sign)
            monitor.close()
            store.dispose()

    # The documentation pages load their scripts and styles from the service itself: a customs network
    # has no internet, and FastAPI's own pages fetch them from a CDN.
    app = FastAPIOffline(
        title="roundabout",
        summary="Circumvention risk scoring for customs goods lines",
        version="1",
        lifespan=lifespan,
    )
    app.state.service = state
    app.state.console = console_context(state, mlflow_service)
    install_error_handlers(app, metrics)
    for router in (
        health.router,
        score.router,
        screen.router,
        feedback.router,
        model.router,
        monitoring.router,
    ):
        app.include_router(router)
    app.include_router(console_router())
    app.mount("/console/static", static_files(), name="console-static")
    app.add_middleware(RequestMetrics, metrics=metrics, routes=app.router.routes)
    app.add_middleware(BodyLimit, limit=settings.max_body_bytes)
    return app
