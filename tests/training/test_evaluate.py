"""The evaluate job: by default the model's holdout period, not the lines it was trained on."""

import pytest

from roundabout.errors import ConfigError, NotFoundError
from roundabout.training import evaluate_model
from roundabout.training.evaluate import HOLDOUT_PERIOD, SINCE_PERIOD
from roundabout.training.metrics import flatten
from tests.training.conftest import Trained

pytestmark = pytest.mark.slow


def test_without_since_it_evaluates_the_models_holdout_period(trained: Trained) -> None:
    report = evaluate_model(trained.mlflow, "models:/risk@champion", trained.world_dir)
    holdout = trained.first.model.metadata["trained_on"]["holdout"]
    meta = report["meta"]
    assert meta["period"] == HOLDOUT_PERIOD
    assert (meta["since"], meta["until"]) == (holdout["start"], holdout["end"])
    assert meta["lines"] == holdout["lines"]
    # The same lines as at training, so the same figures as the run's holdout report.
    assert flatten(report["model"]) == pytest.approx(flatten(trained.first.report["model"]))


def test_since_chooses_the_first_day(trained: Trained) -> None:
    report = evaluate_model(trained.mlflow, "models:/risk/1", trained.world_dir, since="2024-11-01")
    assert report["meta"]["period"] == SINCE_PERIOD and report["meta"]["since"] >= "2024-11-01"
    assert 0 < report["meta"]["lines"] < trained.first.model.metadata["trained_on"]["holdout"]["lines"]


@pytest.mark.parametrize(
    ("since", "message"),
    [("2024-13-01", "--since: '2024-13-01' is not a date"), ("2030-01-01", "on or after")],
)
def test_a_bad_since_is_a_config_error(trained: Trained, since: str, message: str) -> None:
    with pytest.raises(ConfigError, match=message):
        evaluate_model(trained.mlflow, "models:/risk@champion", trained.world_dir, since=since)


def test_an_unknown_model_says_where_it_looked(trained: Trained) -> None:
    with pytest.raises(NotFoundError, match=trained.mlflow.tracking_uri):
        evaluate_model(trained.mlflow, "models:/nothing@champion", trained.world_dir)
