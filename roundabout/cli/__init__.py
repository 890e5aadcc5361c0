"""The one console command, `roundabout`, with a sub-command per job (`roundabout.cli:app`).

Commands only parse options, call library functions and render (`render.py`); they are grouped by area:
`data.py` (simulate, ingest, features), `model.py` (train, evaluate, score), `service.py` (serve,
backfill, keys), `parties.py` (lists, screen), `monitor.py`, `loop.py` and `demo.py`. The entry reads the
settings once (`ctx.obj`). A `RoundaboutError` raised anywhere below is reported in one place,
`ReportingGroup.invoke`: `error: <message>` on stderr, exit code `exc.exit_code` (2 for what the user can
fix), never a traceback;
anything else is a defect and shows one.
"""

from typing import Annotated, Any

import typer
from pydantic import ValidationError
from typer.core import TyperGroup

from roundabout.cli import audit, data, demo, loop, model, monitor, parties, service
from roundabout.cli.render import error, say
from roundabout.errors import ConfigError, RoundaboutError
from roundabout.settings import get_settings, settings_problems


class ReportingGroup(TyperGroup):
    """The command group that turns a `RoundaboutError` from any command into its message and exit code."""

    def invoke(self, ctx: typer.Context) -> Any:
        try:
            return super().invoke(ctx)
        except RoundaboutError as exc:
            error(exc.message)
            raise typer.Exit(exc.exit_code) from None


app = typer.Typer(
    name="roundabout",
    cls=ReportingGroup,
    help="Circumvention risk scoring for customs goods lines.",
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_enable=False,
)


def _version(value: bool) -> None:
    if value:
        from importlib.metadata import version

        say(f"roundabout {version('roundabout')}")
        raise typer.Exit()


@app.callback()
def main(
    ctx: typer.Context,
    version: Annotated[
        bool, typer.Option("--version", callback=_version, is_eager=True, help="Show the version and exit")
    ] = False,
) -> None:
    """Circumvention risk scoring for customs goods lines (Kazakhstan, EAEU)."""
    try:
        ctx.obj = get_settings()
    except ValidationError as exc:  # a ROUNDABOUT_* variable the settings cannot take
        raise ConfigError(settings_problems(exc)) from None


for command in (data.simulate, data.ingest, data.features, model.train, model.evaluate, model.score):
    app.command()(command)
for command in (
    service.serve,
    service.backfill,
    parties.screen,
    demo.demo,
    loop.simulate_loop,
    monitor.monitor,
):
    app.command()(command)
app.add_typer(audit.audit_app, name="audit")
app.add_typer(service.keys_app, name="keys")
app.add_typer(service.store_app, name="store")
app.add_typer(parties.lists_app, name="lists")

__all__ = ["app"]
