"""The one console command, `roundabout`, with a sub-command per job.

Commands stay thin: they parse options, call the package that does the work, and print a summary. Errors a
user can fix (bad file, bad mapping) exit with code 2 and a message, never a traceback.
"""

from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import TYPE_CHECKING, Annotated

import typer
from rich.console import Console
from rich.progress import BarColumn, Progress, SpinnerColumn, TextColumn, TimeElapsedColumn
from rich.table import Table

from roundabout.errors import RoundaboutError
from roundabout.settings import get_settings
from roundabout.yaml_config import describe_errors

if TYPE_CHECKING:
    from roundabout.models.mlflow_service import MlflowService

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


def mlflow_service() -> "MlflowService":
    """The MLflow adapter of the settings."""
    from roundabout.models.mlflow_service import MlflowService

    settings = get_settings()
    return MlflowService(
        settings.mlflow_tracking_uri, settings.mlflow_artifact_root, settings.registered_model
    )


def summary_table(title: str, rows: dict[str, object]) -> Table:
    """A two-column table of named figures."""
    table = Table(title=title, show_header=False, title_justify="left")
    table.add_column("what", style="bold")
    table.add_column("value", justify="right")
    for key, value in rows.items():
        table.add_row(key, f"{value:,}" if isinstance(value, int) else str(value))
    return table


@app.command()
def simulate(
    out: Annotated[Path | None, typer.Option(help="Folder to write [default: settings data folder]")] = None,
    lines: Annotated[int | None, typer.Option(help="Number of goods lines [default: 100,000]")] = None,
    seed: Annotated[int | None, typer.Option(help="Random seed; same seed, same bytes [default: 7]")] = None,
    start: Annotated[str | None, typer.Option(help="First day, YYYY-MM-DD [default: 2021-01-01]")] = None,
    end: Annotated[str | None, typer.Option(help="Last day, YYYY-MM-DD [default: 2024-12-31]")] = None,
    config: Annotated[Path | None, typer.Option(help="YAML file of SimulationConfig options")] = None,
) -> None:
    """Simulate Kazakhstan's customs trade 2021-2024 with planted circumvention, inspections and truth."""
    from datetime import date

    from pydantic import ValidationError

    from roundabout.data.io import write_folder
    from roundabout.simulation import STAGES, SimulationConfig
    from roundabout.simulation import simulate as run_simulation

    options: dict[str, object] = {"n_lines": lines, "seed": seed}
    for name, text in (("start", start), ("end", end)):
        if text is not None:
            try:
                options[name] = date.fromisoformat(text)
            except ValueError:
                raise fail(f"--{name}: {text!r} is not a date (YYYY-MM-DD)") from None
    try:
        if config is not None:
            cfg = SimulationConfig.from_yaml(config, **options)
        else:
            cfg = SimulationConfig(**{k: v for k, v in options.items() if v is not None})
    except ValidationError as exc:
        raise fail(f"bad simulation options: {describe_errors(exc, root='config')}") from None
    except RoundaboutError as exc:
        raise fail(exc.message) from None
    target = out or get_settings().data_dir
    try:
        with stage_progress([*STAGES, "write"], "simulate") as mark:
            world = run_simulation(cfg, progress=mark)
            mark("write")
            write_folder(world, target, manifest={"simulation": cfg.model_dump(mode="json")})
    except OSError as exc:
        raise fail(f"cannot write {target}: {exc}") from None
    frame = world.lines
    kinds = frame.groupby(["document_kind", "direction"]).size()
    rows: dict[str, object] = {"lines": len(frame), "documents": frame["document_id"].nunique()}
    rows |= {f"{kind} {direction}": int(n) for (kind, direction), n in kinds.items()}
    violations = world.inspections["outcome"].eq("violation")
    rows |= {"inspections": len(world.inspections), "violations found": int(violations.sum())}
    console.print(summary_table(f"simulated world (seed {cfg.seed}, {cfg.start} to {cfg.end})", rows))
    truth = world.truth
    schemes = truth.loc[truth["is_circumvention"], "scheme"].value_counts().sort_index()
    table = Table(title="circumvention lines (ground truth)", title_justify="left")
    table.add_column("scheme")
    table.add_column("lines", justify="right")
    table.add_column("share", justify="right")
    for name, n in schemes.items():
        table.add_row(str(name), f"{n:,}", f"{n / len(frame):.2%}")
    table.add_row("[bold]total", f"{schemes.sum():,}", f"{schemes.sum() / len(frame):.2%}")
    console.print(table)
    console.print(f"wrote {target}")


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


@app.command()
def features(
    data: Annotated[Path, typer.Option(help="Canonical data folder (lines.parquet, inspections.parquet)")],
    out: Annotated[Path, typer.Option(help="Parquet file to write the features to (one row per line)")],
    artifacts: Annotated[
        Path | None,
        typer.Option(help="Saved feature artifacts to use; default: fit them on DATA and save beside OUT"),
    ] = None,
) -> None:
    """Build the point-in-time batch features of a canonical data folder and print a summary."""
    from roundabout.data.io import read_folder
    from roundabout.features import ArtifactsError, FeatureArtifacts, build_features
    from roundabout.features.summary import feature_summary

    stages = ["read data", "artifacts", "columns", "goods, route, value", "history", "finalize", "write"]
    try:
        with stage_progress(stages, "features") as mark:
            mark("read data")
            canonical = read_folder(data)
            mark("artifacts")
            if artifacts is None:
                fitted = FeatureArtifacts().fit(
                    canonical.lines, canonical.inspections, canonical.extra_columns
                )
                saved_to = fitted.save(out.parent / f"{out.stem}_artifacts")
            else:
                fitted, saved_to = FeatureArtifacts.load(artifacts), None
            mark("columns")
            after = {1: "goods, route, value", 2: "history", 3: "finalize"}
            frame = build_features(
                canonical, fitted, progress=lambda done, _total, _what: after.get(done) and mark(after[done])
            )
            mark("write")
            out.parent.mkdir(parents=True, exist_ok=True)
            frame.to_parquet(out)
    except (FileNotFoundError, ArtifactsError) as exc:
        raise fail(str(exc)) from None
    except OSError as exc:
        raise fail(f"cannot write {out}: {exc}") from None
    overview, nulls, distributions = feature_summary(frame)
    console.print(summary_table("features", {**overview, "artifacts": fitted.content_hash[:12]}))
    console.print(nulls)
    console.print(distributions)
    where = f", artifacts {saved_to}" if saved_to else ""
    console.print(f"wrote {out}{where}")


def export_store(out: Path) -> Path:
    """Write the service store's lines and outcomes as a canonical data folder (to train from)."""
    from sqlalchemy.exc import SQLAlchemyError

    from roundabout.data.io import write_folder
    from roundabout.features.store import FeatureStore

    store = FeatureStore()
    try:
        data = store.to_canonical()
    except SQLAlchemyError as exc:
        raise fail(f"cannot read the store {store.url}: {type(exc).__name__}") from None
    finally:
        store.dispose()
    if data.lines.empty:
        raise fail(f"the store {store.url} holds no lines yet")
    write_folder(data, out, {"source": "store"})
    console.print(f"exported {len(data.lines):,} lines and {len(data.inspections):,} outcomes from the store")
    return out


@app.command()
def train(
    data: Annotated[Path | None, typer.Option(help="Canonical data folder (the training history)")] = None,
    from_store: Annotated[
        bool, typer.Option("--from-store", help="Train on the lines and outcomes the service has stored")
    ] = False,
    config: Annotated[
        Path | None, typer.Option(help="YAML file of TrainConfig options (docs/models.md)")
    ] = None,
    experiment: Annotated[str | None, typer.Option(help="MLflow experiment [default: roundabout]")] = None,
    register: Annotated[str | None, typer.Option(help="Registered model name [default: roundabout]")] = None,
) -> None:
    """Train the risk model, evaluate it on the holdout, log to MLflow, register and maybe promote it."""
    from roundabout.training import TRAIN_STAGES, TrainConfig
    from roundabout.training import train as run_training
    from roundabout.training.report import print_report

    try:
        cfg = TrainConfig.from_yaml(config) if config is not None else TrainConfig()
    except RoundaboutError as exc:
        raise fail(exc.message) from None
    if (data is None) == (not from_store):
        raise fail("give exactly one of --data DIR and --from-store")
    if from_store:
        data = export_store(get_settings().home / "from-store")
    assert data is not None
    if not (data / "lines.parquet").exists():
        raise fail(f"{data} is not a canonical data folder (lines.parquet missing)")
    try:
        with stage_progress(TRAIN_STAGES, "train") as mark:
            result = run_training(data, mlflow_service(), cfg, experiment, register, mark)
    except RoundaboutError as exc:
        raise fail(exc.message) from None
    except (FileNotFoundError, ValueError) as exc:
        raise fail(str(exc)) from None
    print_report(result.report, console)
    rows: dict[str, object] = {"run id": result.run_id, **result.counts}
    if result.version is not None and result.decision is not None:
        rows |= {
            "model version": result.version,
            "alias": result.decision.alias,
            "why": result.decision.reason,
        }
    console.print(summary_table("training run", rows))


@app.command()
def evaluate(
    model: Annotated[str, typer.Option(help="Model URI, e.g. models:/roundabout@champion or runs:/ID/model")],
    data: Annotated[Path, typer.Option(help="Canonical data folder to evaluate on")],
    since: Annotated[
        str | None,
        typer.Option(
            help="Evaluate lines from this date on, YYYY-MM-DD [default: the model's holdout period]"
        ),
    ] = None,
) -> None:
    """Re-evaluate a registered or logged model on a canonical data folder and print the report."""
    from roundabout.training import EVALUATE_STAGES, evaluate_model
    from roundabout.training.report import print_report

    if not (data / "lines.parquet").exists():
        raise fail(f"{data} is not a canonical data folder (lines.parquet missing)")
    try:
        with stage_progress(EVALUATE_STAGES, "evaluate") as mark:
            report = evaluate_model(mlflow_service(), model, data, since=since, mark=mark)
    except RoundaboutError as exc:
        raise fail(exc.message) from None
    except (FileNotFoundError, ValueError) as exc:
        raise fail(str(exc)) from None
    print_report(report, console)
    meta = report["meta"]
    console.print(summary_table("evaluated", meta))
    console.print(
        f"evaluated {meta['lines']:,} lines of {data}: {meta['period']}, {meta['since']} to {meta['until']}",
        markup=False,
        highlight=False,
        soft_wrap=True,
    )


@app.command()
def serve(
    host: Annotated[str, typer.Option(help="Interface to bind")] = "127.0.0.1",
    port: Annotated[int, typer.Option(help="Port to listen on")] = 8000,
    workers: Annotated[int, typer.Option(min=1, help="Worker processes (each loads the model)")] = 1,
) -> None:
    """Run the scoring API under uvicorn; it loads models:/<name>@champion and follows the alias."""
    import uvicorn

    uvicorn.run(
        "roundabout.serving.app:create_app",
        factory=True,
        host=host,
        port=port,
        workers=workers,
        log_level="info",
        access_log=False,
    )


@app.command()
def score(
    model: Annotated[str, typer.Option(help="Model URI, e.g. models:/roundabout@champion")],
    data: Annotated[Path, typer.Option(help="Canonical data folder to score")],
    out: Annotated[Path, typer.Option(help="Parquet file of scores to write")],
    explain: Annotated[
        bool, typer.Option(help="Add reasons and contributions, as JSON text columns (slower)")
    ] = False,
) -> None:
    """Score every line of a canonical data folder offline (features included) and write the scores."""
    from roundabout.data.io import read_folder

    try:
        with stage_progress(["load model", "read data", "features and scores", "write"], "score") as mark:
            mark("load model")
            risk_model = mlflow_service().load_model(model)
            mark("read data")
            folder = read_folder(data)
            mark("features and scores")
            scores = risk_model.score_data(folder, explain=explain)
            mark("write")
            out.parent.mkdir(parents=True, exist_ok=True)
            scores.to_parquet(out, index=False)  # line_id, scores; reasons as JSON text
    except RoundaboutError as exc:
        raise fail(exc.message) from None
    except FileNotFoundError as exc:
        raise fail(str(exc)) from None
    counts = scores["channel"].value_counts()
    rows: dict[str, object] = {"lines": len(scores)}
    rows |= {f"channel {c}": int(counts.get(c, 0)) for c in ("red", "yellow", "green")}
    console.print(summary_table(f"scored {data}", rows))
    console.print(f"wrote {out}")


keys_app = typer.Typer(help="API keys.", no_args_is_help=True)
app.add_typer(keys_app, name="keys")


@keys_app.command("new")
def keys_new(
    key_id: Annotated[str, typer.Option("--id", help="Name shown in logs and the audit trail")],
    scopes: Annotated[str, typer.Option(help="Comma-separated: score, feedback, admin")] = "score",
) -> None:
    """Make a key: prints the key once (give it to the caller) and the entry for ROUNDABOUT_API_KEYS."""
    import json

    from pydantic import ValidationError

    from roundabout.serving.keys import ApiKey, hash_key, new_key

    key = new_key()
    try:
        entry = ApiKey(
            id=key_id, sha256=hash_key(key), scopes=[s.strip() for s in scopes.split(",") if s.strip()]
        )
    except ValidationError as exc:
        raise fail(f"bad key options: {describe_errors(exc, root='key')}") from None
    console.print(f"key (shown once): {key}")
    console.print("configuration entry:")
    console.print_json(json.dumps(entry.model_dump(mode="json")))


@app.command()
def backfill(
    data: Annotated[Path, typer.Option(help="Canonical data folder to add to the service store")],
    chunk: Annotated[int, typer.Option(min=1, help="Lines per transaction")] = 10_000,
) -> None:
    """Add a canonical folder's lines and outcomes to the service's online store (idempotent)."""
    from rich.progress import Progress
    from sqlalchemy.exc import SQLAlchemyError

    from roundabout.data.io import read_folder
    from roundabout.features.records import InvalidRecordError
    from roundabout.features.store import FeatureStore

    try:
        folder = read_folder(data)
    except FileNotFoundError as exc:
        raise fail(str(exc)) from None
    lines = folder.lines.sort_values(["date", "line_id"], kind="stable").reset_index(drop=True)
    store = FeatureStore()
    added = 0
    try:
        store.create_schema()
        with Progress(console=err_console) as progress:
            task = progress.add_task("backfill lines", total=len(lines))
            for start in range(0, len(lines), chunk):
                added += store.add_lines(lines.iloc[start : start + chunk])
                progress.advance(task, min(chunk, len(lines) - start))
        outcomes = store.add_outcomes(folder.inspections) if len(folder.inspections) else 0
        store.analyze()
    except InvalidRecordError as exc:
        raise fail(f"{data}: {exc}") from None
    except SQLAlchemyError as exc:
        raise fail(f"cannot write the store {store.url}: {type(exc).__name__}") from None
    finally:
        store.dispose()
    rows = {"lines read": len(lines), "lines new": added, "outcomes new": outcomes}
    console.print(summary_table(f"backfilled {store.url}", rows))


@app.command()
def demo(
    lines: Annotated[int, typer.Option(help="Lines of simulated history")] = 100_000,
    port: Annotated[int, typer.Option(help="Port of the API")] = 8000,
    serve_api: Annotated[bool, typer.Option("--serve/--no-serve", help="Serve the API at the end")] = True,
) -> None:
    """The main job on the embedded defaults: simulate a history, train, register, serve the API."""
    import json
    import os

    from roundabout.serving.keys import hash_key, new_key
    from roundabout.serving.schemas import EXAMPLE_LINE

    settings = get_settings()
    data_dir = settings.data_dir
    console.rule("1/4 simulate")
    simulate(out=data_dir, lines=lines, seed=None, start=None, end=None, config=None)
    console.rule("2/4 train and register")
    train(data=data_dir)
    console.rule("3/4 load the history into the service store")
    backfill(data=data_dir)
    console.rule("4/4 serve")
    key = new_key()
    entry = {"id": "demo", "sha256": hash_key(key), "scopes": ["score", "feedback", "admin"]}
    os.environ["ROUNDABOUT_API_KEYS"] = json.dumps([entry])
    get_settings.cache_clear()
    body = json.dumps({"lines": [EXAMPLE_LINE], "explain": True, "top_k": 5})
    console.print("Score a line with reasons (paste into another terminal once the API says it is ready):")
    console.print(
        f"curl -s -X POST http://127.0.0.1:{port}/v1/score -H 'X-API-Key: {key}' "
        f"-H 'Content-Type: application/json' -d '{body}'",
        soft_wrap=True,
        highlight=False,
        markup=False,
    )
    console.print(f"MLflow UI: mlflow ui --backend-store-uri {settings.mlflow_tracking_uri}", highlight=False)
    if serve_api:
        serve(host="127.0.0.1", port=port, workers=1)


if __name__ == "__main__":
    app()
