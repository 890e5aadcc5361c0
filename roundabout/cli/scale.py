"""Command bodies of `--engine dask`: the same jobs as the in-process ones, run on a Dask cluster
(`cluster.py`) over a folder read lazily (`data/dask_io.py`)."""

from pathlib import Path
from typing import TYPE_CHECKING, Any

from roundabout.cli.cluster import compute_with_progress, computer, dask_client
from roundabout.cli.render import console, say, summary_table
from roundabout.errors import writing
from roundabout.settings import Settings

if TYPE_CHECKING:
    from roundabout.models.classifier import RiskClassifier
    from roundabout.models.mlflow_service import MlflowService
    from roundabout.models.risk_model import RiskModel
    from roundabout.parties.index import ScreeningIndex
    from roundabout.training import TrainConfig, TrainResult
    from roundabout.training.split import Split

#: Lines sampled to fit feature artifacts when none are given (their statistics are medians and shares).
ARTIFACT_SAMPLE = 1_000_000


def _clear(out: Path) -> None:
    """Make way for an output folder of parts (a file or an older folder there is replaced)."""
    import shutil

    if out.is_file():
        out.unlink()
    shutil.rmtree(out, ignore_errors=True)


def _rows_in(out: Path) -> int:
    """Rows of the Parquet parts in `out`, from their footers."""
    import pyarrow.parquet as pq

    return sum(pq.ParquetFile(f).metadata.num_rows for f in sorted(out.glob("*.parquet")))


def dask_features_command(
    settings: Settings,
    data: Path,
    out: Path,
    artifacts: Path | None,
    cluster: tuple[str | None, int | None, str | None],
) -> None:
    """`roundabout features --engine dask`: the features of every line of DATA into the Parquet folder
    OUT, one file per partition."""
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
            sample = computer(client)(lines.sample(frac=share, random_state=0) if share < 1 else lines)
            fitted = FeatureArtifacts().fit(sample, inspections, extra_columns_of(data))
            with writing(out.parent):
                saved_to = fitted.save(out.parent / f"{out.name}_artifacts")
            say(f"artifacts fitted on {len(sample):,} of {total:,} lines")
        else:
            fitted = FeatureArtifacts.load(artifacts)
        features = dask_features(parts, inspections, fitted, screening)
        with writing(out):
            _clear(out)
            # written by the workers as each partition is done: the features are never held whole
            compute_with_progress(
                client, features.to_parquet(out, write_index=True, compute=False), "features"
            )
    n = _rows_in(out)
    console.print(summary_table("features (Dask)", {"lines": n, "features": len(features.columns),
                                                     "artifacts": fitted.content_hash[:12]}))  # fmt: skip
    say(f"wrote {out} (a folder of Parquet parts)" + (f", artifacts {saved_to}" if saved_to else ""))


def dask_score_command(
    settings: Settings,
    model: "RiskModel",
    data: Path,
    out: Path,
    cluster: tuple[str | None, int | None, str | None],
    explain: bool = False,
) -> dict[str, object]:
    """`roundabout score --engine dask`: the scores of every line of DATA into the Parquet folder OUT (the
    columns of the in-process command), and the counts it printed."""
    import pandas as pd

    from roundabout.cli.parties import store_screening
    from roundabout.cli.store_calls import selection_key_of
    from roundabout.data.dask_io import line_parts, read_inspections
    from roundabout.models.dask_scoring import dask_scores

    lines = line_parts(data)
    inspections = read_inspections(data)
    screening = store_screening(settings)
    key = selection_key_of(settings) if model.policy.rate else None
    with dask_client(*cluster) as client:
        scores = dask_scores(lines, inspections, model, screening, key, explain)
        with writing(out):
            _clear(out)
            compute_with_progress(client, scores.to_parquet(out, write_index=False, compute=False), "score")
    counts = pd.read_parquet(out, columns=["channel", "selection"])
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
    lines: tuple[int, int],
    cluster: tuple[str | None, int | None, str | None],
) -> "TrainResult":
    """`roundabout train --engine dask`: the train job with the history's features computed on Dask and
    the model fitted on the lines a fit reads (`training/dask_split.py`); `lines`: the lines drawn, and
    the labelled training lines above which the classifier is fitted on Dask too."""
    from roundabout.cli.render import stage_progress
    from roundabout.data.dask_io import line_parts
    from roundabout.models.dask_classifier import fit_on_dask
    from roundabout.training import TRAIN_STAGES
    from roundabout.training import train as run_training
    from roundabout.training.dask_split import dask_split

    draw_lines, classifier_lines = lines
    line_parts(data)  # checked before a cluster starts: a bad folder fails fast
    with dask_client(*cluster) as client:
        compute = computer(client)

        def load(folder: Path, cfg: "TrainConfig") -> "Split":
            return dask_split(folder, cfg.split, compute, screening, draw_lines)

        def fit_classifier(classifier: "RiskClassifier", *args: Any) -> "RiskClassifier":
            if len(args[1]) <= classifier_lines:
                return classifier.fit(*args)
            return fit_on_dask(classifier, client, *args, sample_rows=classifier_lines)

        with stage_progress(TRAIN_STAGES, "train (Dask)") as mark:
            result = run_training(
                data, service, config, experiment, register, mark, screening, load, fit_classifier
            )
    fitted_with = result.model.classifier.fitted_with
    say(f"classifier: {fitted_with}" if fitted_with else "classifier: fitted in this process")
    return result


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
        compute = computer(client)

        def load(folder: Path) -> Drawn:
            return draw_history(folder, compute, screening, draw_lines)

        with stage_progress(EVALUATE_STAGES, "evaluate (Dask)") as mark:
            return evaluate_model(
                service, model, data, since=since, mark=mark, screening=screening, load=load
            )
