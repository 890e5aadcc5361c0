"""How the API answers errors: every one as `{"detail": ...}` with its status, never a traceback.

- `roundabout.errors.RoundaboutError` and its kinds carry their own status (bad input 422 naming the field,
  not found 404, unavailable 503 ...); the API-only ones (401, 403, 413) are below.
- Request bodies pydantic refuses: 422, one item per problem (`field` as `lines[0].hs_code`).
- A database that fails or refuses (the store's driver errors arrive unwrapped from its fast paths): 503
  with `Retry-After`: nothing of the call was stored, it is safe to retry.
- Anything else is a defect: 500, logged with its traceback.
"""

import logging
import sqlite3
from typing import Any

import psycopg
from fastapi import FastAPI, Request, status
from fastapi.encoders import jsonable_encoder
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from sqlalchemy.exc import DBAPIError
from starlette.exceptions import HTTPException as StarletteHTTPException

from roundabout.errors import RoundaboutError
from roundabout.serving.keys import KEY_HEADER
from roundabout.serving.metrics import Metrics
from roundabout.store import STORE_ERRORS

log = logging.getLogger("roundabout.serving")


class UnauthorizedError(RoundaboutError):
    """No key, or a key the service does not know."""

    status = 401


class ForbiddenError(RoundaboutError):
    """A valid key without the scope the endpoint needs."""

    status = 403


class TooLargeError(RoundaboutError):
    """More lines, or more bytes, than one call may carry."""

    status = 413


def field_path(loc: tuple[Any, ...] | list[Any]) -> str:
    """`("body", "lines", 0, "hs_code")` -> `lines[0].hs_code`."""
    out = ""
    for part in list(loc)[1:] if loc and loc[0] == "body" else list(loc):
        out += f"[{part}]" if isinstance(part, int) else (f".{part}" if out else str(part))
    return out or "body"


def problems(errors: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """Error items as the API shows them: the field path, where, what, and the kind of problem."""
    return [
        {
            "field": field_path(e.get("loc", ())),
            "loc": list(e.get("loc", ())),
            "msg": e.get("msg", ""),
            "type": e.get("type", ""),
        }
        for e in errors
    ]


def install_error_handlers(app: FastAPI, metrics: Metrics) -> None:
    @app.exception_handler(RequestValidationError)
    async def _invalid(_request: Request, exc: RequestValidationError) -> JSONResponse:
        errors = jsonable_encoder(exc.errors(), custom_encoder={bytes: repr})
        return JSONResponse({"detail": problems(errors)}, status.HTTP_422_UNPROCESSABLE_CONTENT)

    @app.exception_handler(StarletteHTTPException)
    async def _http(_request: Request, exc: StarletteHTTPException) -> JSONResponse:
        detail = exc.detail
        if isinstance(detail, list):
            detail = problems(detail)
        return JSONResponse({"detail": detail}, exc.status_code, headers=getattr(exc, "headers", None))

    @app.exception_handler(RoundaboutError)
    async def _ours(_request: Request, exc: RoundaboutError) -> JSONResponse:
        headers = {"WWW-Authenticate": KEY_HEADER} if isinstance(exc, UnauthorizedError) else None
        if exc.status == status.HTTP_503_SERVICE_UNAVAILABLE:
            headers = {"Retry-After": "5"}
        return JSONResponse({"detail": exc.detail()}, exc.status, headers=headers)

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
