"""The service's monitor: the monitoring figures of the model serving now, recomputed every
`monitor_interval_seconds` (never on a request), kept for `GET /v1/monitoring` and set as Prometheus
gauges.

A pass runs in a process of its own at the lowest CPU priority, not in a thread of the service: a pass is
seconds of pandas and SQLAlchemy work holding the interpreter's lock, and in a thread it held scoring
calls back (p99 up to 46 times the monitor-free figure while passes ran back to back; in a process beside,
no change: docs/benchmarks.md, "Monitoring"). The process is started on first use and kept; it gets the
model's profile once per version (`Monitored`), reads the store by its URL and sends the report back. Each
worker runs its own (the figures come from the shared store, so they agree).
"""

import logging
import multiprocessing
import os
import threading
from collections.abc import Callable
from concurrent.futures import ProcessPoolExecutor
from datetime import UTC, datetime
from typing import Any

from roundabout.errors import NotFoundError
from roundabout.monitoring import MonitorConfig, MonitorReport, monitor_store
from roundabout.monitoring.window import Monitored
from roundabout.serving.live_model import LiveModel

log = logging.getLogger("roundabout.serving")

#: The monitor process's state: the subjects it was sent (by version) and its open stores (by URL).
_SUBJECTS: dict[tuple[str, str], Monitored] = {}
_STORES: dict[str, Any] = {}


def _lowest_priority() -> None:
    os.nice(19)


def _pass(
    url: str, label: tuple[str, str], subject: Monitored | None, config: MonitorConfig
) -> MonitorReport:
    """One pass, in the monitor process."""
    from roundabout.store import ServiceStore

    if subject is not None:
        _SUBJECTS.clear()  # one version at a time
        _SUBJECTS[label] = subject
    if url not in _STORES:
        _STORES[url] = ServiceStore.open(url)
    return monitor_store(_STORES[url], _SUBJECTS[label], label, config)


class LiveMonitor:
    """The latest monitoring report of the serving version, and why there is none when there is none."""

    def __init__(
        self,
        live_model: LiveModel,
        store_url: str,
        config: MonitorConfig,
        on_report: Callable[[MonitorReport], None] | None = None,
    ) -> None:
        self.live_model = live_model
        self.store_url = store_url
        self.config = config
        self.report: MonitorReport | None = None
        self.last_error: str | None = None
        #: the last pass found nothing to monitor (no decided line yet): not a fault, a state
        self.nothing_yet = False
        self.last_run: datetime | None = None
        self._on_report = on_report or (lambda _report: None)
        self._lock = threading.Lock()
        self._pool: ProcessPoolExecutor | None = None
        self._sent: tuple[str, str] | None = None

    def run(self) -> str:
        """One pass: `computed`; `empty` (nothing decided yet); `skipped` (no model); `failed` (a model
        without a profile, the store down, the process lost: the last report stays)."""
        with self._lock:
            self.last_run = datetime.now(UTC)
            current = self.live_model.current
            if current is None:
                self.last_error = "no model is serving yet"
                return "skipped"
            label = (current.name, current.version)
            try:
                report = self._compute(label, current.model)
            except NotFoundError as exc:  # nothing decided yet
                self.last_error, self.nothing_yet = exc.message, True
                return "empty"
            except Exception as exc:  # never let the monitor take the service down: keep the last report
                self.last_error = f"{type(exc).__name__}: {getattr(exc, 'message', exc)}"
                self.nothing_yet = False
                log.warning("monitoring pass failed: %s", self.last_error)
                return "failed"
            self.report, self.last_error, self.nothing_yet = report, None, False
            self._on_report(report)
            return "computed"

    def _compute(self, label: tuple[str, str], model: Any) -> MonitorReport:
        if self._pool is None:
            context = multiprocessing.get_context("spawn")  # a clean interpreter, not a fork of the service
            self._pool = ProcessPoolExecutor(1, mp_context=context, initializer=_lowest_priority)
            self._sent = None
        subject = Monitored.of(model) if label != self._sent else None
        try:
            report = self._pool.submit(_pass, self.store_url, label, subject, self.config).result()
        except Exception as exc:
            if type(exc).__name__ == "BrokenProcessPool":  # the process died: a new one next time
                self.close()
            raise
        self._sent = label
        return report

    def close(self) -> None:
        """Stop the monitor process (the app's shutdown)."""
        if self._pool is not None:
            self._pool.shutdown(wait=False, cancel_futures=True)
        self._pool, self._sent = None, None
