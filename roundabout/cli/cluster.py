"""The Dask cluster a command with `--engine dask` runs on: the scheduler at `--scheduler`, or a
`LocalCluster` sized to this machine (a worker per core, one thread each, memory split between them), and
a Rich progress bar fed by the scheduler's own progress of a computation."""

import logging
import os
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from enum import StrEnum
from typing import TYPE_CHECKING, Annotated, Any

import typer
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn

from roundabout.cli.render import err_console, say
from roundabout.errors import ConfigError, UnavailableError

if TYPE_CHECKING:
    from distributed import Client


class Engine(StrEnum):
    """Where batch work runs."""

    pandas = "pandas"
    dask = "dask"


#: The options of a command that can run on Dask (`features`, `train`, `evaluate`, `score`).
EngineOption = Annotated[
    Engine,
    typer.Option(
        help="pandas: in this process; dask: on a Dask cluster, OUT a folder of Parquet parts (docs/scale.md)"
    ),
]
SchedulerOption = Annotated[
    str | None,
    typer.Option(help="--engine dask: the scheduler's address (default: a LocalCluster on this machine)"),
]
WorkersOption = Annotated[
    int | None, typer.Option(min=1, help="--engine dask, LocalCluster: worker processes [default: cores]")
]
WorkerMemoryOption = Annotated[
    str | None,
    typer.Option(help="--engine dask, LocalCluster: memory limit per worker, e.g. 4GB [default: 80% split]"),
]

#: Lines drawn uniformly from a history on Dask for what estimates something of all its lines
#: (`training/dask_split.py`).
DRAW_LINES = 1_000_000
DrawLinesOption = Annotated[
    int,
    typer.Option(
        min=1,
        help="--engine dask: lines drawn uniformly from the history for the anomaly detectors, thresholds "
        "and the holdout (every labelled training line is kept besides)",
    ),
]

#: Labelled training lines above which `train --engine dask` fits the classifier with LightGBM's Dask
#: estimator (and sets its rounds by an early-stopped fit on this many of them).
DASK_CLASSIFIER_LINES = 2_000_000
DaskClassifierOption = Annotated[
    int,
    typer.Option(
        min=1,
        help="--engine dask: labelled training lines above which the classifier is fitted by LightGBM's "
        "Dask estimator across the workers (its rounds from an early-stopped fit on this many)",
    ),
]

#: Share of this machine's memory a LocalCluster's workers may hold together.
MEMORY_SHARE = 0.8


def _machine_memory() -> int:
    import psutil

    return int(psutil.virtual_memory().total)


@contextmanager
def dask_client(scheduler: str | None, workers: int | None, worker_memory: str | None) -> Iterator["Client"]:
    """A client of the scheduler at `scheduler`, or of a LocalCluster of `workers` processes (default:
    one per core) each limited to `worker_memory` (default: 80% of the machine's memory split between
    them); closed, and the local cluster stopped, at the end of the block."""
    from dask.utils import parse_bytes
    from distributed import Client, LocalCluster

    # every shuffle logs its start and end at WARNING: not news for a person running a command
    logging.getLogger("distributed.shuffle").setLevel(logging.ERROR)
    if scheduler is not None:
        try:
            client = Client(scheduler, timeout="10s")
        except (OSError, TimeoutError) as exc:
            raise UnavailableError(f"cannot reach the Dask scheduler at {scheduler}: {exc}") from None
        with client:
            _announce(client, f"scheduler {scheduler}")
            yield client
        return
    n = workers or os.cpu_count() or 1
    try:
        limit = parse_bytes(worker_memory) if worker_memory else int(_machine_memory() * MEMORY_SHARE / n)
    except ValueError:
        raise ConfigError(f"--worker-memory: not a size: {worker_memory!r} (e.g. 4GB)") from None
    with (
        LocalCluster(
            n_workers=n, threads_per_worker=1, memory_limit=limit, dashboard_address=":0"
        ) as cluster,
        Client(cluster) as client,
    ):
        _announce(client, f"a LocalCluster of {n} workers, {limit / 2**30:.1f} GiB each")
        yield client


def _announce(client: "Client", what: str) -> None:
    workers = len(client.scheduler_info().get("workers", {}))
    say(f"Dask: {what} ({workers} workers connected); dashboard {client.dashboard_link}")


def compute_with_progress(client: "Client", collection: Any, title: str) -> Any:
    """`collection` computed on the cluster, persisted there, with a Rich bar of its tasks done; the
    persisted collection."""
    from distributed import futures_of
    from distributed.diagnostics.progressbar import TextProgressBar

    persisted = client.persist(collection)
    with Progress(
        TextColumn(f"[bold]{title}"),
        BarColumn(),
        MofNCompleteColumn(),
        TextColumn("tasks"),
        TimeElapsedColumn(),
        console=err_console,
    ) as progress:
        task = progress.add_task(title, total=None)

        class _RichBar(TextProgressBar):  # the scheduler's progress feed, drawn with Rich
            def _draw_bar(self, remaining: int, all: int, **kwargs: Any) -> None:
                progress.update(task, total=all, completed=all - remaining)

            def _draw_stop(self, **kwargs: Any) -> None:
                pass

        _RichBar(futures_of(persisted), scheduler=client.scheduler.address)
    return persisted


def computer(client: "Client") -> Callable[[Any], Any]:
    """A function computing a collection on `client`'s cluster into local objects (inside a job whose
    own progress is shown, so without a bar of its own). A frame's partitions come to this process one
    by one and are put together here: Dask's own `compute` of a frame first puts them together on one
    worker, which a large result kills."""
    import dask.dataframe as dd
    import pandas as pd

    def compute(collection: Any) -> Any:
        if isinstance(collection, dd.DataFrame | dd.Series):
            parts = client.compute(collection.to_delayed(), sync=True)
            return pd.concat(parts) if parts else collection._meta
        return client.compute(collection, sync=True)

    return compute
