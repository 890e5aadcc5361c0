"""The monitor's figures from a period's decided lines and their inputs, against a reference profile.

Inputs are binned as the profile binned the holdout (`Distribution.bin_index`), so the PSI compares like
with like; a line whose decision recorded no value for an input (another version's inputs) is left out of
that input, not counted as missing. A period with fewer than `min_lines` lines gets its figures but flags
nothing: the PSI of a few dozen lines is mostly sampling noise.
"""

from datetime import date, timedelta

import numpy as np
import pandas as pd

from roundabout.models.profile import Distribution, ReferenceProfile
from roundabout.monitoring.config import MonitorConfig
from roundabout.monitoring.report import (
    CRITICAL,
    DRIFTED,
    FEW_LINES,
    STABLE,
    WARNING,
    WARNING_SEVERITY,
    Alert,
    BinShift,
    HitRate,
    InputFigure,
    MonitorReport,
    Period,
    ScoreFigure,
)
from roundabout.monitoring.statistics import psi, psi_rows, wilson

CHANNELS = ("red", "yellow", "green")
SELECTIONS = ("model", "exploration", "rule")
#: Bins listed as an input's largest shifts.
SHIFTS_SHOWN = 3


def _status(value: float, lines: int, config: MonitorConfig) -> str:
    if lines < config.min_lines or value != value:
        return FEW_LINES
    if value >= config.psi_alert:
        return DRIFTED
    return WARNING if value >= config.psi_warning else STABLE


def _none(value: float) -> float | None:
    return None if value != value else float(value)


def _shifts(d: Distribution, counts: np.ndarray, n: int | None = None) -> list[BinShift]:
    """Each bin's shares (in bin order), or the `n` bins whose share moved most."""
    observed = counts / max(counts.sum(), 1.0)
    if n is None:
        chosen = np.arange(d.bins)
    else:
        chosen = np.argsort(-np.abs(observed - np.asarray(d.shares)), kind="stable")[:n]
    return [BinShift(d.labels[i], d.shares[i], float(observed[i])) for i in chosen]


class PeriodIndex:
    """Each line's day (0 = `first`) and week (0 = the oldest 7-day block; blocks end on `last`)."""

    def __init__(self, dates: pd.Series, first: date, last: date) -> None:
        d = dates.to_numpy(dtype="datetime64[D]")
        self.first, self.last = first, last
        self.n_days = (last - first).days + 1
        self.day = (d - np.datetime64(first, "D")).astype(np.int64)
        self.n_weeks = (self.n_days + 6) // 7
        back = (np.datetime64(last, "D") - d).astype(np.int64) // 7
        self.week = self.n_weeks - 1 - back

    def week_bounds(self, k: int) -> tuple[date, date]:
        end = self.last - timedelta(days=7 * (self.n_weeks - 1 - k))
        return max(self.first, end - timedelta(days=6)), end

    def by(self, index: np.ndarray, periods: int, bins: np.ndarray, n_bins: int) -> np.ndarray:
        """A (periods x bins) count matrix."""
        flat = np.bincount(index * n_bins + bins, minlength=periods * n_bins)
        return flat.reshape(periods, n_bins).astype("float64")


def input_figure(
    d: Distribution,
    values: np.ndarray,
    weeks: np.ndarray,
    days: np.ndarray,
    index: PeriodIndex,
    config: MonitorConfig,
    named: tuple[list[tuple[str, int]], list[tuple[str, int]]],
) -> InputFigure:
    """One input's figures from its values in the period (and each value's week); `named`: the values
    behind its catch-all bins."""
    bins = d.bin_index(values)
    counts = np.bincount(bins, minlength=d.bins).astype("float64")
    n = int(counts.sum())
    value = psi(np.asarray(d.shares), counts)
    by_week = index.by(weeks, index.n_weeks, bins, d.bins)
    weekly = psi_rows(np.asarray(d.shares), by_week)
    daily = psi_rows(np.asarray(d.shares), index.by(days, index.n_days, bins, d.bins))
    unknown = d.bins - 2 if d.kind == "category" else None
    week_lines = by_week.sum(axis=1)
    return InputFigure(
        d.name,
        d.kind,
        d.important,
        d.importance,
        n,
        _none(value),
        _status(value, n, config),
        d.missing,
        float(counts[-1] / n) if n else None,
        d.shares[unknown] if unknown is not None else None,
        float(counts[unknown] / n) if unknown is not None and n else None,
        [_none(w) for w in weekly],
        _shifts(d, counts, SHIFTS_SHOWN),
        *named,
        _week_shares(by_week[:, -1], week_lines),
        _week_shares(by_week[:, unknown], week_lines) if unknown is not None else [],
        [_none(x) for x in daily],
    )


def _week_shares(counts: np.ndarray, lines: np.ndarray) -> list[float | None]:
    return [float(c / n) if n else None for c, n in zip(counts, lines, strict=True)]


def _shares(values: np.ndarray, levels: tuple[str, ...]) -> dict[str, float]:
    n = len(values)
    return {level: float((values == level).sum() / n) if n else 0.0 for level in levels}


def _periods(
    served: pd.DataFrame, d: Distribution, group: np.ndarray, n: int, bounds: list[tuple[date, date]]
) -> list[Period]:
    bins = d.bin_index(served["risk_score"].to_numpy(dtype="float64"))
    counts = np.bincount(group * d.bins + bins, minlength=n * d.bins).reshape(n, d.bins)
    scores = psi_rows(np.asarray(d.shares), counts)
    channel = served["channel"].to_numpy(dtype=object)
    selection = served["selection"].to_numpy(dtype=object)
    risk = served["risk_score"].to_numpy(dtype="float64")
    outcome = served["outcome"].to_numpy(dtype=object)
    inspected, hit = pd.notna(outcome), outcome == "violation"
    out = []
    for k in range(n):
        mine = group == k
        lines = int(mine.sum())
        period = Period(
            str(bounds[k][0]),
            str(bounds[k][1]),
            lines,
            _none(scores[k]),
            float(risk[mine].mean()) if lines else None,
            _shares(channel[mine], CHANNELS) if lines else {},
        )
        for name, values, levels in (("channel", channel, CHANNELS), ("selection", selection, SELECTIONS)):
            for level in levels:
                chosen = mine & inspected & (values == level)
                period.inspected[f"{name}:{level}"] = int(chosen.sum())
                period.violations[f"{name}:{level}"] = int((chosen & hit).sum())
        out.append(period)
    return out


def hit_rates(served: pd.DataFrame, config: MonitorConfig) -> list[HitRate]:
    """Hit rates by channel and by selection among the period's lines with an outcome."""
    outcome = served["outcome"].to_numpy(dtype=object)
    inspected = pd.notna(outcome)
    hit = outcome == "violation"
    out = []
    for group, column, levels in (("channel", "channel", CHANNELS), ("selection", "selection", SELECTIONS)):
        values = served[column].to_numpy(dtype=object)
        for level in levels:
            mine = inspected & (values == level)
            n, k = int(mine.sum()), int((mine & hit).sum())
            low, high = wilson(k, n, config.confidence)
            out.append(HitRate(group, level, n, k, k / n if n else None, _none(low), _none(high)))
    return out


def red_band(reference: float, lines: int, config: MonitorConfig) -> tuple[float, float]:
    """The band the red share should stay in: the reference share, give or take `red_band` of it and
    three standard errors of a share of `lines` lines."""
    noise = 3 * np.sqrt(reference * (1 - reference) / max(lines, 1))
    return max(0.0, reference * (1 - config.red_band) - noise), min(
        1.0, reference * (1 + config.red_band) + noise
    )


def _input_alert(f: InputFigure, config: MonitorConfig) -> Alert:
    rule, severity = ("important_input_drift", CRITICAL) if f.important else ("input_drift", WARNING_SEVERITY)
    shown = f"{f.name}: PSI {f.psi or 0.0:.2f} over {f.lines} lines"
    return Alert(rule, f.name, f.psi or 0.0, config.psi_alert, shown, severity)


def alerts(report: MonitorReport, config: MonitorConfig) -> list[Alert]:
    """The alert rules of docs/monitoring.md over a report's figures: a drifted important input, the score
    or the red share or red's hit rate out of line are critical; any other drifted input is a warning."""
    out = [_input_alert(f, config) for f in report.inputs if f.status == DRIFTED]
    if report.score.status == DRIFTED:
        value = report.score.psi or 0.0
        out.append(
            Alert("score_drift", "risk_score", value, config.psi_alert, f"risk score: PSI {value:.2f}")
        )
    red, (low, high) = report.channels.get("red"), report.red_band
    if red is not None and report.lines >= config.min_lines and not low <= red <= high:
        out.append(Alert("red_share", "red", red, high if red > high else low,
                         f"red share {red:.2%} outside its band {low:.2%}..{high:.2%}"))  # fmt: skip
    rates = {(h.group, h.value): h for h in report.hit_rates}
    model, explore = rates[("channel", "red")], rates[("selection", "exploration")]
    enough = min(model.inspected, explore.inspected) >= config.min_inspected
    if enough and model.high is not None and explore.rate is not None and model.high < explore.rate:
        out.append(Alert("red_hit_rate", "red", model.rate or 0.0, explore.rate,
                         f"red hit rate {model.rate:.1%} (at most {model.high:.1%}) below exploration's "
                         f"{explore.rate:.1%}: the model selects worse than chance"))  # fmt: skip
    return out


def figures(
    served: pd.DataFrame,
    X: np.ndarray,
    seen: np.ndarray,
    profile: ReferenceProfile,
    names: list[str],
    first: date,
    last: date,
    config: MonitorConfig,
    values: dict[str, tuple[list[tuple[str, int]], list[tuple[str, int]]]],
    model: tuple[str, str],
) -> MonitorReport:
    """The report of a period: `served` its decided lines (`ServedLines.period`), `X` their inputs in
    `names` order and `seen` where each was recorded; `values` names the values behind each category's
    catch-all bins (`window.category_values_seen`)."""
    index = PeriodIndex(served["date"], first, last)
    inputs = []
    for j, name in enumerate(names):
        rows = seen[:, j]
        d = profile.inputs[name]
        named = values.get(name, ([], []))
        inputs.append(input_figure(d, X[rows, j], index.week[rows], index.day[rows], index, config, named))
    risk = served["risk_score"].to_numpy(dtype="float64")
    score_counts = profile.score.counts(risk)
    score_psi = psi(np.asarray(profile.score.shares), score_counts)
    days = [(first + timedelta(days=k),) * 2 for k in range(index.n_days)]
    weeks = [index.week_bounds(k) for k in range(index.n_weeks)]
    week_periods = _periods(served, profile.score, index.week, index.n_weeks, weeks)
    score = ScoreFigure(
        _none(score_psi),
        _status(score_psi, len(served), config),
        float(risk.mean()) if len(risk) else None,
        _shifts(profile.score, score_counts),
        [p.score_psi for p in week_periods],
    )
    channels = _shares(served["channel"].to_numpy(dtype=object), CHANNELS) if len(served) else {}
    report = MonitorReport(
        model[0],
        model[1],
        str(first),
        str(last),
        len(served),
        int((~seen.any(axis=1)).sum()) if seen.shape[1] else len(served),
        profile.lines,
        profile.period,
        inputs,
        score,
        channels,
        dict(profile.channels),
        red_band(profile.channels.get("red", 0.0), len(served), config),
        hit_rates(served, config),
        _periods(served, profile.score, index.day, index.n_days, days),
        week_periods,
        [],
    )
    report.alerts = alerts(report, config)
    return report
