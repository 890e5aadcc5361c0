"""Model commands: `train`, `evaluate` and `score` (offline), all through the one MLflow adapter."""

from pathlib import Path
from typing import TYPE_CHECKING, Annotated

import typer

from roundabout.cli.cluster import (
    DASK_CLASSIFIER_LINES,
    DRAW_LINES,
    DaskClassifierOption,
    DrawLinesOption,
    Engine,
    EngineOption,
    SchedulerOption,
    WorkerMemoryOption,
    WorkersOption,
)
from roundabout.cli.parties import store_screening
from roundabout.cli.render import (
    console,
    note,
    print_report,
    print_training,
    say,
    stage_progress,
    summary_table,
)
from roundabout.errors import ConfigError, NotFoundError, writing
from roundabout.settings import Settings

if TYPE_CHECKING:
    from roundabout.models.mlflow_service import MlflowService


def mlflow_service_of(settings: Settings) -> "MlflowService":
    """The MLflow adapter of the settings: their tracking URI, artifact root and registered model."""
    from roundabout.models.mlflow_service import MlflowService

    return MlflowService(
        settings.mlflow_tracking_uri,
        settings.mlflow_artifact_root,
        settings.registered_model,
        settings.mlflow_request_retries,
        settings.mlflow_request_timeout_seconds,
    )


def train(
    ctx: typer.Context,
    data: Annotated[Path | None, typer.Option(help="Canonical data folder (the training history)")] = None,
    from_store: Annotated[
        bool, typer.Option("--from-store", help="Train on the lines and outcomes the service has stored")
    ] = False,
    config: Annotated[
        Path | None, typer.Option(help="YAML file of TrainConfig options (docs/models.md)")
    ] = None,
    experiment: Annotated[str | None, typer.Option(help="MLflow experiment [default: roundabout]")] = None,
    register: Annotated[str | None, typer.Option(help="Registered model name [default: roundabout]")] = None,
    budget: Annotated[
        float | None,
        typer.Option(
            min=0,
            help="Minutes to select input families and tune the classifier on the validation period "
            "(0: none) [default: search.budget_minutes, 1]",
        ),
    ] = None,
    engine: EngineOption = Engine.pandas,
    scheduler: SchedulerOption = None,
    workers: WorkersOption = None,
    worker_memory: WorkerMemoryOption = None,
    draw_lines: DrawLinesOption = DRAW_LINES,
    dask_classifier_lines: DaskClassifierOption = DASK_CLASSIFIER_LINES,
) -> None:
    """Train the risk model, evaluate it on the holdout, log to MLflow, register and maybe promote it."""
    from roundabout.cli.store_calls import export_store
    from roundabout.errors import ConfigError
    from roundabout.training import TRAIN_STAGES, TrainConfig
    from roundabout.training import train as run_training

    settings: Settings = ctx.obj
    cfg = TrainConfig.from_yaml(config) if config is not None else TrainConfig()
    if budget is not None:
        cfg = cfg.model_copy(update={"search": cfg.search.model_copy(update={"budget_minutes": budget})})
    if (data is None) == (not from_store):
        raise ConfigError("give exactly one of --data DIR and --from-store")
    if from_store:
        data = export_store(settings, settings.home / "from-store")
    assert data is not None
    require_data_folder(data)
    screening = store_screening(settings)
    service = mlflow_service_of(settings)
    if engine is Engine.dask:
        from roundabout.cli.scale import dask_train

        result = dask_train(
            data, service, cfg, experiment, register, screening, (draw_lines, dask_classifier_lines),
            (scheduler, workers, worker_memory),
        )  # fmt: skip
    else:
        with stage_progress(TRAIN_STAGES, "train") as mark:
            result = run_training(data, service, cfg, experiment, register, mark, screening)
    print_training(result)


def evaluate(
    ctx: typer.Context,
    model: Annotated[str, typer.Option(help="Model URI, e.g. models:/roundabout@champion or runs:/ID/model")],
    data: Annotated[Path, typer.Option(help="Canonical data folder to evaluate on")],
    since: Annotated[
        str | None,
        typer.Option(
            help="Evaluate lines from this date on, YYYY-MM-DD [default: the model's holdout period]"
        ),
    ] = None,
    history: Annotated[
        list[Path] | None,
        typer.Option(
            help="History folder of DATA (repeat for several, oldest first): features see its lines and "
            "outcomes; the outcomes in DATA are only the labels measured against (a held-out file)"
        ),
    ] = None,
    engine: EngineOption = Engine.pandas,
    scheduler: SchedulerOption = None,
    workers: WorkersOption = None,
    worker_memory: WorkerMemoryOption = None,
    draw_lines: DrawLinesOption = DRAW_LINES,
) -> None:
    """Re-evaluate a registered or logged model on a canonical data folder and print the report."""
    from roundabout.training import EVALUATE_STAGES, evaluate_model

    require_data_folder(data)
    screening = store_screening(ctx.obj)
    service = mlflow_service_of(ctx.obj)
    if engine is Engine.dask:
        if history:
            raise ConfigError("--engine dask: --history is not available on Dask yet")
        from roundabout.cli.scale import dask_evaluate

        cluster = (scheduler, workers, worker_memory)
        report = dask_evaluate(service, model, data, since, screening, draw_lines, cluster)
    else:
        with stage_progress(EVALUATE_STAGES, "evaluate") as mark:
            report = evaluate_model(
                service, model, data, since=since, mark=mark, history=history or (), screening=screening
            )
    meta = report["meta"]
    print_report(report, f"the evaluated period ({meta['since']} to {meta['until']})")
    console.print(summary_table("evaluated", meta))
    beside = f", after the history {meta['history']}" if history else ""
    say(
        f"evaluated {meta['lines']:,} lines of {data}: {meta['period']}, {meta['since']} to {meta['until']}"
        + beside
    )


def score(
    ctx: typer.Context,
    model: Annotated[str, typer.Option(help="Model URI, e.g. models:/roundabout@champion")],
    data: Annotated[Path, typer.Option(help="Canonical data folder to score")],
    out: Annotated[Path, typer.Option(help="Parquet file of scores to write")],
    explain: Annotated[
        bool, typer.Option(help="Add reasons and contributions, as JSON text columns (slower)")
    ] = False,
    history: Annotated[
        list[Path] | None,
        typer.Option(
            help="History folder of DATA (repeat for several, oldest first): features see its lines and "
            "outcomes, never the outcomes in DATA; only the lines of DATA are scored"
        ),
    ] = None,
    engine: EngineOption = Engine.pandas,
    scheduler: SchedulerOption = None,
    workers: WorkersOption = None,
    worker_memory: WorkerMemoryOption = None,
) -> None:
    """Score every line of a canonical data folder offline (features included) and write the scores."""
    if engine is Engine.dask:
        if history:
            raise ConfigError("--engine dask: --history is not available on Dask yet")
        from roundabout.cli.scale import dask_score_command

        model_obj = mlflow_service_of(ctx.obj).load_model(model)
        cluster = (scheduler, workers, worker_memory)
        rows = dask_score_command(ctx.obj, model_obj, data, out, cluster, explain)
        seq = _audit_score_run(ctx.obj, model, data, history, out, rows)
        if seq is not None:
            note(f"recorded in the audit trail of the service store as record {seq}")
        return
    from roundabout.cli.store_calls import selection_key_of
    from roundabout.data.history import read_history
    from roundabout.data.io import read_folder

    with stage_progress(["load model", "read data", "features and scores", "write"], "score") as mark:
        mark("load model")
        risk_model = mlflow_service_of(ctx.obj).load_model(model)
        mark("read data")
        folder = read_folder(data)
        past = read_history(history) if history else None
        mark("features and scores")
        screening = store_screening(ctx.obj)
        key = selection_key_of(ctx.obj) if risk_model.policy.rate else None
        scores = risk_model.score_data(folder, explain, None, past, screening, key)
        mark("write")
        with writing(out):
            out.parent.mkdir(parents=True, exist_ok=True)
            scores.to_parquet(out, index=False)
    counts = scores["channel"].value_counts()
    rows: dict[str, object] = {"lines": len(scores)}
    rows |= {f"channel {c}": int(counts.get(c, 0)) for c in ("red", "yellow", "green")}
    rows["drawn for exploration"] = int((scores["selection"] == "exploration").sum())
    console.print(summary_table(f"scored {data}", rows))
    seq = _audit_score_run(ctx.obj, model, data, history, out, rows)
    if seq is None:
        note("no service store with an audit trail (ROUNDABOUT_STORE_URL): this run is recorded nowhere")
    else:
        note(f"recorded in the audit trail of the service store as record {seq}")
    if past is not None and len(folder.inspections):
        note(
            f"the {len(folder.inspections):,} inspection outcomes in {data} were ignored: with --history, "
            "features take outcomes from the history only"
        )
    say(f"wrote {out}")


def _audit_score_run(
    settings: Settings,
    model: str,
    data: Path,
    history: list[Path] | None,
    out: Path,
    counts: dict[str, object],
) -> int | None:
    """The run's audit record: the model, the data's fingerprint (a hash of its files' content), the counts
    and a hash of the scores written."""
    from roundabout.cli.store_calls import audit
    from roundabout.training.fingerprint import content_hash

    content = {
        "model": model,
        "data": str(data.resolve()),
        "data_sha256": content_hash([data]),
        "history": [str(h.resolve()) for h in history or []],
        "history_sha256": content_hash(list(history)) if history else None,
        "out": str(out.resolve()),
        "out_sha256": _sha256_of(out),
        **{k.replace(" ", "_"): v for k, v in counts.items()},
    }
    return audit(settings, "score_run", model, content)


def _sha256_of(out: Path) -> str:
    """SHA-256 of a scores file, or of a folder of Parquet parts (their names and bytes, in name order)."""
    import hashlib

    if out.is_file():
        return hashlib.sha256(out.read_bytes()).hexdigest()
    digest = hashlib.sha256()
    for part in sorted(p for p in out.rglob("*") if p.is_file()):
        digest.update(str(part.relative_to(out)).encode())
        digest.update(part.read_bytes())
    return digest.hexdigest()


def require_data_folder(data: Path) -> None:
    """Fail early, before any model is loaded or fitted, when `data` is not a canonical data folder."""
    from roundabout.data.io import LINES_FILE, has_lines

    if not has_lines(data):
        raise NotFoundError(f"{data} is not a canonical data folder ({LINES_FILE} or lines/ missing)")
