"""The service's monitor: the monitoring figures of the model serving now, recomputed in the background
every `monitor_interval_seconds` (never on a request), kept for `GET /v1/monitoring` and set as Prometheus
gauges.

Each worker computes its own (the figures come from the shared store, so they agree); a pass reads a
period of the store and takes well under a second for a month of a national service's lines
(docs/benchmarks.md).
"""

import logging
import threading
from collections.abc import Callable
from datetime import UTC, datetime

from roundabout.errors import NotFoundError
from roundabout.monitoring import MonitorConfig, MonitorReport, monitor_store
from roundabout.serving.live_model import LiveModel
from roundabout.store import ServiceStore

log = logging.getLogger("roundabout.serving")


class LiveMonitor:
    """The latest monitoring report of the serving version, and why there is none when there is none."""

    def __init__(
        self,
        live_model: LiveModel,
        store: ServiceStore,
        config: MonitorConfig,
        on_report: Callable[[MonitorReport], None] | None = None,
    ) -> None:
        self.live_model = live_model
        self.store = store
        self.config = config
        self.report: MonitorReport | None = None
        self.last_error: str | None = None
        #: the last pass found nothing to monitor (no decided line yet): not a fault, a state
        self.nothing_yet = False
        self.last_run: datetime | None = None
        self._on_report = on_report or (lambda _report: None)
        self._lock = threading.Lock()

    def run(self) -> str:
        """One pass: `computed`; `empty` (nothing decided yet); `skipped` (no model); `failed` (a model
        without a profile, the store down: the last report stays)."""
        with self._lock:
            self.last_run = datetime.now(UTC)
            current = self.live_model.current
            if current is None:
                self.last_error = "no model is serving yet"
                return "skipped"
            try:
                report = monitor_store(
                    self.store, current.model, (current.name, current.version), self.config
                )
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
