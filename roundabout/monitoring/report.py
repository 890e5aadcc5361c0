"""The monitor's figures as one report: what the CLI prints and writes, the service exposes and the
console shows. Plain dataclasses with `to_dict()` (JSON as `GET /v1/monitoring` returns it)."""

from dataclasses import asdict, dataclass, field
from typing import Any

#: An input's status in the period, from its PSI (`MonitorConfig.psi_alert`, `psi_warning`, `min_lines`).
DRIFTED, WARNING, STABLE, FEW_LINES = "drifted", "warning", "stable", "few lines"
#: An alert's severity: critical pages someone, warning goes to a ticket.
CRITICAL, WARNING_SEVERITY = "critical", "warning"
#: The alert rules (docs/monitoring.md).
RULES = ("important_input_drift", "input_drift", "score_drift", "red_share", "red_hit_rate")


@dataclass
class BinShift:
    """One bin's reference and observed share."""

    bin: str
    reference: float
    observed: float


@dataclass
class InputFigure:
    """One model input over the period."""

    name: str
    kind: str
    important: bool
    importance: float
    lines: int
    psi: float | None
    status: str
    missing_reference: float
    missing_observed: float | None
    #: categories: share of lines with a level the model does not know (unseen or too rare at training)
    unknown_reference: float | None = None
    unknown_observed: float | None = None
    #: PSI of each week (oldest first; None: no line that week)
    weekly_psi: list[float | None] = field(default_factory=list)
    #: the bins whose share moved most
    shifts: list[BinShift] = field(default_factory=list)
    #: categories: the most frequent values the model does not know, with their line counts
    unknown_values: list[tuple[str, int]] = field(default_factory=list)
    #: categories: the most frequent known levels without a bin of their own ("other known levels")
    other_values: list[tuple[str, int]] = field(default_factory=list)
    #: per week (oldest first): share missing, and (categories) share of unknown levels; None: no line
    weekly_missing: list[float | None] = field(default_factory=list)
    weekly_unknown: list[float | None] = field(default_factory=list)
    #: PSI of each day (oldest first; few lines a day make it noisy: read the weeks first)
    daily_psi: list[float | None] = field(default_factory=list)


@dataclass
class ScoreFigure:
    """The risk score over the period against the holdout's."""

    psi: float | None
    status: str
    mean_observed: float | None
    bins: list[BinShift] = field(default_factory=list)
    weekly_psi: list[float | None] = field(default_factory=list)


@dataclass
class HitRate:
    """Violations found among inspected lines of a channel or a selection, with a Wilson interval."""

    group: str  # "channel" or "selection"
    value: str
    inspected: int
    violations: int
    rate: float | None
    low: float | None
    high: float | None


@dataclass
class Period:
    """One day or week: its lines, score shift, channel shares and what inspections of its lines found."""

    first: str
    last: str
    lines: int
    score_psi: float | None
    mean_risk: float | None
    channels: dict[str, float] = field(default_factory=dict)
    #: inspected lines and violations found, by channel and by selection (`channel:red`, `selection:model`)
    inspected: dict[str, int] = field(default_factory=dict)
    violations: dict[str, int] = field(default_factory=dict)


@dataclass
class Alert:
    """A rule the period broke (docs/monitoring.md lists them)."""

    rule: str
    subject: str
    value: float
    threshold: float
    message: str
    severity: str = CRITICAL


@dataclass
class MonitorReport:
    """Every figure of one monitoring pass."""

    model_name: str
    model_version: str
    first: str
    last: str
    lines: int
    #: lines whose decision recorded no inputs (decided before monitoring, or by an unknown version)
    lines_without_inputs: int
    reference_lines: int
    reference_period: tuple[str, str]
    inputs: list[InputFigure]
    score: ScoreFigure
    channels: dict[str, float]
    channels_reference: dict[str, float]
    red_band: tuple[float, float]
    hit_rates: list[HitRate]
    days: list[Period]
    weeks: list[Period]
    alerts: list[Alert]
    computed_at: str = ""
    seconds: float = 0.0

    def drifted(self, n: int | None = None) -> list[InputFigure]:
        """Inputs by PSI, largest first (those with a PSI)."""
        ranked = sorted((f for f in self.inputs if f.psi is not None), key=lambda f: -(f.psi or 0.0))
        return ranked[:n] if n is not None else ranked

    def to_dict(self) -> dict[str, Any]:
        return _plain(asdict(self))


def _plain(value: Any) -> Any:
    """NaN to None, tuples to lists: strict JSON."""
    if isinstance(value, float):
        return None if value != value else value
    if isinstance(value, dict):
        return {k: _plain(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [_plain(v) for v in value]
    return value
