"""Data commands: `simulate` a world, `ingest` an administration's file, build `features`."""

from datetime import date
from pathlib import Path
from typing import TYPE_CHECKING, Annotated

import typer

from roundabout.cli.cluster import Engine, EngineOption, SchedulerOption, WorkerMemoryOption, WorkersOption
from roundabout.cli.render import console, counts_table, rows_progress, say, stage_progress, summary_table
from roundabout.errors import ConfigError, writing
from roundabout.settings import Settings

if TYPE_CHECKING:
    from roundabout.simulation import SimulationConfig


def simulate(
    ctx: typer.Context,
    out: Annotated[Path | None, typer.Option(help="Folder to write [default: settings data folder]")] = None,
    lines: Annotated[int | None, typer.Option(help="Number of goods lines [default: 100,000]")] = None,
    seed: Annotated[int | None, typer.Option(help="Random seed; same seed, same bytes [default: 7]")] = None,
    start: Annotated[str | None, typer.Option(help="First day, YYYY-MM-DD [default: 2021-01-01]")] = None,
    end: Annotated[str | None, typer.Option(help="Last day, YYYY-MM-DD [default: 2024-12-31]")] = None,
    config: Annotated[Path | None, typer.Option(help="YAML file of SimulationConfig options")] = None,
    shape: Annotated[
        str | None,
        typer.Option(
            help="kazakh: every line as Kazakh customs holds it; foreign: the world's DT imports as another "
            "administration would hand them over, plus OUT/source/declarations.csv and mapping.yaml "
            "[default: kazakh]"
        ),
    ] = None,
    partitioned: Annotated[
        bool,
        typer.Option(
            "--partitioned",
            help="Write the lines as a dataset of month partitions (OUT/lines/month=YYYY-MM/), for large "
            "histories (docs/architecture.md, data folders)",
        ),
    ] = False,
) -> None:
    """Simulate Kazakhstan's customs trade 2021-2024 with planted circumvention, inspections and truth."""
    from roundabout.simulation import SimulationConfig
    from roundabout.yaml_config import validate_options

    options = {
        "n_lines": lines,
        "seed": seed,
        "start": _date("start", start),
        "end": _date("end", end),
        "shape": shape,
    }
    if config is not None:
        cfg = SimulationConfig.from_yaml(config, **options)
    else:
        given = {k: v for k, v in options.items() if v is not None}
        cfg = validate_options(SimulationConfig, given, "simulation options")
    simulate_into(cfg, out or ctx.obj.data_dir, partitioned)


#: Where a simulated world's data folder holds the sanctions list the world publishes.
SANCTIONS_LIST = "sanctions/targets.simple.csv"


def simulate_into(cfg: "SimulationConfig", out: Path, partitioned: bool = False) -> None:
    """Simulate the world of `cfg` into `out`, with a progress bar, and show what it holds."""
    from roundabout.data.io import write_folder
    from roundabout.simulation import stages
    from roundabout.simulation.handover import SOURCE_FOLDER, write_source
    from roundabout.simulation.parties.publish import write_targets
    from roundabout.simulation.world import simulate_world

    with stage_progress([*stages(cfg), "write"], "simulate") as mark:
        simulated = simulate_world(cfg, progress=mark)
        world = simulated.data
        mark("write")
        listed = write_targets(simulated.sanctions, out / SANCTIONS_LIST)
        manifest = {"simulation": cfg.model_dump(mode="json"), "sanctions_list": SANCTIONS_LIST}
        write_folder(world, out, manifest=manifest, partitioned=partitioned)
        if cfg.shape == "foreign":
            with writing(out / SOURCE_FOLDER):
                source, mapping = write_source(world, out / SOURCE_FOLDER)
    frame = world.lines
    kinds = frame.groupby(["document_kind", "direction"]).size()
    rows: dict[str, object] = {
        "shape": cfg.shape,
        "lines": len(frame),
        "documents": frame["document_id"].nunique(),
    }
    rows |= {f"{kind} {direction}": int(n) for (kind, direction), n in kinds.items()}
    violations = world.inspections["outcome"].eq("violation")
    rows |= {"inspections": len(world.inspections), "violations found": int(violations.sum())}
    console.print(summary_table(f"simulated world (seed {cfg.seed}, {cfg.start} to {cfg.end})", rows))
    truth = world.truth
    assert truth is not None
    schemes = truth.loc[truth["is_circumvention"], "scheme"].value_counts().sort_index()
    counts = {str(name): int(n) for name, n in schemes.items()}
    console.print(counts_table("circumvention lines (ground truth)", "scheme", counts, share_of=len(frame)))
    if "listed_party" in truth.columns:
        say(
            f"the world's sanctions list: {len(simulated.sanctions):,} entries in {listed} (load it with "
            f"`roundabout lists load --format opensanctions --path {listed} --name simulated`); "
            f"{int(truth['listed_party'].sum()):,} lines involve a listed party"
        )
    say(f"wrote {out}")
    if cfg.shape == "foreign":
        say(f"as the administration would hand it over: {source} (ingest mapping {mapping})")


def ingest(
    ctx: typer.Context,
    source: Annotated[
        list[str],
        typer.Option(
            help="CSV or Parquet file in the administration's own columns; for a mapping that joins tables, "
            "one NAME=FILE per file (e.g. --source header=h.csv --source items=i.csv)"
        ),
    ],
    mapping: Annotated[Path, typer.Option(help="Mapping YAML (see docs/ingest.md)")],
    out: Annotated[Path, typer.Option(help="Canonical data folder to write")],
    no_outcomes: Annotated[
        bool,
        typer.Option(
            "--no-outcomes",
            help="Load the lines only, even when the mapping names outcome columns (a held-out file: its "
            "labels must not reach training; see docs/models.md)",
        ),
    ] = False,
    append: Annotated[
        bool,
        typer.Option(
            "--append",
            help="Add to the folder OUT already holds: new lines added, exact repeats skipped, changed lines "
            "replaced (the old version kept in OUT/superseded_*.parquet); all or nothing",
        ),
    ] = False,
    partitioned: Annotated[
        bool,
        typer.Option(
            "--partitioned",
            help="Write the lines as a dataset of month partitions (OUT/lines/month=YYYY-MM/): a day "
            "appended later rewrites only its month; a folder appended to keeps its layout",
        ),
    ] = False,
    chunk_rows: Annotated[
        int | None,
        typer.Option(
            min=1,
            help="Goods-line rows read, checked and written at a time: memory depends on this, not on the "
            "file's length (the tables the lines join to are read whole) [default: 200,000]",
        ),
    ] = None,
) -> None:
    """Map, validate and load an administration's file; bad rows go to OUT/rejects.csv with reasons."""
    from roundabout.data.ingest import ingest as run_ingest
    from roundabout.data.mapping import load_mapping
    from roundabout.data.sources import CHUNK_ROWS
    from roundabout.data.validation import FormatRules

    settings: Settings = ctx.obj
    base = FormatRules(min_date=settings.min_date, max_date=settings.latest_date())
    spec = load_mapping(mapping)
    named = dict(part.split("=", 1) for part in source if "=" in part and "/" not in part.split("=", 1)[0])
    files: Path | dict[str, Path] = {k: Path(v) for k, v in named.items()}
    if not named:
        if len(source) != 1:
            raise ConfigError("--source: give one file, or NAME=FILE for each table the mapping joins")
        files = Path(source[0])
    main = spec.tables[spec.main_table].file or spec.main_table if spec.main_table else None
    shown = Path(named[main]).name if main in named else Path(source[0]).name
    with rows_progress(f"ingest {shown}") as advance:
        result = run_ingest(
            files,
            spec,
            out,
            base,
            outcomes=not no_outcomes,
            append=append,
            chunk_rows=chunk_rows or CHUNK_ROWS,
            on_rows=advance,
            partitioned=partitioned,
        )
    for name, summary in (("lines", result.lines), ("inspections", result.inspections)):
        if summary is None:
            continue
        counts = {"rows read": summary.rows_read, "loaded": summary.rows_loaded}
        console.print(summary_table(name, counts | {"rejected": summary.rows_rejected}))
        if summary.by_reason:
            console.print(
                counts_table(f"{name} rejected, by reason", "field: reason", dict(summary.by_reason))
            )
    for name, counts in (result.tables or {}).items():
        console.print(summary_table(f"table {name} joined to the goods lines", dict(counts)))
    for name, done in (result.appended or {}).items():
        console.print(summary_table(f"{name} appended to {out}", done.as_dict()))
    if no_outcomes:
        say("inspection outcomes: left out (--no-outcomes); the folder holds the lines only")
    say(f"wrote {result.out} (rejects: {result.rejects_path})")


def features(
    ctx: typer.Context,
    data: Annotated[Path, typer.Option(help="Canonical data folder (lines.parquet, inspections.parquet)")],
    out: Annotated[Path, typer.Option(help="Parquet file to write the features to (one row per line)")],
    artifacts: Annotated[
        Path | None,
        typer.Option(help="Saved feature artifacts to use; default: fit them on DATA and save beside OUT"),
    ] = None,
    engine: EngineOption = Engine.pandas,
    scheduler: SchedulerOption = None,
    workers: WorkersOption = None,
    worker_memory: WorkerMemoryOption = None,
) -> None:
    """Build the point-in-time batch features of a canonical data folder and print a summary."""
    if engine is Engine.dask:
        from roundabout.cli.scale import dask_features_command

        dask_features_command(ctx.obj, data, out, artifacts, (scheduler, workers, worker_memory))
        return
    from roundabout.cli.parties import store_screening
    from roundabout.data.io import read_folder
    from roundabout.features import FeatureArtifacts, build_features
    from roundabout.features.summary import feature_summary

    stages = ["read data", "artifacts", "columns", "goods, route, value", "history", "finalize", "write"]
    with stage_progress(stages, "features") as mark:
        mark("read data")
        canonical = read_folder(data)
        mark("artifacts")
        saved_to = None
        if artifacts is None:
            fitted = FeatureArtifacts().fit(canonical.lines, canonical.inspections, canonical.extra_columns)
            with writing(out.parent):
                saved_to = fitted.save(out.parent / f"{out.stem}_artifacts")
        else:
            fitted = FeatureArtifacts.load(artifacts)
        mark("columns")
        after = {1: "goods, route, value", 2: "history", 3: "finalize"}
        frame = build_features(
            canonical,
            fitted,
            progress=lambda done, _total, _what: after.get(done) and mark(after[done]),
            screening=store_screening(ctx.obj),
        )
        mark("write")
        with writing(out):
            out.parent.mkdir(parents=True, exist_ok=True)
            frame.to_parquet(out)
    overview, nulls, distributions = feature_summary(frame)
    console.print(summary_table("features", {**overview, "artifacts": fitted.content_hash[:12]}))
    console.print(nulls)
    console.print(distributions)
    say(f"wrote {out}" + (f", artifacts {saved_to}" if saved_to else ""))


def _date(option: str, text: str | None) -> date | None:
    """A `--start` / `--end` value as a date."""
    if text is None:
        return None
    try:
        return date.fromisoformat(text)
    except ValueError:
        raise ConfigError(f"--{option}: {text!r} is not a date (YYYY-MM-DD)") from None
