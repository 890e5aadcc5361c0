"""The training job: typed config (`config`), time split (`split`), fitting every part of the risk model
(`fit`), holdout evaluation against outcomes and ground truth (`evaluate`) beside a rules baseline of the
kind customs uses now (`baseline`), MLflow tracking (`tracking`), plots (`plots`), registry and promotion to
`@champion` (`registry`), and the job that runs them in order (`job`). `roundabout train` and
`roundabout evaluate` call it; docs/mlflow.md shows how to find the runs.
"""

from roundabout.training.config import TrainConfig
from roundabout.training.job import TrainResult, train

__all__ = ["TrainConfig", "TrainResult", "train"]
