"""The MLflow adapter: where tracking goes, and the experiment with its artifact location.

The tracking URI is the standard `MLFLOW_TRACKING_URI` when the user set it; otherwise the embedded default,
a SQLite file `<ROUNDABOUT_HOME>/mlflow.db` with artifacts under `<ROUNDABOUT_HOME>/mlartifacts` (so
`mlflow ui --backend-store-uri sqlite:///.roundabout/mlflow.db` shows everything: docs/mlflow.md).
A user's database URI without a tracking server also keeps artifacts under the home folder (MLflow would
use `./mlruns` of whatever the working directory is). `mlflow.set_tracking_uri` mirrors the URI into
`MLFLOW_TRACKING_URI` for subprocesses; the value this module set is remembered so that it is not taken for
the user's choice on the next call (e.g. under another home).
"""

import os
from pathlib import Path

import mlflow
from mlflow.tracking import MlflowClient

from roundabout.settings import get_settings

_set_by_us: str | None = None
_SERVERS = ("http://", "https://", "databricks")


def default_tracking_uri() -> str:
    return f"sqlite:///{get_settings().home.resolve() / 'mlflow.db'}"


def artifact_root() -> Path:
    return get_settings().home.resolve() / "mlartifacts"


def user_tracking_uri() -> str | None:
    """MLFLOW_TRACKING_URI as the user set it (None when unset or only mirrored by MLflow from our call)."""
    value = os.environ.get("MLFLOW_TRACKING_URI")
    return value if value and value != _set_by_us else None


def tracking_uri() -> str:
    """The user's MLFLOW_TRACKING_URI when set, else the embedded SQLite file under the home folder."""
    return user_tracking_uri() or default_tracking_uri()


def configure_tracking() -> str:
    """Point MLflow at the tracking store (user's env wins, else the embedded SQLite one); returns the URI."""
    global _set_by_us
    uri = tracking_uri()
    if uri.startswith("sqlite:///"):
        Path(uri.removeprefix("sqlite:///")).parent.mkdir(parents=True, exist_ok=True)
    _set_by_us = uri if user_tracking_uri() is None else None
    mlflow.set_tracking_uri(uri)
    return uri


def ensure_experiment(name: str) -> str:
    """The experiment's id, creating it; without a tracking server, its artifacts go under the home folder."""
    client = MlflowClient()
    experiment = client.get_experiment_by_name(name)
    if experiment is not None:
        return experiment.experiment_id
    location = None
    if not mlflow.get_tracking_uri().startswith(_SERVERS):  # a tracking server keeps its own artifact root
        root = artifact_root()
        root.mkdir(parents=True, exist_ok=True)
        location = root.as_uri()
    return client.create_experiment(name, artifact_location=location)
