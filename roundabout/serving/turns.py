"""The service's store writes take turns, granted in arrival order.

The service state owns one `Turns` for its store writes. SQLite has one writer at a time and makes the
others sleep with a growing back-off, which put hundreds of milliseconds on the tail under concurrent
requests; on PostgreSQL, upserts of the same aggregate rows from concurrent threads could deadlock.

`threading.Lock` wakes its waiters in no particular order: under steady load a request can lose the race
for the lock several times in a row while later ones pass it, which is what the slowest 1% of answers
were made of. Here the holder hands the lock straight to the longest waiter.
"""

import threading
from collections import deque
from collections.abc import Iterator
from contextlib import contextmanager
from types import TracebackType


class Turns:
    """A non-reentrant mutual-exclusion lock whose waiters get it first come, first served."""

    def __init__(self) -> None:
        self._mutex = threading.Lock()
        self._waiters: deque[threading.Lock] = deque()
        self._held = False

    def acquire(self, first: bool = False) -> None:
        """Wait for the turn; `first` goes ahead of those already waiting (for short upkeep that must not
        wait behind a queue of requests)."""
        with self._mutex:
            if not self._held:
                self._held = True
                return
            waiter = threading.Lock()
            waiter.acquire()
            if first:
                self._waiters.appendleft(waiter)
            else:
                self._waiters.append(waiter)
        waiter.acquire()  # released by the holder, which hands the lock over without freeing it

    def release(self) -> None:
        with self._mutex:
            if not self._held:
                raise RuntimeError("release of a Turns lock that is not held")
            if self._waiters:
                self._waiters.popleft().release()
            else:
                self._held = False

    @contextmanager
    def first(self) -> Iterator[None]:
        """`with turns.first():` takes the next turn, ahead of the waiters."""
        self.acquire(first=True)
        try:
            yield
        finally:
            self.release()

    def __enter__(self) -> None:
        self.acquire()

    def __exit__(
        self, kind: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        self.release()
