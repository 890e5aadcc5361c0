"""The one console command, `roundabout`, with a sub-command per job.

Commands stay thin: they parse options, call the package that does the work, and print a summary. Errors a
user can fix (bad file, bad mapping) exit with code 2 and a message, never a traceback.
"""

from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Annotated

import typer
from rich.console import Console
from rich.progress import BarColumn, Progress, SpinnerColumn, TextColumn, TimeElapsedColumn
from rich.table import Table

from roundabout.settings import get_settings

app = typer.Typer(
    name="roundabout",
    help="Circumvention risk scoring for customs goods lines.",
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_enable=False,
)
console = Console()
err_console = Console(stderr=True, soft_wrap=True)


def _version(value: bool) -> None:
    if value:
        from importlib.metadata import version

        console.print(f"roundabout {version('roundabout')}")
        raise typer.Exit()


@app.callback()
def main(
    version: Annotated[
        bool, typer.Option("--version", callback=_version, is_eager=True, help="Show the version and exit")
    ] = False,
) -> None:
    """Circumvention risk scoring for customs goods lines (Kazakhstan, EAEU)."""


def fail(message: str, code: int = 2) -> typer.Exit:
    """Print a user-facing error and return the exit to raise."""
    err_console.print(f"[bold red]error:[/] {message}")
    return typer.Exit(code)


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


def summary_table(title: str, rows: dict[str, object]) -> Table:
    """A two-column table of named figures."""
    table = Table(title=title, show_header=False, title_justify="left")
    table.add_column("what", style="bold")
    table.add_column("value", justify="right")
    for key, value in rows.items():
        table.add_row(key, f"{value:,}" if isinstance(value, int) else str(value))
    return table


@app.command()
def ingest(
    source: Annotated[Path, typer.Option(help="CSV or Parquet file in the administration's own columns")],
    mapping: Annotated[Path, typer.Option(help="Mapping YAML (see docs/ingest.md)")],
    out: Annotated[Path, typer.Option(help="Canonical data folder to write")],
) -> None:
    """Map, validate and load an administration's file; bad rows go to OUT/rejects.csv with reasons."""
    from roundabout.data.ingest import ingest as run_ingest
    from roundabout.data.mapping import MappingError, load_mapping
    from roundabout.data.validation import FormatRules

    settings = get_settings()
    base = FormatRules(min_date=settings.min_date, max_date=settings.latest_date())
    try:
        spec = load_mapping(mapping)
        with stage_progress(["read", "map", "validate", "write"], "ingest") as mark:
            result = run_ingest(source, spec, out, base, on_stage=mark)
    except MappingError as exc:
        raise fail(str(exc)) from None
    except OSError as exc:
        raise fail(f"cannot write {out}: {exc}") from None
    for name, summary in (("lines", result.lines), ("inspections", result.inspections)):
        if summary is None:
            continue
        counts = {
            "rows read": summary.rows_read,
            "loaded": summary.rows_loaded,
            "rejected": summary.rows_rejected,
        }
        console.print(summary_table(f"{name}", counts))
        if summary.by_reason:
            reasons = Table(title=f"{name} rejected, by reason", title_justify="left")
            reasons.add_column("field: reason")
            reasons.add_column("rows", justify="right")
            for reason, n in summary.by_reason.items():
                reasons.add_row(reason, f"{n:,}")
            console.print(reasons)
    console.print(f"wrote {result.out} (rejects: {result.rejects_path})")
