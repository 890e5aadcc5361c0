"""The service's ASGI middlewares: a body-size limit in front of everything, and request metrics.

Both are plain ASGI classes: Starlette's `BaseHTTPMiddleware` costs a task group and a memory stream per
request.
"""

import time
from collections.abc import Sequence

from fastapi import status
from fastapi.responses import JSONResponse
from starlette.routing import BaseRoute, Match
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from roundabout.serving.metrics import Metrics


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


class RequestMetrics:
    """Count requests and time them by endpoint (the route's path template) and status.

    FastAPI leaves the matched route in the scope for its own API routes only; the others (`/openapi.json`,
    the documentation pages) are found by matching `routes` again, so only requests no route takes count
    as `unmatched`."""

    def __init__(self, app: ASGIApp, metrics: Metrics, routes: Sequence[BaseRoute] = ()) -> None:
        self.app, self.metrics, self.routes = app, metrics, routes

    def _endpoint(self, scope: Scope, path: str, root_path: str) -> str:
        """The route's path template; `path` and `root_path` as the request came in (a mount, such as the
        static files of the documentation pages, rewrites them in the scope it hands on)."""
        route = scope.get("route")
        if route is not None:
            return str(getattr(route, "path", "unmatched"))
        asked = {"type": "http", "path": path, "root_path": root_path, "method": scope.get("method", "GET")}
        for candidate in self.routes:
            match, _ = candidate.matches(asked)
            if match is Match.FULL:
                return str(getattr(candidate, "path", "unmatched"))
        return "unmatched"

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        start = time.perf_counter()
        status_code = 500
        path, root_path = scope["path"], scope.get("root_path", "")

        async def observed_send(message: Message) -> None:
            nonlocal status_code
            if message["type"] == "http.response.start":
                status_code = message["status"]
            await send(message)

        try:
            await self.app(scope, receive, observed_send)
        finally:
            endpoint = self._endpoint(scope, path, root_path)
            self.metrics.requests.labels(endpoint, str(status_code)).inc()
            self.metrics.latency.labels(endpoint).observe(time.perf_counter() - start)
