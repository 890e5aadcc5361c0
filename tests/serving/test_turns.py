"""The store-write lock of the service: mutual exclusion, and waiters served in arrival order."""

import threading
import time

import pytest

from roundabout.serving.turns import Turns


def test_waiters_get_the_lock_in_arrival_order() -> None:
    turns, order = Turns(), []
    turns.acquire()
    threads = []
    for i in range(8):

        def wait(i: int = i) -> None:
            with turns:
                order.append(i)

        thread = threading.Thread(target=wait)
        thread.start()
        threads.append(thread)
        deadline = time.monotonic() + 5
        while len(turns._waiters) < i + 1:  # thread i is queued before thread i + 1 starts
            assert time.monotonic() < deadline, "a waiter never queued"
            time.sleep(0.001)
    turns.release()
    for thread in threads:
        thread.join(5)
    assert order == list(range(8))


def test_only_one_holder_at_a_time() -> None:
    turns, inside, most = Turns(), [0], [0]

    def work() -> None:
        for _ in range(200):
            with turns:
                inside[0] += 1
                most[0] = max(most[0], inside[0])
                time.sleep(0)
                inside[0] -= 1

    threads = [threading.Thread(target=work) for _ in range(6)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(30)
    assert most[0] == 1 and inside[0] == 0
    turns.acquire()  # free again once everyone is done
    turns.release()


def test_release_without_holding_is_an_error() -> None:
    with pytest.raises(RuntimeError, match="not held"):
        Turns().release()


def test_first_goes_ahead_of_the_waiters() -> None:
    turns, order = Turns(), []
    turns.acquire()

    def wait(name: str, first: bool) -> None:
        with turns.first() if first else turns:
            order.append(name)

    threads = []
    for name, first in (("a", False), ("b", False), ("upkeep", True)):
        thread = threading.Thread(target=wait, args=(name, first))
        thread.start()
        threads.append(thread)
        deadline = time.monotonic() + 5
        while len(turns._waiters) < len(threads):
            assert time.monotonic() < deadline, "a waiter never queued"
            time.sleep(0.001)
    turns.release()
    for thread in threads:
        thread.join(5)
    assert order == ["upkeep", "a", "b"]
