"""The app of `create_app` in this process, over an ASGI transport: the route tests' server.

Its event loop runs in a thread of its own, with the app's lifespan (store migration, model warm-up,
background tasks) around it, so tests call it with plain synchronous methods while the single-line scorer
and the background tasks run as they do under uvicorn. No socket, no subprocess: fast, and a failure shows
its traceback in the test. The subprocess suite (`tests.support.server`) stays for what only a real
process shows (crashes, outages, load).
"""

import asyncio
import threading
from collections.abc import Coroutine, Iterator
from contextlib import contextmanager
from typing import Any

import httpx
from fastapi import FastAPI


class InProcessApp:
    """A started app and a client per key; `call(method, path, key, **kwargs)` returns the response."""

    def __init__(self, app: FastAPI, keys: dict[str, str]) -> None:
        self.app, self.keys = app, keys
        self.loop = asyncio.new_event_loop()
        self._thread = threading.Thread(target=self.loop.run_forever, name="inprocess-app", daemon=True)
        self._stop: asyncio.Event | None = None
        self._stopped: Any = None

    def _run(self, coroutine: Coroutine[Any, Any, Any]) -> Any:
        return asyncio.run_coroutine_threadsafe(coroutine, self.loop).result(timeout=120)

    def start(self) -> None:
        self._thread.start()
        started = threading.Event()

        async def lifespan() -> None:
            self._stop = asyncio.Event()
            async with self.app.router.lifespan_context(self.app):
                started.set()
                await self._stop.wait()

        self._stopped = asyncio.run_coroutine_threadsafe(lifespan(), self.loop)
        if not started.wait(120):
            raise AssertionError("the app did not start")
        self.client = httpx.AsyncClient(transport=httpx.ASGITransport(app=self.app), base_url="http://app")

    def stop(self) -> None:
        self._run(self.client.aclose())
        assert self._stop is not None
        self.loop.call_soon_threadsafe(self._stop.set)
        self._stopped.result(timeout=60)
        self.loop.call_soon_threadsafe(self.loop.stop)
        self._thread.join(timeout=10)

    def call(self, method: str, path: str, key: str | None = None, **kwargs: Any) -> httpx.Response:
        headers = {"X-API-Key": self.keys[key]} if key else {}
        return self._run(self.client.request(method, path, headers=headers, **kwargs))

    def get(self, path: str, key: str | None = None, **kwargs: Any) -> httpx.Response:
        return self.call("GET", path, key, **kwargs)

    def post(self, path: str, key: str | None = None, **kwargs: Any) -> httpx.Response:
        return self.call("POST", path, key, **kwargs)


@contextmanager
def running(app: FastAPI, keys: dict[str, str]) -> Iterator[InProcessApp]:
    """The app started (lifespan entered) for the block, stopped after it."""
    inprocess = InProcessApp(app, keys)
    inprocess.start()
    try:
        yield inprocess
    finally:
        inprocess.stop()
