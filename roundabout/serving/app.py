"""The FastAPI application factory: routers, error answers, request limits, metrics, model warm-up.

`create_app()` builds a service from settings; nothing happens at import time. On start it creates the
store tables, loads `models:/<name>@<alias>` (warm-up: `/readyz` says ready only once a version is
serving), then checks the alias every `reload_interval_seconds` in the background.
"""

import asyncio
import contextlib
import logging
import sqlite3
import time
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Any

import psycopg
from fastapi import FastAPI, Request, status
from fastapi.encoders import jsonable_encoder
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from sqlalchemy.exc import DBAPIError, SQLAlchemyError
from starlette.exceptions import HTTPException as StarletteHTTPException
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from roundabout.features.records import InvalidRecordError
from roundabout.features.store import STORE_ERRORS, FeatureStore
from roundabout.models.mlflow_service import MlflowService
from roundabout.serving.audit import AuditLog
from roundabout.serving.keys import KeyRing
from roundabout.serving.live_model import LiveModel
from roundabout.serving.metrics import Metrics
from roundabout.serving.routers import feedback, health, model, score
from roundabout.serving.scoring import checkpoint
from roundabout.serving.single_lines import SingleLineScorer
from roundabout.serving.state import ServiceState
from roundabout.settings import Settings, get_settings

log = logging.getLogger("roundabout.serving")


class BodyLimit:
    """Answer 413 to a body larger than `limit` bytes, declared or streamed, before anything parses it."""

    def __init__(self, app: ASGIApp, limit: int) -> None:
        self.app, self.limit = app, limit

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        declared = dict(scope.get("headers", [])).get(b"content-length")
        if declared is not None and declared.isdigit() and int(declared) > self.limit:
            await self._too_large(send)
            return
        seen = 0
        started = answered = False

        async def limited_receive() -> Message:
            # Past the limit, answer 413 here and tell the app the client has gone: raising instead
            # would reach FastAPI's body parsing wrapped in an exception group and come out as a 400.
            nonlocal seen, answered
            if answered:
                return {"type": "http.disconnect"}
            message = await receive()
            if message["type"] == "http.request":
                seen += len(message.get("body", b""))
                if seen > self.limit:
                    if not started:
                        await self._too_large(send)
                    answered = True
                    return {"type": "http.disconnect"}
            return message

        async def tracking_send(message: Message) -> None:
            nonlocal started
            if answered:
                return  # the 413 is out; whatever the app makes of the cut body is dropped
            started = started or message["type"] == "http.response.start"
            await send(message)

        await self.app(scope, limited_receive, tracking_send)

    async def _too_large(self, send: Send) -> None:
        response = JSONResponse(
            {"detail": f"request body larger than {self.limit} bytes"}, status.HTTP_413_CONTENT_TOO_LARGE
        )
        await send(
            {"type": "http.response.start", "status": response.status_code, "headers": response.raw_headers}
        )
        await send({"type": "http.response.body", "body": response.body})


def _field_path(loc: tuple[Any, ...] | list[Any]) -> str:
    """`("body", "lines", 0, "hs_code")` -> `lines[0].hs_code`."""
    out = ""
    for part in list(loc)[1:] if loc and loc[0] == "body" else list(loc):
        out += f"[{part}]" if isinstance(part, int) else (f".{part}" if out else str(part))
    return out or "body"


def _problems(errors: list[dict[str, Any]]) -> list[dict[str, Any]]:
    return [
        {
            "field": _field_path(e.get("loc", ())),
            "loc": list(e.get("loc", ())),
            "msg": e.get("msg", ""),
            "type": e.get("type", ""),
        }
        for e in errors
    ]


def _install_error_handlers(app: FastAPI, metrics: Metrics) -> None:
    @app.exception_handler(RequestValidationError)
    async def _invalid(_request: Request, exc: RequestValidationError) -> JSONResponse:
        return JSONResponse(
            {"detail": _problems(jsonable_encoder(exc.errors(), custom_encoder={bytes: repr}))}, 422
        )

    @app.exception_handler(StarletteHTTPException)
    async def _http(_request: Request, exc: StarletteHTTPException) -> JSONResponse:
        detail = exc.detail
        if isinstance(detail, list):
            detail = _problems(detail)
        return JSONResponse({"detail": detail}, exc.status_code, headers=getattr(exc, "headers", None))

    @app.exception_handler(InvalidRecordError)
    async def _record(_request: Request, exc: InvalidRecordError) -> JSONResponse:
        return JSONResponse({"detail": [{"field": exc.field, "msg": str(exc), "type": "invalid"}]}, 422)

    @app.exception_handler(Exception)
    async def _unexpected(request: Request, exc: Exception) -> JSONResponse:
        log.exception("unexpected error on %s", request.url.path)
        return JSONResponse({"detail": f"internal error ({type(exc).__name__}); it has been logged"}, 500)

    async def _store(request: Request, exc: Exception) -> JSONResponse:
        metrics.store_errors.labels(request.url.path).inc()
        kind = "unavailable" if isinstance(exc, DBAPIError | psycopg.Error | sqlite3.Error) else "error"
        log.error("store %s on %s: %s", kind, request.url.path, type(exc).__name__)
        return JSONResponse(
            {"detail": f"store {kind}: nothing was stored by this call; retry later"},
            status.HTTP_503_SERVICE_UNAVAILABLE,
            headers={"Retry-After": "5"},
        )

    for error in STORE_ERRORS:
        app.add_exception_handler(error, _store)


class RequestMetrics:
    """Count requests and time them by endpoint and status (a plain ASGI middleware: Starlette's
    `BaseHTTPMiddleware` costs a task group and a memory stream per request)."""

    def __init__(self, app: ASGIApp, metrics: Metrics) -> None:
        self.app, self.metrics = app, metrics

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        start = time.perf_counter()
        status_code = 500

        async def observed_send(message: Message) -> None:
            nonlocal status_code
            if message["type"] == "http.response.start":
                status_code = message["status"]
            await send(message)

        try:
            await self.app(scope, receive, observed_send)
        finally:
            endpoint = getattr(scope.get("route"), "path", "unmatched")
            self.metrics.requests.labels(endpoint, str(status_code)).inc()
            self.metrics.latency.labels(endpoint).observe(time.perf_counter() - start)


def create_app(settings: Settings | None = None, mlflow_service: MlflowService | None = None) -> FastAPI:
    """Build the service. `mlflow_service` (the registry the model comes from) defaults to the settings'."""
    settings = settings or get_settings()
    metrics = Metrics()
    if mlflow_service is None:
        mlflow_service = MlflowService(
            settings.mlflow_tracking_uri, settings.mlflow_artifact_root, settings.registered_model
        )
    # Requests never fold the SQLite log back into the file (~10 ms on the commit that does it): the
    # service does it in the background every `checkpoint_interval_seconds`.
    store = FeatureStore(settings.store_url, timeout=settings.store_timeout_seconds, autocheckpoint=False)
    audit = AuditLog(store.engine)

    def on_change(result: str, version: str | None) -> None:
        metrics.model_reloads.labels(result).inc()
        if result == "swapped" and version is not None:
            metrics.model_version.clear()
            metrics.model_version.labels(settings.registered_model, version).set(1)

    live_model = LiveModel(
        settings.registered_model,
        settings.model_alias,
        store.url,
        mlflow_service,
        on_change,
        store_timeout=settings.store_timeout_seconds,
        # No in-process feature cache: each scored line is added right away, which drops the entries of
        # its keys, so the cache rarely hits; and with several workers it would miss their writes.
        store_options={"autocheckpoint": False, "cache_size": 0},
    )
    single_lines = SingleLineScorer(audit, on_group=metrics.score_groups.observe)
    keys = KeyRing(settings.api_keys)
    state = ServiceState(settings, keys, live_model, store, audit, metrics, single_lines)

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        try:
            await asyncio.to_thread(store.create_schema)
            await asyncio.to_thread(audit.create_schema)
        except SQLAlchemyError as exc:
            live_model.last_error = f"store unavailable at start: {type(exc).__name__}"
            log.error(live_model.last_error)
        await asyncio.to_thread(live_model.check)
        tasks = [
            asyncio.create_task(_follow(live_model, settings.reload_interval_seconds)),
            asyncio.create_task(_checkpoint(store, settings.checkpoint_interval_seconds)),
        ]
        try:
            yield
        finally:
            for task in tasks:
                task.cancel()
            for task in tasks:
                with contextlib.suppress(asyncio.CancelledError):
                    await task
            await asyncio.to_thread(single_lines.stop)
            if live_model.current is not None:
                live_model.current.store.dispose()
            store.dispose()

    app = FastAPI(
        title="roundabout",
        summary="Circumvention risk scoring for customs goods lines",
        version="1",
        lifespan=lifespan,
    )
    app.state.service = state
    _install_error_handlers(app, metrics)
    for router in (health.router, score.router, feedback.router, model.router):
        app.include_router(router)
    app.add_middleware(RequestMetrics, metrics=metrics)
    app.add_middleware(BodyLimit, limit=settings.max_body_bytes)
    return app


async def _follow(live_model: LiveModel, interval: float) -> None:
    """Check the alias every `interval` seconds until cancelled; a failed check keeps the old version."""
    while True:
        await asyncio.sleep(interval)
        try:
            await asyncio.to_thread(live_model.check)
        except Exception:  # never let the follower die: the next tick tries again
            log.exception("alias check crashed")


async def _checkpoint(store: FeatureStore, interval: float) -> None:
    """Fold the store's write-ahead log into its file every `interval` seconds, off the request path."""
    while True:
        await asyncio.sleep(interval)
        try:
            await asyncio.to_thread(checkpoint, store)
        except Exception as exc:  # e.g. the store is down: requests report that; try again next tick
            log.warning("store checkpoint failed: %s", type(exc).__name__)
