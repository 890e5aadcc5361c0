"""How the API answers errors: every one as `{"detail": ...}` with its status, never a traceback.

- `roundabout.errors.RoundaboutError` and its kinds carry their own status (bad input 422 naming the field,
  not found 404, unavailable 503 ...); the API-only ones (401, 403, 413, 429) are below. A 429 says in
  `Retry-After` when the key's next call will be taken.
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
from fastapi.responses import JSONResponse, Response
from sqlalchemy.exc import DBAPIError
from starlette.exceptions import HTTPException as StarletteHTTPException

from roundabout.console import CONSOLE_PREFIX, error_page
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


class TooManyRequestsError(RoundaboutError):
    """A key over its request rate; `retry_after`: whole seconds until its next call is taken."""

    status = 429

    def __init__(self, message: str, retry_after: int) -> None:
        super().__init__(message)
        self.retry_after = retry_after


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


def _answer(request: Request, detail: Any, code: int, headers: dict[str, str] | None = None) -> Response:
    """The error as JSON, or as a page for the analyst console's paths."""
    if request.url.path.startswith(CONSOLE_PREFIX):
        return error_page(request, code, detail, headers)
    return JSONResponse({"detail": detail}, code, headers=headers)


def install_error_handlers(app: FastAPI, metrics: Metrics) -> None:
    @app.exception_handler(RequestValidationError)
    async def _invalid(request: Request, exc: RequestValidationError) -> Response:
        errors = jsonable_encoder(exc.errors(), custom_encoder={bytes: repr})
        return _answer(request, problems(errors), status.HTTP_422_UNPROCESSABLE_CONTENT)

    @app.exception_handler(StarletteHTTPException)
    async def _http(request: Request, exc: StarletteHTTPException) -> Response:
        detail = exc.detail
        if isinstance(detail, list):
            detail = problems(detail)
        return _answer(request, detail, exc.status_code, getattr(exc, "headers", None))

    @app.exception_handler(RoundaboutError)
    async def _ours(request: Request, exc: RoundaboutError) -> Response:
        headers = {"WWW-Authenticate": KEY_HEADER} if isinstance(exc, UnauthorizedError) else None
        if exc.status == status.HTTP_503_SERVICE_UNAVAILABLE:
            headers = {"Retry-After": "5"}
        if isinstance(exc, TooManyRequestsError):
            headers = {"Retry-After": str(exc.retry_after)}
        return _answer(request, exc.detail(), exc.status, headers)

    @app.exception_handler(Exception)
    async def _unexpected(request: Request, exc: Exception) -> Response:
        log.exception("unexpected error on %s", request.url.path)
        return _answer(request, f"internal error ({type(exc).__name__}); it has been logged", 500)

    async def _store(request: Request, exc: Exception) -> Response:
        metrics.store_errors.labels(request.url.path).inc()
        kind = "unavailable" if isinstance(exc, DBAPIError | psycopg.Error | sqlite3.Error) else "error"
        log.error("store %s on %s: %s", kind, request.url.path, type(exc).__name__)
        detail = f"store {kind}: nothing was stored by this call; retry later"
        return _answer(request, detail, status.HTTP_503_SERVICE_UNAVAILABLE, {"Retry-After": "5"})

    for error in STORE_ERRORS:
        app.add_exception_handler(error, _store)
