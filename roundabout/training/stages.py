"""The stage clock of a job: calls `mark(stage)` as each stage starts (the CLI turns that into a progress
bar) and times every stage, so a run logs where its time went (`time.<stage>_s`)."""

import time
from collections.abc import Callable

#: Called with a stage's name when it starts.
Mark = Callable[[str], None]


def no_mark(stage: str) -> None:
    """A `Mark` that shows nothing."""


class StageClock:
    """Marks the start of each stage and adds up the seconds spent in each (a stage may come back)."""

    def __init__(self, mark: Mark | None = None) -> None:
        self.mark = mark or no_mark
        self.timings: dict[str, float] = {}
        self._stage: str | None = None
        self._t = time.perf_counter()

    def __call__(self, stage: str) -> None:
        self._close()
        self._stage = stage
        self.mark(stage)

    def _close(self) -> None:
        now = time.perf_counter()
        if self._stage is not None:
            self.timings[self._stage] = self.timings.get(self._stage, 0.0) + now - self._t
        self._t = now

    def done(self) -> dict[str, float]:
        """Close the current stage; the seconds of every stage so far."""
        self._close()
        self._stage = None
        return dict(self.timings)
