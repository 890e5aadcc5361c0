"""The risk model as one MLflow model: a custom pyfunc wrapping `RiskModel`.

The MLflow model carries one artifact, the `RiskModel` folder (native LightGBM model, exported anomaly
forest, feature artifacts, fusion, thresholds, feature list: see `risk_model.py`). `load_context` reads it
once. Two ways to use it:

- serving in this project: `load_risk_model("models:/roundabout@champion")` returns the `RiskModel`
  itself, whose `score_one` / `score_batch` are the fast paths;
- anything that speaks pyfunc (`mlflow.pyfunc.load_model`, `mlflow models serve`): `predict` takes a
  DataFrame of canonical goods lines (the columns of `roundabout.data.schema.LINE_FIELDS` plus declared
  extra columns). When it also holds every model feature as a column `feat_<name>` (what the online
  feature store provides; prefixed because some features share a name with a line field), those are used
  as they are; otherwise features are built from the lines given, which are then their
  own only history (trader and chain features see nothing before them). It returns one row per line:
  `line_id`, `risk_score`, `anomaly_score`, `channel`, `selection`, `propensity`, and `reasons` and
  `contributions` as JSON text (a list of {feature, value, contribution, text}; a {feature: share of the
  fused log-odds} map). The pyfunc holds no exploration key, so it draws no line for exploration (every
  `selection` is `model` or `rule`); the service and `roundabout score` do.
"""

import tempfile
from pathlib import Path
from typing import Any

import mlflow
import pandas as pd
from mlflow.models import ModelSignature
from mlflow.types import ColSpec, Schema

from roundabout.data.io import INSPECTIONS_SCHEMA, CanonicalData, empty_frame
from roundabout.data.schema import LINE_FIELDS, Kind
from roundabout.models.risk_model import RiskModel
from roundabout.models.scores import LineRecords, scores_frame

ARTIFACT_KEY = "risk_model"
#: Prefix of feature columns in the pyfunc input.
FEATURE_PREFIX = "feat_"
OUTPUT_COLUMNS = ("line_id", "risk_score", "anomaly_score", "channel", "reasons", "contributions")
_MLFLOW_TYPES = {Kind.TEXT: "string", Kind.DATE: "datetime", Kind.NUMBER: "double", Kind.BOOL: "boolean"}


class RiskPyfunc(mlflow.pyfunc.PythonModel):
    """MLflow pyfunc of the risk model; the `RiskModel` inside is `self.model` once loaded."""

    def __init__(self) -> None:
        self.model: RiskModel | None = None

    def load_context(self, context: Any) -> None:
        self.model = RiskModel.load(Path(context.artifacts[ARTIFACT_KEY]))

    def predict(
        self, context: Any, model_input: pd.DataFrame, params: dict[str, Any] | None = None
    ) -> pd.DataFrame:
        """Score canonical lines (optionally with store features); see the module docstring."""
        if self.model is None:
            raise RuntimeError("the model is not loaded")
        return predict_frame(self.model, pd.DataFrame(model_input))


def canonical_lines(frame: pd.DataFrame, extra_columns: dict[str, str]) -> pd.DataFrame:
    """Canonical line columns with canonical dtypes (absent optional fields null)."""
    out: dict[str, pd.Series] = {}
    n = len(frame)
    for f in LINE_FIELDS:
        series = frame[f.name] if f.name in frame.columns else pd.Series([None] * n, index=frame.index)
        if f.kind is Kind.DATE:
            out[f.name] = pd.to_datetime(series).astype("datetime64[ns]")
        elif f.kind is Kind.NUMBER:
            out[f.name] = pd.to_numeric(series, errors="coerce").astype("float64")
        else:
            out[f.name] = series.astype(object).where(series.notna(), None)
    for name, kind in extra_columns.items():
        series = frame[name] if name in frame.columns else pd.Series([None] * n, index=frame.index)
        out[name] = (
            pd.to_numeric(series, errors="coerce").astype("float64")
            if kind == "numeric"
            else series.astype(object).where(series.notna(), None)
        )
    return pd.DataFrame(out).reset_index(drop=True)


def predict_frame(model: RiskModel, frame: pd.DataFrame) -> pd.DataFrame:
    """The pyfunc output for an input frame of lines (with or without store features)."""
    lines = canonical_lines(frame, model.artifacts.extra_columns)
    given = [FEATURE_PREFIX + name for name in model.base_features]
    if all(name in frame.columns for name in given):
        features = frame[given].reset_index(drop=True).astype("float64")
        features.columns = model.base_features
    else:
        data = CanonicalData(lines, empty_frame(INSPECTIONS_SCHEMA), None, model.artifacts.extra_columns)
        features = model.features_of(data).reset_index(drop=True)
    scores = model.score_batch(model.matrix(features, lines), explain=True, lines=LineRecords(lines))
    return scores_frame(lines["line_id"].to_numpy(dtype=object), scores)


def signature(model: RiskModel) -> ModelSignature:
    """Input: canonical line fields (required ones required), extra columns and model features optional."""
    cols = [ColSpec(_MLFLOW_TYPES[f.kind], f.name, required=f.required) for f in LINE_FIELDS]
    for name, kind in model.artifacts.extra_columns.items():
        cols.append(ColSpec("double" if kind == "numeric" else "string", name, required=False))
    cols += [ColSpec("double", FEATURE_PREFIX + name, required=False) for name in model.base_features]
    outputs = [
        ColSpec("string", "line_id"),
        ColSpec("double", "risk_score"),
        ColSpec("double", "anomaly_score"),
        ColSpec("double", "oddness_score"),
        ColSpec("string", "channel"),
        ColSpec("string", "selection"),
        ColSpec("double", "propensity"),
        ColSpec("string", "reasons"),
        ColSpec("string", "contributions"),
    ]
    return ModelSignature(inputs=Schema(cols), outputs=Schema(outputs))


def pip_requirements() -> list[str]:
    """Pinned requirements of the model environment (given, so MLflow does not infer them slowly)."""
    from importlib.metadata import version

    names = ("mlflow", "lightgbm", "scikit-learn", "numpy", "pandas", "pyarrow", "pydantic", "pycountry")
    return [f"{name}=={version(name)}" for name in names] + ["roundabout"]


def log_risk_model(
    model: RiskModel,
    input_example: pd.DataFrame,
    name: str = "model",
    registered_model_name: str | None = None,
) -> Any:
    """Log the model to the active MLflow run (and register it); returns MLflow's ModelInfo."""
    with tempfile.TemporaryDirectory() as tmp:
        folder = model.save(Path(tmp) / ARTIFACT_KEY)
        return mlflow.pyfunc.log_model(
            name=name,
            python_model=RiskPyfunc(),
            artifacts={ARTIFACT_KEY: str(folder)},
            signature=signature(model),
            input_example=_example(input_example),
            registered_model_name=registered_model_name,
            pip_requirements=pip_requirements(),
            await_registration_for=0,
        )


def save_risk_model(model: RiskModel, path: Path, input_example: pd.DataFrame | None = None) -> Path:
    """Save as an MLflow model folder (no tracking server), e.g. for `mlflow models serve -m PATH`."""
    with tempfile.TemporaryDirectory() as tmp:
        folder = model.save(Path(tmp) / ARTIFACT_KEY)
        mlflow.pyfunc.save_model(
            str(path),
            python_model=RiskPyfunc(),
            artifacts={ARTIFACT_KEY: str(folder)},
            signature=signature(model),
            input_example=_example(input_example) if input_example is not None else None,
            pip_requirements=pip_requirements(),
        )
    return Path(path)


def load_risk_model(uri: str) -> RiskModel:
    """The `RiskModel` inside a logged or saved pyfunc (`models:/name@alias`, `runs:/...`, or a path)."""
    wrapper = mlflow.pyfunc.load_model(uri).unwrap_python_model()
    if not isinstance(wrapper, RiskPyfunc) or wrapper.model is None:
        raise TypeError(f"{uri} is not a roundabout risk model")
    return wrapper.model


def _example(lines: pd.DataFrame) -> pd.DataFrame:
    """A small example of input lines (three canonical lines as they are)."""
    return lines.head(3).reset_index(drop=True).copy()
