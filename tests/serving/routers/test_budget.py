"""Office-day budgets in the service: an office's lines of a day take red places, then yellow ones, then go
green with their exploration chance as propensity; a retried line keeps its place; another office or day
has its own budget; a single-line call counts like a batch."""

from pathlib import Path

import pytest

from roundabout.models.channels import Thresholds
from roundabout.models.policy import SelectionPolicy
from roundabout.serving.app import create_app
from tests.serving.routers.conftest import settings_for
from tests.support.bodies import api_line
from tests.support.inprocess import running
from tests.support.server import KEYS, Registry


def _line(line_id: str, office: str = "55208", day: str = "2024-03-12") -> dict[str, object]:
    return api_line(line_id=line_id, customs_office=office, date=day, hs_code="0101210000")


def test_an_office_day_takes_no_more_inspections_than_its_budget(
    registry: Registry, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("MLFLOW_TRACKING_URI", registry.tracking_uri)
    settings = settings_for(registry, tmp_path, office_red_per_day=2, office_yellow_per_day=1)
    keys = {who: key for who, (key, _) in KEYS.items()}
    with running(create_app(settings), keys) as api:
        model = api.app.state.service.live_model.current.model
        model.thresholds = Thresholds(red=0.0, yellow=0.0, red_share=0.5, yellow_share=0.1)  # all red
        model.policy = SelectionPolicy(0.0, "uniform", "red")

        def score(lines: list[dict[str, object]]) -> list[dict[str, object]]:
            answer = api.post("/v1/score", "scorer", json={"lines": lines})
            assert answer.status_code == 200, answer.text
            return answer.json()["results"]

        lines = [_line(f"B/{i}") for i in range(6)]
        results = score(lines)
        assert [r["channel"] for r in results] == ["red", "red", "yellow", "green", "green", "green"]
        assert [r["propensity"] for r in results] == [1.0, 1.0, 1.0, 0.0, 0.0, 0.0]  # no quota: no chance
        assert score(lines) == results  # a retried call keeps its places
        assert score([_line("B/single")])[0]["channel"] == "green"  # the day is full
        assert score([_line("B/other", office="55001")])[0]["channel"] == "red"  # its own budget
        assert score([_line("B/next", day="2024-03-13")])[0]["channel"] == "red"

        # lines drawn for exploration keep their places however full the day is
        model.policy = SelectionPolicy(0.999999, "uniform", "red")
        drawn = score([_line(f"B/drawn/{i}") for i in range(4)])
        assert all(r["selection"] == "exploration" and r["channel"] == "red" for r in drawn)
        decided = api.get("/v1/decisions/B/3", "admin").json()["decisions"]
        assert decided[0]["channel"] == "green" and decided[0]["propensity"] == 0.0
