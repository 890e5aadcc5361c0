"""Single-line score calls that arrive together are scored by one thread, in one store transaction.

Most calls carry one line. With a pool thread each, concurrent calls made as many threads contend for the
interpreter and queue for the store's write turn, and each paid its own commit: about a third of a call's
CPU went to hand-offs, and every commit rewrote the same index pages into SQLite's log. Here the calls
queue, and one thread takes every call waiting whenever it is free and scores them in arrival order in
one transaction (`score_calls`): each line still sees every line before it, as if the calls had come one
after the other, and the hand-off, the commit and the audit insert are paid once per group. Nothing waits
for a group to fill: a lone call is scored at once.
"""

import asyncio
import contextlib
import queue
import threading
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from roundabout.serving.live_model import ServingVersion
from roundabout.serving.scoring import LineCall, score_calls
from roundabout.serving.turns import Turns
from roundabout.store import STORE_ERRORS, ServiceStore

#: Times a group that PostgreSQL rolled back to break a deadlock is scored again before its calls get 503.
DEADLOCK_RETRIES = 2


@dataclass
class _Waiting:
    version: ServingVersion
    call: LineCall
    future: asyncio.Future[dict[str, Any]]

    def settle(self, result: dict[str, Any] | None = None, error: BaseException | None = None) -> None:
        with contextlib.suppress(RuntimeError):  # a closed loop: nobody is waiting any more
            self.future.get_loop().call_soon_threadsafe(_settle, self.future, result, error)


def _settle(future: asyncio.Future[dict[str, Any]], result: Any, error: BaseException | None) -> None:
    if future.done():  # the caller gave up (its client went away); the line is stored all the same
        return
    if error is not None:
        future.set_exception(error)
    else:
        future.set_result(result)


class SingleLineScorer:
    """Scores single-line calls on one thread, in groups of up to `max_group` calls per transaction."""

    def __init__(
        self,
        store: ServiceStore,
        writes: Turns,
        max_group: int = 64,
        on_group: Callable[[int], None] | None = None,
    ) -> None:
        self.store, self.writes = store, writes
        self.max_group = max_group
        self.on_group = on_group  # told each group's number of calls (the service's metrics)
        self._queue: queue.SimpleQueue[_Waiting | None] = queue.SimpleQueue()
        self._thread: threading.Thread | None = None
        self._lock = threading.Lock()

    async def score(self, version: ServingVersion, call: LineCall) -> dict[str, Any]:
        """The call's result once its group has committed; the group's error (a store error, say) if not."""
        future: asyncio.Future[dict[str, Any]] = asyncio.get_running_loop().create_future()
        self._start()
        self._queue.put(_Waiting(version, call, future))
        return await future

    def stop(self, timeout: float = 30.0) -> None:
        """Score the calls already queued, then end the thread."""
        with self._lock:
            thread, self._thread = self._thread, None
            if thread is None:
                return
            self._queue.put(None)
        thread.join(timeout)

    def _start(self) -> None:
        if self._thread is not None:
            return
        with self._lock:
            if self._thread is None:
                self._thread = threading.Thread(target=self._run, name="single-lines", daemon=True)
                self._thread.start()

    def _run(self) -> None:
        while True:
            first = self._queue.get()
            if first is None:
                return
            group, stopping = [first], False
            while len(group) < self.max_group:
                try:
                    waiting = self._queue.get_nowait()
                except queue.Empty:
                    break
                if waiting is None:
                    stopping = True
                    break
                group.append(waiting)
            for same in _by_version(group):
                if self.on_group is not None:
                    self.on_group(len(same))
                self._score(same)
            if stopping:
                return

    def _score(self, group: list[_Waiting]) -> None:
        try:
            results = self._committed(group)
        except STORE_ERRORS as exc:  # nothing of the group was stored: each call answers 503
            for waiting in group:
                waiting.settle(error=exc)
        except Exception as exc:
            if len(group) == 1:  # the service's error handler logs it
                group[0].settle(error=exc)
            else:  # one call's fault must fail only that call: score them one by one
                for waiting in group:
                    self._score([waiting])
        else:
            for waiting, result in zip(group, results, strict=True):
                waiting.settle(result=result)

    def _committed(self, group: list[_Waiting]) -> list[dict[str, Any]]:
        """`score_calls` on the group, tried again when PostgreSQL broke a deadlock by rolling it back
        (another worker's group took the same aggregate rows in another order): nothing of it was stored."""
        retries = DEADLOCK_RETRIES
        while True:
            try:
                return score_calls(group[0].version, self.store, self.writes, [w.call for w in group])
            except STORE_ERRORS as exc:
                if retries == 0 or not self.store.backend.rolled_back_by_conflict(exc):
                    raise
                retries -= 1


def _by_version(group: list[_Waiting]) -> list[list[_Waiting]]:
    """Runs of consecutive calls taken by the same serving version (a swap can land inside a group)."""
    runs: list[list[_Waiting]] = []
    for waiting in group:
        if runs and runs[-1][0].version is waiting.version:
            runs[-1].append(waiting)
        else:
            runs.append([waiting])
    return runs
