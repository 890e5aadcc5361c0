"""The train job: load -> split by time -> fit every part of the risk model (`fit.py`, with the selection
and tuning trials as child runs) -> evaluate on the holdout beside the rules baseline and a plain LightGBM
on the raw columns (`evaluate.py`, `raw_baseline.py`) -> log the run (`run_log.py`) -> log and register
the model -> validate it and set its alias (`promote.py`).

Each registered version is tagged with the content hash of its data and the hash of its config, so
`registered_twin` can tell whether the registry already holds the version a run would make.
"""

from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from roundabout.data.io import read_folder
from roundabout.errors import ConfigError
from roundabout.models.mlflow_service import MlflowService, RegisteredVersion
from roundabout.models.risk_model import RiskModel
from roundabout.parties.index import ScreeningIndex
from roundabout.training import run_log
from roundabout.training.config import TrainConfig
from roundabout.training.evaluate import baseline_scores, evaluate_holdout
from roundabout.training.fingerprint import config_hash, content_hash, data_folders, fingerprint
from roundabout.training.fit import ClassifierFit, fit_risk_model
from roundabout.training.metrics import versus
from roundabout.training.promote import PromotionDecision, promote
from roundabout.training.raw_baseline import RAW_BASELINE, raw_baseline_scores
from roundabout.training.search import SearchResult
from roundabout.training.split import Split, split_data, split_folders
from roundabout.training.stages import Mark, StageClock

TRAIN_STAGES = [
    "load",
    "split",
    "features",
    "select and tune",
    "fit classifier",
    "fit anomaly",
    "fit oddness",
    "calibrate",
    "evaluate",
    "log",
    "register",
]
#: Tags of a registered version: what it was trained on.
DATA_TAG, CONFIG_TAG = "data.content_hash", "config.hash"


@dataclass
class TrainResult:
    """What one training run made: the run, the model, its holdout report, its version and alias."""

    run_id: str
    experiment_id: str
    model: RiskModel
    report: dict[str, Any]
    decision: PromotionDecision | None
    version: str | None
    model_uri: str | None
    timings: dict[str, float] = field(default_factory=dict)
    counts: dict[str, int] = field(default_factory=dict)
    search: SearchResult | None = None
    unusable: dict[str, str] = field(default_factory=dict)


def load_split(data_dir: Path, config: TrainConfig) -> Split:
    """The history of `data_dir` (and the fixed folders of a `folders` split), split by time."""
    if config.split.kind == "folders":
        assert config.split.valid_data is not None and config.split.holdout_data is not None
        return split_folders(data_dir, config.split.valid_data, config.split.holdout_data)
    return split_data(read_folder(data_dir), config.split)


def registered_name(mlflow_service: MlflowService, config: TrainConfig, register: str | None) -> str:
    """The registered model a run adds to: `--register`, else the config's, else the service's default."""
    return register or config.registered_model or mlflow_service.registered_model


def registered_twin(
    mlflow_service: MlflowService, data_dir: Path, config: TrainConfig, register: str | None = None
) -> RegisteredVersion | None:
    """The newest registered version trained on the same data content and config, if there is one."""
    tags = {DATA_TAG: content_hash(data_folders(data_dir, config)), CONFIG_TAG: config_hash(config)}
    return mlflow_service.find_version(registered_name(mlflow_service, config, register), tags)


def train(
    data_dir: Path,
    mlflow_service: MlflowService,
    config: TrainConfig | None = None,
    experiment: str | None = None,
    register: str | None = None,
    mark: Mark | None = None,
    screening: ScreeningIndex | None = None,
    load: Callable[[Path, TrainConfig], Split] = load_split,
    fit_classifier: ClassifierFit | None = None,
) -> TrainResult:
    """Run the whole job; `mark(stage)` is called at the start of each stage (Rich progress in the CLI).
    `load` reads and splits the history (`dask_split.py` for one too large for this process);
    `fit_classifier` fits the classifier in its stead (`fit_risk_model`)."""
    config = config or TrainConfig()
    experiment = experiment or config.experiment
    name = registered_name(mlflow_service, config, register)
    clock = StageClock(mark)

    clock("load")
    split = load(Path(data_dir), config)
    split.screening = screening
    config.target_stats.check_columns(split.data.extra_columns)  # before a run is opened (fit checks again)
    clock("split")
    finger = fingerprint(data_folders(data_dir, config), split)
    if config.promotion.against == "truth" and split.data.truth is None:
        raise ConfigError("promotion.against is 'truth' but the data has no ground truth")

    hashes = {DATA_TAG: finger["content_hash"], CONFIG_TAG: config_hash(config)}
    experiment_id = mlflow_service.experiment_id(experiment)
    with mlflow_service.start_run(experiment) as run_id:

        def trial(number: int, settings: dict[str, Any], score: float, seconds: float) -> None:
            metrics = {"valid.average_precision": score, "seconds": seconds}
            mlflow_service.log_child_run(run_id, f"tuning trial {number}", settings, metrics)

        fitted = fit_risk_model(split, config, clock, on_trial=trial, fit_classifier=fit_classifier)
        clock("evaluate")
        scores = {"model": fitted.holdout_risk, "baseline": baseline_scores(split)}
        raw = raw_baseline_scores(split, config.seed)
        if raw is not None:
            scores[RAW_BASELINE] = raw
        report = evaluate_holdout(split, scores, config, fitted.holdout_risk)
        if raw is not None:
            report[f"model_vs_{RAW_BASELINE}"] = versus(report, "model", RAW_BASELINE)

        clock("log")
        run_log.log_run(
            mlflow_service, run_id, config, data_dir, finger, hashes[CONFIG_TAG], fitted, report, split
        )
        decision: PromotionDecision | None = None
        version = model_uri = None
        if config.log_model:
            model_uri = mlflow_service.log_model(fitted.model, split.data.lines[split.holdout].head(3))
            clock("register")
            version = mlflow_service.register(model_uri, name, hashes)
            decision = promote(mlflow_service, name, version, report["model"], split, fitted, config)
            run_log.log_promotion(mlflow_service, run_id, decision)
        timings = clock.done()
        run_log.log_timings(mlflow_service, run_id, timings)
    return TrainResult(
        run_id,
        experiment_id,
        fitted.model,
        report,
        decision,
        version,
        model_uri,
        timings,
        fitted.counts,
        fitted.search,
        fitted.unusable,
    )
