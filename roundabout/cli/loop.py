"""`roundabout simulate-loop`: months of deployment of several selection policies on one simulated world
(`roundabout.loop`), with a summary table, CSV files, the curves as PNG and an MLflow run."""

import logging
import os
from pathlib import Path
from typing import TYPE_CHECKING, Annotated

import typer
from rich.table import Table

from roundabout.cli.model import mlflow_service_of
from roundabout.cli.render import console, say, stage_progress
from roundabout.errors import writing

if TYPE_CHECKING:
    import pandas as pd


def simulate_loop(
    ctx: typer.Context,
    out: Annotated[Path | None, typer.Option(help="Folder for results and work [default: HOME/loop]")] = None,
    config: Annotated[Path | None, typer.Option(help="YAML file of LoopConfig options")] = None,
    lines: Annotated[int | None, typer.Option(help="Goods lines of the world [default: 150,000]")] = None,
    periods: Annotated[int | None, typer.Option(help="Periods of deployment [default: 12]")] = None,
    seed: Annotated[
        int | None, typer.Option(help="Seed of world, draws and inspections [default: 7]")
    ] = None,
    policies: Annotated[
        str | None,
        typer.Option(help="Comma-separated names of the default policies to run [default: all seven]"),
    ] = None,
) -> None:
    """Simulate months of deployment: each policy selects inspections under the same capacity, the simulator
    returns outcomes, the model is retrained and promoted on schedule; compare greedy with exploration."""
    from roundabout.errors import ConfigError
    from roundabout.loop.config import LoopConfig, default_policies
    from roundabout.loop.report import log, summary, write
    from roundabout.loop.run import run_loop, stages
    from roundabout.models.mlflow_service import MlflowService
    from roundabout.yaml_config import validate_options

    given = {k: v for k, v in {"lines": lines, "periods": periods, "seed": seed}.items() if v is not None}
    if policies is not None:
        known = {p.name: p for p in default_policies()}
        names = [n.strip() for n in policies.split(",") if n.strip()]
        if unknown := [n for n in names if n not in known]:
            raise ConfigError(f"--policies: unknown {', '.join(unknown)} (known: {', '.join(known)})")
        given["policies"] = [known[n] for n in names]
    if config is not None:
        base = LoopConfig.from_yaml(config).model_dump()
        cfg = validate_options(LoopConfig, {**base, **given}, "loop options")
    else:
        cfg = validate_options(LoopConfig, given, "loop options")
    # dozens of trainings: MLflow's per-model notices and download bars would bury the progress bar
    logging.getLogger("mlflow").setLevel(logging.ERROR)
    os.environ.setdefault("MLFLOW_ENABLE_ARTIFACTS_PROGRESS_BAR", "false")
    folder = out or ctx.obj.home / "loop"
    with writing(folder):
        folder.mkdir(parents=True, exist_ok=True)
    # the loop's own registry and runs stay in the folder: its many versions are not the service's
    private = MlflowService(
        f"sqlite:///{(folder / 'mlflow.db').resolve()}", (folder / "mlartifacts").resolve()
    )
    with stage_progress([*stages(cfg), "report"], "simulate-loop") as mark:
        result = run_loop(cfg, folder, private, mark)
        mark("report")
        paths = write(result, folder)
        run_id = log(result, mlflow_service_of(ctx.obj))
    console.print(summary_table(summary(result)))
    say(f"wrote {', '.join(str(p) for p in paths.values())}; MLflow run {run_id} (experiment 'loop')")


def summary_table(frame: "pd.DataFrame") -> Table:
    """The summary, a column per policy and a row per measure (docs/loop.md says what each means)."""
    table = Table(title="policies compared (docs/loop.md)", title_justify="left")
    table.add_column("measure")
    for policy in frame.index:
        table.add_column(str(policy), justify="right")
    for column in frame.columns:
        cells = []
        for value in frame[column]:
            if value is None or (isinstance(value, float) and value != value):
                cells.append("-")
            elif isinstance(value, float) and not value.is_integer():
                cells.append(f"{value:.3f}" if abs(value) < 10 else f"{value:,.1f}")
            else:
                cells.append(f"{int(value):,}")
        table.add_row(column.replace("_", " "), *cells)
    return table
