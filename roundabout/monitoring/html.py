"""The monitor's report as one self-contained HTML file: tables and matplotlib plots embedded as PNG data,
no script, no stylesheet or font from the network, so it opens anywhere, offline, and can be mailed."""

import base64
import html
import io
from collections.abc import Iterable
from pathlib import Path

import matplotlib

matplotlib.use("Agg")  # no display: the plots go into the file
import matplotlib.pyplot as plt
from matplotlib.figure import Figure

from roundabout.errors import writing
from roundabout.monitoring.report import DRIFTED, WARNING, InputFigure, MonitorReport

#: Inputs drawn bin by bin (the most drifted).
INPUTS_DRAWN = 6
#: Inputs in the PSI chart and the table.
INPUTS_LISTED = 25

_STYLE = """
body{font-family:system-ui,sans-serif;margin:2rem;max-width:70rem;color:#222}
table{border-collapse:collapse;margin:1rem 0}
td,th{border:1px solid #ccc;padding:.25rem .5rem;text-align:right}
th{background:#f3f3f3}td:first-child,th:first-child{text-align:left}
.drifted{background:#fdd}.warning{background:#ffe9b3}.alert{color:#a00;font-weight:600}
img{max-width:100%}
"""


def _png(fig: Figure) -> str:
    buffer = io.BytesIO()
    fig.savefig(buffer, format="png", dpi=90, bbox_inches="tight")
    plt.close(fig)
    return f'<img alt="" src="data:image/png;base64,{base64.b64encode(buffer.getvalue()).decode()}">'


def _fmt(value: float | None, pattern: str = "{:.3f}") -> str:
    return "" if value is None else pattern.format(value)


def _table(head: Iterable[str], rows: Iterable[Iterable[str]], classes: Iterable[str] | None = None) -> str:
    cls = list(classes) if classes is not None else None
    out = ["<table><tr>", *(f"<th>{html.escape(h)}</th>" for h in head), "</tr>"]
    for i, row in enumerate(rows):
        attr = f' class="{cls[i]}"' if cls and cls[i] else ""
        out += [f"<tr{attr}>", *(f"<td>{html.escape(str(c))}</td>" for c in row), "</tr>"]
    return "".join([*out, "</table>"])


def _psi_chart(report: MonitorReport, threshold: float) -> str:
    ranked = report.drifted(INPUTS_LISTED)
    if not ranked:
        return "<p>No input has values in this period.</p>"
    fig, ax = plt.subplots(figsize=(9, 0.28 * len(ranked) + 1))
    colours = [
        "#c33" if f.status == DRIFTED else "#e9a23b" if f.status == WARNING else "#7a9" for f in ranked
    ]
    ax.barh([f.name for f in ranked][::-1], [f.psi or 0 for f in ranked][::-1], color=colours[::-1])
    ax.axvline(threshold, color="#a00", linestyle="--", linewidth=1, label=f"alert at {threshold}")
    ax.set_xlabel("population stability index against the holdout")
    ax.legend(loc="lower right")
    return _png(fig)


def _bins(figure: InputFigure, title: str) -> Figure:
    fig, ax = plt.subplots(figsize=(4.2, 2.6))
    labels = [s.bin for s in figure.shifts]
    x = range(len(labels))
    ax.bar([i - 0.2 for i in x], [s.reference for s in figure.shifts], 0.4, label="holdout", color="#89a")
    ax.bar([i + 0.2 for i in x], [s.observed for s in figure.shifts], 0.4, label="period", color="#c63")
    ax.set_xticks(list(x), labels, rotation=30, ha="right", fontsize=7)
    ax.set_title(title, fontsize=9)
    ax.legend(fontsize=7)
    return fig


def _channels_chart(report: MonitorReport) -> str:
    days = [d for d in report.days if d.lines]
    if not days:
        return ""
    fig, ax = plt.subplots(figsize=(9, 3))
    ax.plot(
        [d.first for d in days],
        [d.channels.get("red", 0) for d in days],
        marker=".",
        color="#c33",
        label="red share",
    )
    low, high = report.red_band
    ax.axhspan(low, high, color="#c33", alpha=0.08, label="red band")
    ax.set_ylabel("share of lines")
    ax.tick_params(axis="x", labelrotation=60, labelsize=7)
    ax.legend(fontsize=8)
    return _png(fig)


def _score_chart(report: MonitorReport) -> str:
    s = report.score
    if not s.bins:
        return ""
    fig = _bins(
        InputFigure("risk_score", "number", False, 0, report.lines, s.psi, s.status, 0, None, shifts=s.bins),
        f"risk score (PSI {_fmt(s.psi, '{:.2f}')})",
    )
    fig.set_size_inches(8, 3)
    return _png(fig)


def render(report: MonitorReport, threshold: float = 0.2) -> str:
    """The report as one HTML page."""
    r = report
    title = f"roundabout monitor: {r.model_name} v{r.model_version}, {r.first} to {r.last}"
    alerts = "".join(f'<li class="alert">{html.escape(a.message)}</li>' for a in r.alerts) or "<li>none</li>"
    ranked = r.drifted(INPUTS_LISTED)
    inputs = _table(
        ["input", "important", "PSI", "status", "lines", "missing (holdout)", "missing (period)",
         "unknown level (holdout)", "unknown level (period)", "unknown values"],
        [[f.name, "yes" if f.important else "", _fmt(f.psi), f.status, f.lines, _fmt(f.missing_reference),
          _fmt(f.missing_observed), _fmt(f.unknown_reference), _fmt(f.unknown_observed),
          ", ".join(f"{v} ({n})" for v, n in f.unknown_values)] for f in ranked],
        [f.status.replace(" ", "-") for f in ranked],
    )  # fmt: skip
    drawn = "".join(_png(_bins(f, f"{f.name} (PSI {_fmt(f.psi, '{:.2f}')})")) for f in ranked[:INPUTS_DRAWN])
    rates = _table(
        ["by", "value", "inspected", "violations", "hit rate", "low", "high"],
        [
            [h.group, h.value, h.inspected, h.violations, _fmt(h.rate), _fmt(h.low), _fmt(h.high)]
            for h in r.hit_rates
        ],
    )
    weeks = _table(
        ["week", "lines", "score PSI", "mean risk", "red", "yellow", "green"],
        [[f"{w.first}..{w.last}", w.lines, _fmt(w.score_psi), _fmt(w.mean_risk), _fmt(w.channels.get("red")),
          _fmt(w.channels.get("yellow")), _fmt(w.channels.get("green"))] for w in r.weeks],
    )  # fmt: skip
    channels = _table(
        ["channel", "holdout", "period"],
        [[c, _fmt(r.channels_reference.get(c)), _fmt(r.channels.get(c))] for c in ("red", "yellow", "green")],
    )
    return f"""<!doctype html><html lang="en"><head><meta charset="utf-8"><title>{html.escape(title)}</title>
<style>{_STYLE}</style></head><body>
<h1>{html.escape(title)}</h1>
<p>{r.lines} decided lines ({r.lines_without_inputs} without recorded inputs) against the holdout of
{r.reference_lines} lines ({r.reference_period[0]} to {r.reference_period[1]}); computed {r.computed_at}
in {r.seconds} s.</p>
<h2>Alerts</h2><ul>{alerts}</ul>
<h2>Inputs that moved most</h2>{_psi_chart(r, threshold)}{inputs}
<div>{drawn}</div>
<h2>Risk score</h2>{_score_chart(r)}
<h2>Channels</h2>{channels}{_channels_chart(r)}
<h2>Weeks</h2>{weeks}
<h2>Hit rates (inspected lines of the period)</h2>{rates}
</body></html>
"""


def write_html(report: MonitorReport, path: Path, threshold: float = 0.2) -> Path:
    """Write the report page to `path`."""
    path = Path(path)
    with writing(path):
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(render(report, threshold), encoding="utf-8")
    return path
