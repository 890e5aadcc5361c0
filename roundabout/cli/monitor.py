"""`roundabout monitor`: drift of inputs and scores, channel shares and hit rates from the service store,
against the model's reference profile; a Rich table of what moved most and a self-contained HTML report."""

import json
import re
from datetime import date
from pathlib import Path
from typing import TYPE_CHECKING, Annotated

import typer

from roundabout.cli.render import alert, console, note, say, stage_progress, summary_table
from roundabout.errors import ConfigError, writing
from roundabout.settings import Settings

if TYPE_CHECKING:
    from roundabout.models.mlflow_service import MlflowService
    from roundabout.monitoring import MonitorReport
    from roundabout.monitoring.report import InputFigure

#: Rows of the drift table.
TABLE_ROWS = 15
CHANNELS = ("red", "yellow", "green")


def parse_since(value: str) -> int:
    """`30d`, `4w` or a bare number of days, as days; a clear error otherwise."""
    match = re.fullmatch(r"\s*(\d+)\s*([dw]?)\s*", value.lower())
    if not match or int(match.group(1)) == 0:
        raise ConfigError(f"--since: expected a number of days or weeks such as 30d or 4w; got {value!r}")
    days = int(match.group(1)) * (7 if match.group(2) == "w" else 1)
    if days > 3660:
        raise ConfigError(f"--since: at most 3660 days; got {value!r}")
    return days


def parse_until(value: str | None) -> date | None:
    if value is None:
        return None
    try:
        return date.fromisoformat(value)
    except ValueError:
        raise ConfigError(f"--until: expected a date YYYY-MM-DD; got {value!r}") from None


def model_label(service: "MlflowService", uri: str) -> tuple[str, str]:
    """(name, version) of a model URI: `models:/name@alias` resolved, `models:/name/3` as written."""
    if uri.startswith("models:/"):
        path = uri.removeprefix("models:/")
        if "@" in path:
            name, alias = path.split("@", 1)
            return name, service.resolve(name, alias).version
        name, _, version = path.partition("/")
        return name, version
    return uri, ""


def _moved(f: "InputFigure") -> str:
    """What besides the bins moved: the missing and unknown-level shares when they changed, and the values
    behind the catch-all bins."""
    parts = []
    if f.missing_observed is not None and abs(f.missing_observed - f.missing_reference) >= 0.01:
        parts.append(f"missing {f.missing_reference:.1%} -> {f.missing_observed:.1%}")
    unknown, known = f.unknown_observed, f.unknown_reference
    if unknown is not None and known is not None and abs(unknown - known) >= 0.01:
        parts.append(f"unknown {f.unknown_reference:.1%} -> {f.unknown_observed:.1%}")
    named = f.unknown_values[:2] or (f.other_values[:2] if f.status == "drifted" else [])
    parts += [f"{v} ({n:,})" for v, n in named]
    return "; ".join(parts)


def drift_table(report: "MonitorReport") -> object:
    from rich.table import Table

    table = Table(title=f"inputs that moved most, {report.first} to {report.last} (* important)")
    table.add_column("input", no_wrap=True)
    table.add_column("PSI", justify="right")
    table.add_column("status")
    table.add_column("what moved")
    colour = {"drifted": "red", "warning": "yellow"}
    for f in report.drifted(TABLE_ROWS):
        style = colour.get(f.status, "")
        table.add_row(
            f.name + (" *" if f.important else ""),
            f"{f.psi:.3f}" if f.psi is not None else "",
            f"[{style}]{f.status}[/]" if style else f.status,
            _moved(f),
        )
    return table


def show_report(report: "MonitorReport", label: tuple[str, str]) -> None:
    """The drift table, the period's figures against the holdout's, and the alerts, critical first."""
    console.print(drift_table(report))
    ref = report.channels_reference
    rows: dict[str, object] = {"lines": f"{report.lines:,}"}
    if report.score.psi is not None:
        rows["score PSI"] = f"{report.score.psi:.3f} ({report.score.status})"
    rows |= {f"{c} share": f"{report.channels.get(c, 0):.2%} (holdout {ref.get(c, 0):.2%})" for c in CHANNELS}
    console.print(summary_table(f"{label[0]} v{label[1]}: {report.first} to {report.last}", rows))
    if report.lines_without_inputs:
        note(f"{report.lines_without_inputs:,} lines have no recorded inputs (decided before monitoring)")
    for a in sorted(report.alerts, key=lambda a: (a.severity != "critical", -a.value)):
        alert(a.severity, a.message)


def monitor(
    ctx: typer.Context,
    since: Annotated[str, typer.Option(help="Days (30d) or weeks (4w) of line dates to read")] = "30d",
    until: Annotated[
        str | None, typer.Option(help="Last line date read, YYYY-MM-DD [default: the latest decided line's]")
    ] = None,
    model: Annotated[
        str | None, typer.Option(help="Model URI to compare with [default: models:/<name>@<alias> served]")
    ] = None,
    store: Annotated[
        str | None, typer.Option(help="SQLAlchemy URL of the service store [default: the settings' store]")
    ] = None,
    html: Annotated[Path, typer.Option(help="HTML report to write")] = Path("monitor-report.html"),
    json_out: Annotated[Path | None, typer.Option("--json", help="Also write the figures as JSON")] = None,
    psi_alert: Annotated[float, typer.Option(min=0.001, help="PSI that flags a drift")] = 0.2,
    min_lines: Annotated[int, typer.Option(min=1, help="Fewest lines before a PSI flags anything")] = 200,
    fail_on_alert: Annotated[bool, typer.Option(help="Exit 1 when an alert fires (for schedulers)")] = False,
) -> None:
    """Compare what the service decided in a period with the model's holdout: drift per input, score
    shift, channel shares, hit rates by channel and selection, and the alerts they raise."""
    from roundabout.cli.model import mlflow_service_of
    from roundabout.cli.store_calls import missing_file, opened
    from roundabout.monitoring import MonitorConfig, monitor_store
    from roundabout.monitoring.html import write_html

    settings: Settings = ctx.obj
    config = MonitorConfig(days=parse_since(since), psi_alert=psi_alert, min_lines=min_lines)
    last = parse_until(until)
    if store is not None:
        settings = settings.model_copy(update={"store_url": store})
    elif (absent := missing_file(settings)) is not None:
        raise ConfigError(f"no service store at {absent}: serve and score lines first, or pass --store")
    uri = model or f"models:/{settings.registered_model}@{settings.model_alias}"
    with stage_progress(["load model", "read and compute", "write"], "monitor") as mark:
        mark("load model")
        service = mlflow_service_of(settings)
        risk_model, label = service.load_model(uri), model_label(service, uri)
        mark("read and compute")
        with opened(settings, "read") as opened_store:
            report = monitor_store(opened_store, risk_model, label, config, last)
        mark("write")
        write_html(report, html, config.psi_alert)
        if json_out is not None:
            with writing(json_out):
                json_out.write_text(json.dumps(report.to_dict(), indent=1))
    show_report(report, label)
    say(f"wrote {html}" + (f" and {json_out}" if json_out else ""))
    if fail_on_alert and report.alerts:
        raise typer.Exit(1)
