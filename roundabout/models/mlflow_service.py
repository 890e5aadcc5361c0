"""The one MLflow adapter: where tracking and artifacts go, experiments, runs, logging and registering the
risk model, aliases, loading a model from a URI, and the facts of a training run.

Everything that talks to MLflow goes through `MlflowService` (and `models/pyfunc.py`, the model's flavour),
so there is one tracking-URI rule and one place that knows MLflow's habits:

- The tracking URI is given (the settings' `mlflow_tracking_uri`: the standard `MLFLOW_TRACKING_URI`, else
  the embedded SQLite file `<home>/mlflow.db`). Without a tracking server, new experiments keep their
  artifacts under `artifact_root` (`<home>/mlartifacts`), not in `./mlruns` of whatever folder the command
  runs in; a tracking server keeps its own artifact root.
- Reading never creates anything: a SQLite store that does not exist raises `NotFoundError` naming the
  file, so a command run from the wrong folder says where it looked instead of making an empty store.
- MLflow's fluent calls (logging and loading a model) read a process-wide URI, and `mlflow.set_tracking_uri`
  also copies it into `MLFLOW_TRACKING_URI` for subprocesses. The service sets the URI before each such call
  and puts the variable back as it was, so a later settings read still sees only what the user set.
- Registered versions are tagged with the content hash of their training data and the hash of their
  training config, so a run on the same data and config can find the version it would make again.

Constructing the service does no work; the MLflow client is made on first use.
"""

import os
import tempfile
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import mlflow
import pandas as pd
from mlflow.entities import Metric, Param, RunTag
from mlflow.exceptions import MlflowException
from mlflow.tracking import MlflowClient

from roundabout.errors import ConfigError, NotFoundError, UnavailableError
from roundabout.models.pyfunc import load_risk_model, log_risk_model
from roundabout.models.risk_model import RiskModel

CHAMPION = "champion"
CHALLENGER = "challenger"
#: Prefix of the metrics a training run computes on its holdout (what `GET /v1/model` shows).
HOLDOUT_PREFIX = "holdout."
#: Where a training run keeps its plots.
PLOTS = "plots"
_ENV = "MLFLOW_TRACKING_URI"
_SERVERS = ("http://", "https://", "databricks")
_SQLITE = "sqlite:///"
#: MLflow's limits per `log_batch` call.
_PARAMS_PER_BATCH, _METRICS_PER_BATCH = 100, 1000


@dataclass(frozen=True)
class RegisteredVersion:
    """One version of a registered model."""

    name: str
    version: str
    run_id: str | None
    aliases: list[str] = field(default_factory=list)
    tags: dict[str, str] = field(default_factory=dict)


@dataclass(frozen=True)
class RunFacts:
    """What the service shows of a version's training run: when it started and its holdout metrics."""

    started_at: str | None
    holdout_metrics: dict[str, float]


class MlflowService:
    """MLflow for roundabout: tracking store, experiments, runs, the registry and model loading."""

    def __init__(
        self,
        tracking_uri: str,
        artifact_root: Path | None = None,
        registered_model: str = "roundabout",
        request_retries: int = 2,
        request_timeout_seconds: float = 30.0,
    ) -> None:
        self.tracking_uri = tracking_uri
        self.artifact_root = artifact_root
        self.registered_model = registered_model
        self.request_retries = request_retries
        self.request_timeout_seconds = request_timeout_seconds
        self._client: MlflowClient | None = None

    # where things go -------------------------------------------------------------------------------
    @property
    def sqlite_file(self) -> Path | None:
        """The database file of an embedded (SQLite) store, else None."""
        return (
            Path(self.tracking_uri.removeprefix(_SQLITE)) if self.tracking_uri.startswith(_SQLITE) else None
        )

    def _store(self, write: bool) -> MlflowClient:
        """The client; a missing SQLite store is created to write, and is an error to read."""
        path = self.sqlite_file
        if path is not None and not path.exists():
            if not write:
                raise NotFoundError(
                    f"no MLflow tracking store at {self.tracking_uri}: nothing was trained there. Run the "
                    "command where ROUNDABOUT_HOME points to the trained models, or set ROUNDABOUT_HOME or "
                    "MLFLOW_TRACKING_URI"
                )
            path.parent.mkdir(parents=True, exist_ok=True)
        if self._client is None:
            self._http_limits()
            self._client = MlflowClient(self.tracking_uri)
        return self._client

    def _http_limits(self) -> None:
        """Bound how long a call to a tracking server that is down takes to fail (MLflow reads these at
        each request; variables the user set are kept)."""
        limits = {
            "MLFLOW_HTTP_REQUEST_MAX_RETRIES": str(self.request_retries),
            "MLFLOW_HTTP_REQUEST_BACKOFF_FACTOR": "1",
            "MLFLOW_HTTP_REQUEST_TIMEOUT": str(int(max(1, self.request_timeout_seconds))),
        }
        for name, value in limits.items():
            os.environ.setdefault(name, value)

    def _use(self) -> None:
        """Point MLflow's fluent API at this store without leaving a copy in the environment."""
        before = os.environ.get(_ENV)
        mlflow.set_tracking_uri(self.tracking_uri)
        if before is None:
            os.environ.pop(_ENV, None)
        else:
            os.environ[_ENV] = before

    # experiments and runs --------------------------------------------------------------------------
    def experiment_id(self, name: str) -> str:
        """The experiment's id, creating it; without a tracking server its artifacts go to `artifact_root`."""
        client = self._store(write=True)
        experiment = client.get_experiment_by_name(name)
        if experiment is not None:
            return str(experiment.experiment_id)
        location = None
        if self.artifact_root is not None and not self.tracking_uri.startswith(_SERVERS):
            root = Path(self.artifact_root).resolve()
            root.mkdir(parents=True, exist_ok=True)
            location = root.as_uri()
        return str(client.create_experiment(name, artifact_location=location))

    @contextmanager
    def start_run(self, experiment: str) -> Iterator[str]:
        """A run of `experiment`, active for the block (its id is yielded); ended FAILED on an error."""
        experiment_id = self.experiment_id(experiment)
        self._use()
        with mlflow.start_run(experiment_id=experiment_id) as run:
            yield run.info.run_id

    def log_child_run(
        self,
        parent_run_id: str,
        name: str,
        params: Mapping[str, Any],
        metrics: Mapping[str, float],
    ) -> str:
        """A finished run nested under `parent_run_id` (MLflow shows it beneath its parent): one trial of a
        search, with what it tried and what it scored. Its id."""
        client = self._store(write=True)
        parent = client.get_run(parent_run_id)
        tags = {"mlflow.parentRunId": parent_run_id, "mlflow.runName": name}
        run = client.create_run(parent.info.experiment_id, tags=tags)
        run_id = str(run.info.run_id)
        self.log_params(run_id, {k: str(v) for k, v in params.items()})
        self.log_metrics(run_id, metrics)
        client.set_terminated(run_id)
        return run_id

    def log_params(self, run_id: str, params: Mapping[str, str]) -> None:
        items = [Param(k, str(v)) for k, v in params.items()]
        for start in range(0, len(items), _PARAMS_PER_BATCH):
            self._store(write=True).log_batch(run_id, params=items[start : start + _PARAMS_PER_BATCH])

    def log_metrics(self, run_id: str, metrics: Mapping[str, float]) -> None:
        now = int(datetime.now(UTC).timestamp() * 1000)
        items = [Metric(k, float(v), now, 0) for k, v in metrics.items()]
        for start in range(0, len(items), _METRICS_PER_BATCH):
            self._store(write=True).log_batch(run_id, metrics=items[start : start + _METRICS_PER_BATCH])

    def set_tags(self, run_id: str, tags: Mapping[str, str]) -> None:
        self._store(write=True).log_batch(run_id, tags=[RunTag(k, str(v)) for k, v in tags.items()])

    def log_dict(self, run_id: str, body: dict[str, Any], path: str) -> None:
        self._store(write=True).log_dict(run_id, body, path)

    def log_figure(self, run_id: str, figure: Any, path: str) -> None:
        self._store(write=True).log_figure(run_id, figure, path)

    def run_facts(self, run_id: str) -> RunFacts:
        """When a run started and its metrics under `holdout.` (only those: nothing else stands in)."""
        run = self._store(write=False).get_run(run_id)
        started = datetime.fromtimestamp(run.info.start_time / 1000, UTC).isoformat()
        metrics = {k: float(v) for k, v in run.data.metrics.items() if k.startswith(HOLDOUT_PREFIX)}
        return RunFacts(started, metrics)

    # the model -------------------------------------------------------------------------------------
    def log_model(self, model: RiskModel, input_example: pd.DataFrame) -> str:
        """Log the model to the active run (inside `start_run`); returns its URI (`models:/m-...`)."""
        self._use()
        return str(log_risk_model(model, input_example).model_uri)

    def register(self, model_uri: str, name: str, tags: Mapping[str, str] | None = None) -> str:
        """Register a logged model as a new version of `name` (tagged); returns the version number."""
        self._store(write=True)
        self._use()
        version = mlflow.register_model(model_uri, name, await_registration_for=0, tags=dict(tags or {}))
        return str(version.version)

    def load_model(self, uri: str) -> RiskModel:
        """The `RiskModel` at a model URI (`models:/name@alias`, `models:/name/3`, `runs:/...`, a folder)."""
        if uri.startswith(("models:/", "runs:/")):
            self._store(write=False)
        self._use()
        try:
            return load_risk_model(uri)
        except MlflowException as exc:
            if exc.error_code == "RESOURCE_DOES_NOT_EXIST":
                raise NotFoundError(f"model {uri} not found in {self.tracking_uri}: {exc.message}") from exc
            if "Max retries exceeded" in exc.message or "timed out" in exc.message:
                raise UnavailableError(
                    f"the MLflow tracking server {self.tracking_uri} did not answer "
                    f"({self.request_retries} retries): {exc.message}"
                ) from exc
            raise ConfigError(f"cannot load model {uri}: {exc.message}") from exc
        except OSError as exc:
            raise NotFoundError(f"cannot load model {uri}: {exc}") from exc
        except TypeError as exc:
            raise ConfigError(str(exc)) from exc

    # registry --------------------------------------------------------------------------------------
    def alias_version(self, name: str, alias: str) -> str | None:
        """The version number `name@alias` points to, or None (no such model or alias)."""
        try:
            return self.resolve(name, alias).version
        except NotFoundError:
            return None

    def resolve(self, name: str, alias: str) -> RegisteredVersion:
        """The version `models:/name@alias` points to; NotFoundError says where it looked."""
        client = self._store(write=False)
        try:
            mv = client.get_model_version_by_alias(name, alias)
        except MlflowException as exc:
            if exc.error_code in ("RESOURCE_DOES_NOT_EXIST", "INVALID_PARAMETER_VALUE"):
                raise NotFoundError(f"models:/{name}@{alias} not found in {self.tracking_uri}") from exc
            raise
        return _registered(mv)

    def version(self, name: str, version: str) -> RegisteredVersion:
        return _registered(self._store(write=False).get_model_version(name, version))

    def set_alias(self, name: str, alias: str, version: str) -> None:
        self._store(write=True).set_registered_model_alias(name, alias, version)

    def find_version(self, name: str, tags: Mapping[str, str]) -> RegisteredVersion | None:
        """The newest version of `name` carrying every one of `tags`, or None."""
        try:
            client = self._store(write=False)
        except NotFoundError:
            return None
        conditions = [f"name = '{_quoted(name)}'"]
        conditions += [f"tags.`{key}` = '{_quoted(value)}'" for key, value in tags.items()]
        found = client.search_model_versions(" and ".join(conditions))
        newest = max(found, key=lambda mv: int(mv.version), default=None)
        # A search leaves the aliases out: read the version itself.
        return self.version(name, str(newest.version)) if newest is not None else None

    def versions(self, name: str, limit: int = 20) -> list[dict[str, Any]]:
        """The newest `limit` versions of `name`: version, aliases, registration time and the promotion
        decision of its training run (`promotion.alias` / `promotion.reason` tags)."""
        client = self._store(write=False)
        found = sorted(
            client.search_model_versions(f"name = '{_quoted(name)}'"), key=lambda mv: -int(mv.version)
        )
        out = []
        for mv in found[:limit]:
            full = client.get_model_version(name, mv.version)  # a search leaves the aliases out
            tags = client.get_run(mv.run_id).data.tags if mv.run_id else {}
            promotion = " ".join(x for x in (tags.get("promotion.alias"), tags.get("promotion.reason")) if x)
            created = datetime.fromtimestamp(mv.creation_timestamp / 1000, UTC).isoformat(timespec="seconds")
            out.append({"version": str(mv.version), "aliases": list(full.aliases or []), "created": created,
                        "promotion": promotion})  # fmt: skip
        return out

    def run_plots(self, run_id: str) -> list[str]:
        """The PNG plots a training run logged under `plots/` (docs/mlflow.md)."""
        client = self._store(write=False)
        return sorted(f.path for f in client.list_artifacts(run_id, PLOTS) if f.path.endswith(".png"))

    def run_plot(self, run_id: str, path: str) -> bytes:
        """One logged plot's PNG bytes (without MLflow's download progress bar in the service's log)."""
        os.environ.setdefault("MLFLOW_ENABLE_ARTIFACTS_PROGRESS_BAR", "false")
        client = self._store(write=False)
        with tempfile.TemporaryDirectory() as folder:
            local = client.download_artifacts(run_id, path, folder)
            return Path(local).read_bytes()


def _registered(mv: Any) -> RegisteredVersion:
    return RegisteredVersion(mv.name, str(mv.version), mv.run_id, list(mv.aliases or []), dict(mv.tags or {}))


def _quoted(value: str) -> str:
    return value.replace("'", "\\'")
