"""Per-key request rate limits: a token bucket per key id, so one caller in a loop cannot take the service
from the others.

A bucket holds up to `burst` tokens and refills at `rate` tokens a second; each admitted call takes one.
The buckets live in the process: with N workers (`roundabout serve --workers N`, or N machines) a key may
make up to N times its rate in the worst case, when the load balancer spreads its calls evenly. Set the
rate per worker (the key's total divided by N) where that matters.
"""

import math
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass

from roundabout.settings import ApiKey, Settings


@dataclass
class _Bucket:
    tokens: float
    last: float


def limit_of(key: ApiKey, settings: Settings) -> tuple[float, int] | None:
    """(rate per second, burst) of `key`: its own, else the settings' defaults; None: no limit."""
    rate = key.rate_per_second if key.rate_per_second is not None else settings.key_rate_per_second
    if rate is None:
        return None
    burst = key.burst or (settings.key_burst if key.rate_per_second is None else None)
    return rate, burst or max(1, math.ceil(rate))


def retry_after(wait: float) -> int:
    """A wait as the `Retry-After` header gives it: whole seconds, at least one."""
    return max(1, math.ceil(wait))


class RateLimiter:
    """Token buckets by key id, safe to share between threads; time from a monotonic clock, so a change of
    the wall clock neither empties nor fills a bucket."""

    def __init__(self, clock: Callable[[], float] = time.monotonic) -> None:
        self._clock = clock
        self._buckets: dict[str, _Bucket] = {}
        self._lock = threading.Lock()

    def take(self, key_id: str, rate: float, burst: int) -> float | None:
        """Take a token from `key_id`'s bucket: None when the call may go ahead, else the seconds until a
        token is there. A key's first call finds its bucket full; a refused call takes nothing."""
        with self._lock:
            now = self._clock()
            bucket = self._buckets.get(key_id)
            if bucket is None:
                bucket = self._buckets[key_id] = _Bucket(float(burst), now)
            # min(burst): a limit lowered by a reload applies at once
            bucket.tokens = min(float(burst), bucket.tokens + max(0.0, now - bucket.last) * rate)
            bucket.last = now
            if bucket.tokens >= 1.0:
                bucket.tokens -= 1.0
                return None
            return (1.0 - bucket.tokens) / rate
