"""Command bodies of `--engine dask`: the same jobs as the in-process ones, run on a Dask cluster
(`cluster.py`) over a folder read lazily (`data/dask_io.py`)."""

from pathlib import Path
from typing import TYPE_CHECKING, Any

from roundabout.cli.cluster import compute_with_progress, dask_client
from roundabout.cli.render import console, say, summary_table
from roundabout.errors import writing
from roundabout.settings import Settings

if TYPE_CHECKING:
    from roundabout.models.mlflow_service import MlflowService
    from roundabout.models.risk_model import RiskModel
    from roundabout.parties.index import ScreeningIndex
    from roundabout.training import TrainConfig, TrainResult
    from roundabout.training.split import Split

#: Lines sampled to fit feature artifacts when none are given (their statistics are medians and shares).
ARTIFACT_SAMPLE = 1_000_000


def dask_features_command(
    settings: Settings,
    data: Path,
    out: Path,
    artifacts: Path | None,
    cluster: tuple[str | None, int | None, str | None],
) -> None:
    """`roundabout features --engine dask`: the features of every line of DATA into the Parquet folder
    OUT, one file per partition."""
    import shutil

    from roundabout.cli.parties import store_screening
    from roundabout.data.dask_io import line_parts, read_inspections
    from roundabout.data.io import extra_columns_of
    from roundabout.features import FeatureArtifacts
    from roundabout.features.dask_executor import dask_features

    parts = line_parts(data)  # checked before a cluster starts: a bad folder fails fast
    lines = parts.frame()
    inspections = read_inspections(data)
    screening = store_screening(settings)
    with dask_client(*cluster) as client:
        saved_to = None
        if artifacts is None:
            total = int(lines.map_partitions(len).sum().compute())
            share = min(1.0, ARTIFACT_SAMPLE / max(total, 1))
            sample = (lines.sample(frac=share, random_state=0) if share < 1 else lines).compute()
            fitted = FeatureArtifacts().fit(sample, inspections, extra_columns_of(data))
            with writing(out.parent):
                saved_to = fitted.save(out.parent / f"{out.name}_artifacts")
            say(f"artifacts fitted on {len(sample):,} of {total:,} lines")
        else:
            fitted = FeatureArtifacts.load(artifacts)
        features = compute_with_progress(
            client, dask_features(parts, inspections, fitted, screening), "features"
        )
        with writing(out):
            if out.is_file():
                out.unlink()
            shutil.rmtree(out, ignore_errors=True)
            features.to_parquet(out, write_index=True)
        n = int(features.map_partitions(len).sum().compute())
    console.print(summary_table("features (Dask)", {"lines": n, "features": len(features.columns),
                                                     "artifacts": fitted.content_hash[:12]}))  # fmt: skip
    say(f"wrote {out} (a folder of Parquet parts)" + (f", artifacts {saved_to}" if saved_to else ""))


def dask_score_command(
    settings: Settings,
    model: "RiskModel",
    data: Path,
    out: Path,
    cluster: tuple[str | None, int | None, str | None],
) -> dict[str, object]:
    """`roundabout score --engine dask`: the scores of every line of DATA into the Parquet folder OUT (the
    columns of the in-process command), and the counts it printed."""
    import shutil

    from roundabout.cli.parties import store_screening
    from roundabout.cli.store_calls import selection_key_of
    from roundabout.data.dask_io import line_parts, read_inspections
    from roundabout.models.dask_scoring import dask_scores

    lines = line_parts(data)
    inspections = read_inspections(data)
    screening = store_screening(settings)
    key = selection_key_of(settings) if model.policy.rate else None
    with dask_client(*cluster) as client:
        scores = compute_with_progress(
            client, dask_scores(lines, inspections, model, screening, key), "score"
        )
        with writing(out):
            if out.is_file():
                out.unlink()
            shutil.rmtree(out, ignore_errors=True)
            scores.to_parquet(out, write_index=False)
        counts = scores[["channel", "selection"]].compute()
    channels = counts["channel"].value_counts()
    rows: dict[str, object] = {"lines": len(counts)}
    rows |= {f"channel {c}": int(channels.get(c, 0)) for c in ("red", "yellow", "green")}
    rows["drawn for exploration"] = int((counts["selection"] == "exploration").sum())
    console.print(summary_table(f"scored {data} (Dask)", rows))
    say(f"wrote {out} (a folder of Parquet parts)")
    return rows


def dask_train(
    data: Path,
    service: "MlflowService",
    config: "TrainConfig",
    experiment: str | None,
    register: str | None,
    screening: "ScreeningIndex | None",
    draw_lines: int,
    cluster: tuple[str | None, int | None, str | None],
) -> "TrainResult":
    """`roundabout train --engine dask`: the train job with the history's features computed on Dask and
    the model fitted on the lines a fit reads (`training/dask_split.py`)."""
    from roundabout.cli.render import stage_progress
    from roundabout.data.dask_io import line_parts
    from roundabout.training import TRAIN_STAGES
    from roundabout.training import train as run_training
    from roundabout.training.dask_split import dask_split

    line_parts(data)  # checked before a cluster starts: a bad folder fails fast
    with dask_client(*cluster) as client:

        def compute(collection: Any) -> Any:
            return client.compute(collection, sync=True)

        def load(folder: Path, cfg: "TrainConfig") -> "Split":
            return dask_split(folder, cfg.split, compute, screening, draw_lines)

        with stage_progress(TRAIN_STAGES, "train (Dask)") as mark:
            return run_training(data, service, config, experiment, register, mark, screening, load)


def dask_evaluate(
    service: "MlflowService",
    model: str,
    data: Path,
    since: str | None,
    screening: "ScreeningIndex | None",
    draw_lines: int,
    cluster: tuple[str | None, int | None, str | None],
) -> dict[str, Any]:
    """`roundabout evaluate --engine dask`: the evaluate job on a uniform draw of the folder's lines (every
    line when there are at most `draw_lines`), their features as of the whole history, on Dask."""
    from roundabout.cli.render import stage_progress
    from roundabout.data.dask_io import line_parts
    from roundabout.training import EVALUATE_STAGES, evaluate_model
    from roundabout.training.dask_split import Drawn, draw_history

    line_parts(data)  # checked before a cluster starts: a bad folder fails fast
    with dask_client(*cluster) as client:

        def compute(collection: Any) -> Any:
            return client.compute(collection, sync=True)

        def load(folder: Path) -> Drawn:
            return draw_history(folder, compute, screening, draw_lines)

        with stage_progress(EVALUATE_STAGES, "evaluate (Dask)") as mark:
            return evaluate_model(
                service, model, data, since=since, mark=mark, screening=screening, load=load
            )
