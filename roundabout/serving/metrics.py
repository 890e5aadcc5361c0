"""Prometheus metrics of the service, in a registry per app so tests and workers do not collide."""

from dataclasses import dataclass, field

from prometheus_client import CollectorRegistry, Counter, Gauge, Histogram


@dataclass
class Metrics:
    """The service's counters, gauges and histograms."""

    registry: CollectorRegistry = field(default_factory=CollectorRegistry)

    def __post_init__(self) -> None:
        r = self.registry
        self.requests = Counter(
            "roundabout_requests_total",
            "HTTP requests by endpoint and status",
            ["endpoint", "status"],
            registry=r,
        )
        self.latency = Histogram(
            "roundabout_request_seconds",
            "HTTP request latency by endpoint",
            ["endpoint"],
            buckets=(0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5),
            registry=r,
        )
        self.lines_scored = Counter(
            "roundabout_lines_scored_total", "Goods lines scored, by channel", ["channel"], registry=r
        )
        self.model_version = Gauge(
            "roundabout_model_info", "The model version serving (value 1)", ["name", "version"], registry=r
        )
        self.store_errors = Counter(
            "roundabout_store_errors_total", "Store operations that failed", ["operation"], registry=r
        )
        self.score_groups = Histogram(
            "roundabout_score_group_calls",
            "Single-line score calls scored together in one store transaction",
            buckets=(1, 2, 4, 8, 16, 32, 64),
            registry=r,
        )
        self.model_reloads = Counter(
            "roundabout_model_reloads_total", "Model version checks by result", ["result"], registry=r
        )
        self.list_reloads = Counter(
            "roundabout_list_reloads_total",
            "Sanctions list version changes picked up, by result (swapped, failed)",
            ["result"],
            registry=r,
        )
