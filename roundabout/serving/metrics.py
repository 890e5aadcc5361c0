"""Prometheus metrics of the service, in a registry per app so tests and workers do not collide."""

from dataclasses import dataclass, field

from prometheus_client import CollectorRegistry, Counter, Gauge, Histogram

from roundabout.monitoring.report import RULES, MonitorReport


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
        self.monitor = MonitorGauges(r)
        self.list_reloads = Counter(
            "roundabout_list_reloads_total",
            "Sanctions list version changes picked up, by result (swapped, failed)",
            ["result"],
            registry=r,
        )


@dataclass
class MonitorGauges:
    """The monitor's figures as gauges (docs/monitoring.md has the alert rules that read them)."""

    registry: CollectorRegistry

    def __post_init__(self) -> None:
        r = self.registry
        self.input_psi = Gauge(
            "roundabout_monitor_input_psi",
            "Population stability index of a model input over the monitored period against the holdout",
            ["input", "important"],
            registry=r,
        )
        self.input_missing = Gauge(
            "roundabout_monitor_input_missing_share",
            "Share of the period's lines missing a model input",
            ["input"],
            registry=r,
        )
        self.unknown_level = Gauge(
            "roundabout_monitor_unknown_level_share",
            "Share of the period's lines with a category level the model does not know",
            ["input"],
            registry=r,
        )
        self.score_psi = Gauge(
            "roundabout_monitor_score_psi",
            "PSI of the risk score over the period against the holdout",
            registry=r,
        )
        self.channel_share = Gauge(
            "roundabout_monitor_channel_share",
            "Share of the period's lines per channel",
            ["channel"],
            registry=r,
        )
        self.red_band = Gauge(
            "roundabout_monitor_red_share_band",
            "The band the red share should stay in",
            ["bound"],
            registry=r,
        )
        self.hit_rate = Gauge(
            "roundabout_monitor_hit_rate",
            "Violations found per inspected line, by channel or selection, with its Wilson interval",
            ["group", "value", "bound"],
            registry=r,
        )
        self.inspected = Gauge(
            "roundabout_monitor_inspected_lines",
            "Inspected lines of the period, by channel or selection",
            ["group", "value"],
            registry=r,
        )
        self.lines = Gauge("roundabout_monitor_lines", "Decided lines in the monitored period", registry=r)
        self.alerts = Gauge(
            "roundabout_monitor_alerts",
            "Alerts the latest monitoring pass raised, by rule",
            ["rule"],
            registry=r,
        )
        self.last_pass = Gauge(
            "roundabout_monitor_last_pass_timestamp_seconds",
            "When the latest monitoring pass completed (Unix time)",
            registry=r,
        )

    def show(self, report: MonitorReport) -> None:
        """Set every gauge from a `MonitorReport` (gauges of inputs no longer reported are dropped)."""
        for gauge in (self.input_psi, self.input_missing, self.unknown_level, self.hit_rate, self.inspected):
            gauge.clear()
        for f in report.inputs:
            if f.psi is not None:
                self.input_psi.labels(f.name, str(f.important).lower()).set(f.psi)
            if f.missing_observed is not None:
                self.input_missing.labels(f.name).set(f.missing_observed)
            if f.unknown_observed is not None:
                self.unknown_level.labels(f.name).set(f.unknown_observed)
        self.score_psi.set(report.score.psi if report.score.psi is not None else float("nan"))
        for channel in ("red", "yellow", "green"):
            self.channel_share.labels(channel).set(report.channels.get(channel, 0.0))
        self.red_band.labels("low").set(report.red_band[0])
        self.red_band.labels("high").set(report.red_band[1])
        for h in report.hit_rates:
            self.inspected.labels(h.group, h.value).set(h.inspected)
            for bound, value in (("estimate", h.rate), ("low", h.low), ("high", h.high)):
                if value is not None:
                    self.hit_rate.labels(h.group, h.value, bound).set(value)
        self.lines.set(report.lines)
        self.alerts.clear()
        for rule in RULES:
            self.alerts.labels(rule).set(sum(1 for a in report.alerts if a.rule == rule))
        self.last_pass.set_to_current_time()
