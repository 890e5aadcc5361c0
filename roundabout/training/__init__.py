"""Training and evaluating the risk model, one module per job or step.

The jobs: `train` (`train.py`: load, split, fit, evaluate, log, register, promote) and `evaluate_model`
(`evaluate.py`: any logged or registered model re-scored on any data folder). The steps: typed options
(`config`), the time split (`split`), fitting every part of the model (`fit`), the metric formulas
(`metrics`) and the rules baseline they are compared with (`baseline`), the data and config hashes
(`fingerprint`), what a run logs to MLflow (`run_log`, `plots`), the champion gate (`promote`) and the
stage clock (`stages`). MLflow itself is reached only through `roundabout.models.mlflow_service`.
`roundabout train` and `roundabout evaluate` call the jobs; docs/mlflow.md shows where runs land.
"""

from roundabout.training.config import TrainConfig
from roundabout.training.evaluate import EVALUATE_STAGES, evaluate_model
from roundabout.training.promote import PromotionDecision
from roundabout.training.train import TRAIN_STAGES, TrainResult, registered_twin, train

__all__ = [
    "EVALUATE_STAGES",
    "TRAIN_STAGES",
    "PromotionDecision",
    "TrainConfig",
    "TrainResult",
    "evaluate_model",
    "registered_twin",
    "train",
]
