"""Command bodies of `--engine dask`: the same jobs as the in-process ones, run on a Dask cluster
(`cluster.py`) over a folder read lazily (`data/dask_io.py`)."""

from pathlib import Path
from typing import TYPE_CHECKING

from roundabout.cli.cluster import compute_with_progress, dask_client
from roundabout.cli.render import console, say, summary_table
from roundabout.errors import writing
from roundabout.settings import Settings

if TYPE_CHECKING:
    from roundabout.models.risk_model import RiskModel

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
    from roundabout.data.dask_io import read_inspections, read_lines_dask
    from roundabout.data.io import extra_columns_of
    from roundabout.features import FeatureArtifacts
    from roundabout.features.dask_executor import dask_features

    lines = read_lines_dask(data)  # checked before a cluster starts: a bad folder fails fast
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
            client, dask_features(lines, inspections, fitted, screening), "features"
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
    from roundabout.data.dask_io import read_inspections, read_lines_dask
    from roundabout.models.dask_scoring import dask_scores

    lines = read_lines_dask(data)
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
