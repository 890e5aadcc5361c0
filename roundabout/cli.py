"""The one console command, `roundabout`, with a sub-command per job.

Commands stay thin: they parse options, call the package that does the work, and print a summary. Errors a
user can fix (bad file, bad mapping) exit with code 2 and a message, never a traceback.
"""

from pathlib import Path
from typing import Annotated

import typer
from rich.console import Console

app = typer.Typer(
    name="roundabout",
    help="Circumvention risk scoring for customs goods lines.",
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_enable=False,
)
console = Console()
err_console = Console(stderr=True)


def fail(message: str, code: int = 2) -> typer.Exit:
    """Print a user-facing error and return the exit to raise."""
    err_console.print(f"[bold red]error:[/] {message}")
    return typer.Exit(code)


_ = (Path, Annotated)
