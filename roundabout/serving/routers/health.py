"""Liveness, readiness and Prometheus metrics: open, no key needed."""

import sqlalchemy as sa
from fastapi import APIRouter, Response, status
from fastapi.responses import JSONResponse
from prometheus_client import CONTENT_TYPE_LATEST, generate_latest

from roundabout.serving.schemas import Readiness
from roundabout.serving.state import State

router = APIRouter(tags=["health"])


@router.get("/healthz", summary="The process is alive")
def healthz() -> dict[str, str]:
    return {"status": "alive"}


@router.get(
    "/readyz",
    summary="Ready to score: a model is loaded and the store answers",
    response_model=Readiness,
    responses={503: {"model": Readiness, "description": "Not ready, with the reasons"}},
)
def readyz(state: State) -> JSONResponse:
    reasons = []
    current = state.live_model.current
    if current is None:
        reasons.append(f"no model loaded: {state.live_model.last_error or 'still loading'}")
    try:
        with state.store.backend.connect() as conn:
            conn.execute(sa.text("SELECT 1"))
    except Exception as exc:  # any driver error means the store is unreachable
        state.metrics.store_errors.labels("readiness").inc()
        reasons.append(f"store unreachable: {type(exc).__name__}")
    body = {
        "status": "not ready" if reasons else "ready",
        "reasons": reasons,
        "model": {"name": current.name, "version": current.version} if current else None,
        "last_model_error": state.live_model.last_error,
    }
    return JSONResponse(body, status.HTTP_503_SERVICE_UNAVAILABLE if reasons else status.HTTP_200_OK)


@router.get(
    "/metrics",
    summary="Prometheus metrics",
    response_class=Response,
    responses={200: {"content": {"text/plain": {"schema": {"type": "string"}}}}},
)
def metrics(state: State) -> Response:
    return Response(generate_latest(state.metrics.registry), media_type=CONTENT_TYPE_LATEST)
