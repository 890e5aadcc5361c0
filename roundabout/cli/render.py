"""Everything the CLI shows: the consoles, progress bars, tables and the holdout report.

Messages that carry user text (paths, YAML errors, model URIs) are printed with Rich markup off, so a path
with `[red]` or `[/old]` in it is shown as it is instead of being parsed as a style tag.
"""

from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import Any

from rich.console import Console
from rich.progress import (
    BarColumn,
    MofNCompleteColumn,
    Progress,
    ProgressColumn,
    SpinnerColumn,
    Task,
    TextColumn,
    TimeElapsedColumn,
)
from rich.table import Table
from rich.text import Text

console = Console()
err_console = Console(stderr=True, soft_wrap=True)


def error(message: str) -> None:
    """`error: <message>` on stderr, the message as it is (no markup, no highlighting)."""
    err_console.print(f"error: {message}", markup=False, highlight=False)


def warning(message: str) -> None:
    """`warning: <message>` on stderr, the message as it is."""
    err_console.print(f"warning: {message}", markup=False, highlight=False)


def alert(severity: str, message: str) -> None:
    """`alert (<severity>): <message>` on stderr: a monitoring rule that fired."""
    err_console.print(f"alert ({severity}): {message}", markup=False, highlight=False)


def note(message: str) -> None:
    """`note: <message>` on stderr: something the user should know that is not a problem."""
    err_console.print(f"note: {message}", markup=False, highlight=False)


def say(message: str) -> None:
    """A line of user text on stdout, as it is."""
    console.print(message, markup=False, highlight=False, soft_wrap=True)


def rule(title: str) -> None:
    console.rule(title)


@contextmanager
def stage_progress(stages: list[str], title: str) -> Iterator[Callable[[str], None]]:
    """A Rich progress bar over named stages; yields a callback that marks the start of each stage."""
    with Progress(
        SpinnerColumn(),
        TextColumn("[bold]{task.description}"),
        BarColumn(),
        TextColumn("{task.completed}/{task.total}"),
        TimeElapsedColumn(),
        console=err_console,
        transient=False,
    ) as progress:
        task = progress.add_task(title, total=len(stages))
        seen: list[str] = []

        def mark(stage: str) -> None:
            if seen:
                progress.advance(task)
            seen.append(stage)
            progress.update(task, description=f"{title}: {stage}")

        yield mark
        progress.update(task, completed=len(stages), description=f"{title}: done")


class _Rate(ProgressColumn):
    """Items per second so far (Rich's own speed column is for bytes)."""

    def __init__(self, unit: str) -> None:
        super().__init__()
        self.unit = unit

    def render(self, task: Task) -> Text:
        elapsed = task.elapsed or 0.0
        rate = task.completed / elapsed if elapsed > 0 and task.completed else None
        return Text(f"{rate:,.0f} {self.unit}/s" if rate is not None else f"- {self.unit}/s", style="cyan")


@contextmanager
def count_progress(title: str, total: int, unit: str | None = None) -> Iterator[Callable[[int], None]]:
    """A Rich progress bar over `total` items; yields a callback that advances it by n. With `unit`, it also
    shows the items done, items per second and the time left."""
    columns = [*Progress.get_default_columns(), MofNCompleteColumn(), _Rate(unit)] if unit else []
    with Progress(*columns, console=err_console) as progress:
        task = progress.add_task(title, total=total)
        yield lambda n: progress.advance(task, n)


@contextmanager
def rows_progress(title: str, unit: str = "rows") -> Iterator[Callable[[int, float], None]]:
    """A Rich progress bar over a file read in chunks: yields a callback taking the rows read so far and
    the share of the file they are; the total shown is the rows that share projects, exact at the end."""
    columns = [*Progress.get_default_columns(), MofNCompleteColumn(), _Rate(unit)]
    with Progress(*columns, console=err_console) as progress:
        task = progress.add_task(title, total=None)

        def advance(done: int, share: float) -> None:
            total = done if share >= 1.0 else max(done, round(done / share)) if share > 0 else None
            progress.update(task, completed=done, total=total)

        yield advance


def summary_table(title: str, rows: dict[str, object]) -> Table:
    """A two-column table of named figures (user text in it is shown as it is, not as markup)."""
    table = Table(title=Text(title), show_header=False, title_justify="left")
    table.add_column("what", style="bold")
    table.add_column("value", justify="right")
    for key, value in rows.items():
        table.add_row(Text(key), Text(f"{value:,}" if isinstance(value, int) else str(value)))
    return table


def counts_table(title: str, first: str, counts: dict[str, int], share_of: int | None = None) -> Table:
    """A table of counts by name (optionally with each count's share of `share_of`), with a total."""
    table = Table(title=Text(title), title_justify="left")
    table.add_column(first)
    table.add_column("lines" if share_of else "rows", justify="right")
    if share_of:
        table.add_column("share", justify="right")
    total = sum(counts.values())
    for name, n in [*counts.items(), ("total", total)]:
        share = [f"{n / share_of:.2%}"] if share_of else []
        table.add_row(Text(str(name)), f"{n:,}", *share)
    return table


# the holdout report --------------------------------------------------------------------------------
def _rate(key: str) -> str:
    return key.removeprefix("at_").replace("pct", "%")


def rates_table(report: dict[str, Any], against: str) -> Table:
    """Precision, recall and value caught at each inspection rate, model beside the rules baseline."""
    title = {
        "outcomes": "against inspection outcomes (inspected lines)",
        "exploration": "against outcomes weighted by inverse propensity (estimates over all lines)",
        "truth": "against ground truth (all lines)",
    }
    table = Table(title=f"model vs rules baseline, {title[against]}", title_justify="left")
    table.add_column("rate")
    for name in ("model", "base"):
        for metric in ("prec", "recall", "value"):
            table.add_column(f"{name} {metric}", justify="right")
    for key in report["model"][against]["rates"]:
        row = [_rate(key)]
        for name in ("model", "baseline"):
            r = report[name][against]["rates"][key]
            row += [f"{r['precision']:.3f}", f"{r['recall']:.3f}", f"{r['value_caught']:.3f}"]
        table.add_row(*row)
    for metric in ("pr_auc", "roc_auc"):
        if metric not in report["model"][against]:
            continue
        model, base = report["model"][against][metric], report["baseline"][against][metric]
        table.add_row(metric.upper().replace("_", "-"), f"{model:.3f}", "", "", f"{base:.3f}", "", "")
    return table


def schemes_table(report: dict[str, Any]) -> Table:
    """Recall per circumvention scheme and over never-inspected lines, model / baseline."""
    truth = report["model"]["truth"]
    keys = list(truth["rates"])
    table = Table(title="recall per scheme against ground truth (model / baseline)", title_justify="left")
    table.add_column("scheme")
    table.add_column("lines", justify="right")
    for key in keys:
        table.add_column(_rate(key), justify="right")
    rows = {**truth["schemes"], "never inspected": truth["never_inspected"]}
    if "listed_parties" in truth:
        rows["listed parties"] = truth["listed_parties"]
    base = report["baseline"]["truth"]
    special = {"never inspected": "never_inspected", "listed parties": "listed_parties"}
    for name, part in rows.items():
        other = base.get(special[name]) if name in special else base["schemes"].get(name)
        cells = [
            f"{part['recall'][k]:.2f} / {other['recall'][k]:.2f}" if other else f"{part['recall'][k]:.2f}"
            for k in keys
        ]
        table.add_row(name, f"{part['positives']:,}", *cells)
    return table


def print_report(report: dict[str, Any], period: str = "the holdout") -> None:
    """Every table of a holdout report; when `period` has no outcomes, a warning instead of their table
    (last, so it is not lost above the tables)."""
    from roundabout.training.metrics import no_outcomes_warning

    absent = no_outcomes_warning(report, period)
    if not absent:
        console.print(rates_table(report, "outcomes"))
    explored = report["model"].get("exploration", {})
    if explored and "absent" not in explored:
        console.print(rates_table(report, "exploration"))
        console.print(
            f"exploration sample: {explored['sample_lines']:,} lines drawn and inspected, "
            f"{explored['sample_violations']:,} violations ({explored.get('sample_violation_rate', 0):.2%}); "
            f"estimated prevalence of violations over all lines {explored['prevalence']:.2%}"
        )
    elif explored:
        console.print(f"[dim]no inverse-propensity figures: {explored['absent']}[/dim]")
    if "truth" in report["model"]:
        console.print(rates_table(report, "truth"))
        console.print(schemes_table(report))
    calib = report["model"]["outcomes"].get("calibration")
    if calib:
        outcomes = report["model"]["outcomes"]
        console.print(
            f"calibration on inspected lines: Brier {calib['brier']:.4f}, ECE {calib['ece']:.4f} "
            f"({outcomes['lines']:,} lines, {outcomes['positives']:,} violations)"
        )
    if absent:
        warning(absent)


def raw_baseline_table(report: dict[str, Any], against: str) -> Table:
    """The model beside a plain LightGBM on the raw columns, and by how much it does better."""
    table = Table(
        title=f"model vs a plain LightGBM on the raw columns, against {against}", title_justify="left"
    )
    for column in ("rate", "model prec", "raw prec", "better by", "model recall", "raw recall"):
        table.add_column(column, justify="right" if column != "rate" else "left")
    for key, row in report["model"][against]["rates"].items():
        raw = report["raw_lightgbm"][against]["rates"][key]
        diff = row["precision"] - raw["precision"]
        table.add_row(_rate(key), f"{row['precision']:.3f}", f"{raw['precision']:.3f}", f"{diff:+.3f}",
                      f"{row['recall']:.3f}", f"{raw['recall']:.3f}")  # fmt: skip
    model, raw = report["model"][against]["pr_auc"], report["raw_lightgbm"][against]["pr_auc"]
    table.add_row("PR-AUC", f"{model:.3f}", f"{raw:.3f}", f"{model - raw:+.3f}", "", "")
    return table


def search_summary(fitted_search: Any, unusable: dict[str, str]) -> dict[str, object]:
    """What the run learnt from the data: inputs unusable, families added and dropped, whether tuning took."""
    rows: dict[str, object] = {"inputs unusable (missing or constant)": len(unusable)}
    if fitted_search is None:
        return rows
    if fitted_search.skipped:
        rows["search"] = f"skipped: {fitted_search.skipped}"
    if fitted_search.selection is not None:
        rows["families added"] = ", ".join(fitted_search.added) or "none"
        rows["families dropped"] = ", ".join(fitted_search.dropped) or "none"
    if fitted_search.tuning is not None:
        t = fitted_search.tuning
        rows["tuning"] = f"{t.trials} trials; " + ("best taken" if t.taken else "the defaults held")
    return rows


def print_training(result: Any) -> None:
    """The holdout report and the run's summary (id, counts, version, alias and why) of a `TrainResult`."""
    print_report(result.report)
    if "raw_lightgbm" in result.report and "absent" not in result.report["model"]["outcomes"]:
        console.print(raw_baseline_table(result.report, "outcomes"))
    console.print(summary_table("learnt from the data", search_summary(result.search, result.unusable)))
    rows: dict[str, object] = {"run id": result.run_id, **result.counts}
    if result.version is not None and result.decision is not None:
        alias = result.decision.alias or "none"
        rows |= {"model version": result.version, "alias": alias, "why": result.decision.reason}
    console.print(summary_table("training run", rows))
