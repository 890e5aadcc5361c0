"""Saving and loading a `RiskModel` as a folder of plain files: the LightGBM text model, the exported
anomaly forest (npz), the oddness detector, the reference profile (`profile.json`), the feature artifacts
and one JSON file (`model.json`) with the fusion, thresholds, selection policy, id statistics, input lists
and metadata. The MLflow pyfunc packs
this folder as its artifact.
"""

import json
from pathlib import Path
from typing import Any

from roundabout.features import FeatureArtifacts
from roundabout.models.anomaly import AnomalyDetector
from roundabout.models.channels import Thresholds
from roundabout.models.classifier import RiskClassifier
from roundabout.models.fusion import Fusion
from roundabout.models.oddness import OddnessDetector
from roundabout.models.policy import SelectionPolicy
from roundabout.models.profile import ReferenceProfile
from roundabout.models.target_stats import TargetStats

MODEL_FILE = "model.json"
CLASSIFIER_FILE = "classifier.txt"
ANOMALY_FILE = "anomaly.npz"
ODDNESS_FILE = "oddness.json"
PROFILE_FILE = "profile.json"
#: Format of the saved folder; bump when the layout changes.
FORMAT_VERSION = 1


def save_parts(directory: Path, model: Any) -> Path:
    """Write a `RiskModel`'s parts and `model.json` into `directory`; returns the folder."""
    directory = Path(directory)
    directory.mkdir(parents=True, exist_ok=True)
    model.classifier.save(directory / CLASSIFIER_FILE)
    model.anomaly.save(directory / ANOMALY_FILE)
    model.artifacts.save(directory)
    if model.oddness is not None:
        (directory / ODDNESS_FILE).write_text(json.dumps(model.oddness.to_dict()))
    if model.profile is not None:
        (directory / PROFILE_FILE).write_text(json.dumps(model.profile.to_dict()))
    body = {
        "format_version": FORMAT_VERSION,
        "base_features": model.base_features,
        "classifier_base": model.classifier_base,
        "feature_names": model.feature_names,
        "fusion": model.fusion.to_dict(),
        "thresholds": model.thresholds.to_dict(),
        "policy": model.policy.to_dict(),
        "target_stats": model.target_stats.to_dict(),
        "top_k": model.top_k,
        "n_contributions": model.n_contributions,
        "features_version": model.artifacts.version,
        "features_hash": model.artifacts.content_hash,
        "metadata": model.metadata,
    }
    (directory / MODEL_FILE).write_text(json.dumps(body, indent=1, sort_keys=True, default=str))
    return directory


def load_parts(directory: Path) -> tuple[dict[str, Any], list[str]]:
    """The constructor arguments of a saved `RiskModel` and its saved input list; a missing or inconsistent
    part raises. A model saved before the oddness detector has none; one saved before the selection policy
    explores nothing; one saved before the reference profile has none (nothing to monitor against)."""
    directory = Path(directory)
    path = directory / MODEL_FILE
    if not path.exists():
        raise FileNotFoundError(f"no risk model at {directory} ({MODEL_FILE} missing)")
    body = json.loads(path.read_text())
    if body.get("format_version") != FORMAT_VERSION:
        found = body.get("format_version")
        raise ValueError(f"{path}: model format {found}, this code reads {FORMAT_VERSION}")
    artifacts = FeatureArtifacts.load(directory)
    if artifacts.content_hash != body["features_hash"]:
        raise ValueError(f"{directory}: feature artifacts are not the ones the model was trained with")
    odd_path, profile_path = directory / ODDNESS_FILE, directory / PROFILE_FILE
    parts = {
        "classifier": RiskClassifier.load(directory / CLASSIFIER_FILE),
        "anomaly": AnomalyDetector.load(directory / ANOMALY_FILE),
        "fusion": Fusion.from_dict(body["fusion"]),
        "thresholds": Thresholds.from_dict(body["thresholds"]),
        "artifacts": artifacts,
        "base_features": list(body["base_features"]),
        "classifier_base": body.get("classifier_base"),
        "target_stats": TargetStats.from_dict(body["target_stats"]),
        "top_k": int(body["top_k"]),
        "n_contributions": int(body["n_contributions"]),
        "metadata": dict(body["metadata"]),
        "oddness": OddnessDetector.from_dict(json.loads(odd_path.read_text())) if odd_path.exists() else None,
        "policy": SelectionPolicy.from_dict(body.get("policy")),
        "profile": (
            ReferenceProfile.from_dict(json.loads(profile_path.read_text()))
            if profile_path.exists()
            else None
        ),
    }
    return parts, list(body["feature_names"])
