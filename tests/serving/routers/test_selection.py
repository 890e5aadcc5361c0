"""The selection policy in the service: every answer says how its line was selected and with what
propensity, the decision records both, the draw is the same for a retried call and after a restart (the key
is kept in the store), and a configured key changes which lines are drawn."""

from pathlib import Path

import pytest

from roundabout.models.policy import SelectionPolicy
from roundabout.serving.app import create_app
from tests.serving.routers.conftest import settings_for
from tests.support.bodies import api_line
from tests.support.inprocess import InProcessApp, running
from tests.support.server import KEYS, Registry

RATE = 0.5


def _lines(prefix: str, n: int = 40) -> list[dict[str, object]]:
    return [api_line(line_id=f"{prefix}/{i}", hs_code="0101210000") for i in range(n)]


def _explore(api: InProcessApp) -> None:
    """Give the serving model a large quota, so draws show in a few dozen lines."""
    current = api.app.state.service.live_model.current
    current.model.policy = SelectionPolicy(RATE, "uniform", "red")


def _score(api: InProcessApp, lines: list[dict[str, object]]) -> list[dict[str, object]]:
    answer = api.post("/v1/score", "scorer", json={"lines": lines})
    assert answer.status_code == 200, answer.text
    return answer.json()["results"]


def test_answers_and_decisions_carry_selection_and_propensity(
    registry: Registry, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("MLFLOW_TRACKING_URI", registry.tracking_uri)
    keys = {who: key for who, (key, _) in KEYS.items()}
    with running(create_app(settings_for(registry, tmp_path)), keys) as api:
        _explore(api)
        results = _score(api, _lines("SEL"))
        drawn = [r for r in results if r["selection"] == "exploration"]
        assert 8 <= len(drawn) <= 32  # about half of 40
        assert all(r["channel"] == "red" for r in drawn)
        for r in results:
            if r["channel"] == "green":  # not selected: its chance was the draw's
                assert r["selection"] == "model" and r["propensity"] == pytest.approx(RATE)
            elif r["selection"] in ("model", "rule"):  # selected for certain
                assert r["propensity"] == 1.0
            else:  # drawn: certain if the model would have taken it anyway, else the draw's chance
                assert r["propensity"] in (1.0, pytest.approx(RATE))
        one = _score(api, [api_line(line_id="SEL/single", hs_code="0101210000")])[0]
        assert one["selection"] in ("model", "exploration")
        assert _score(api, _lines("SEL")) == results  # a retried call: the same channels
        decided = api.get(f"/v1/decisions/{drawn[0]['line_id']}", "admin").json()["decisions"]
        assert decided[0]["selection"] == "exploration"
        assert decided[0]["propensity"] == pytest.approx(drawn[0]["propensity"])

    # after a restart on the same store, the same key: the same lines are drawn
    with running(create_app(settings_for(registry, tmp_path)), keys) as api:
        _explore(api)
        again = _score(api, _lines("SEL2"))
    with running(create_app(settings_for(registry, tmp_path)), keys) as api:
        _explore(api)
        assert _score(api, _lines("SEL2")) == again


def test_a_configured_key_draws_other_lines(
    registry: Registry, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("MLFLOW_TRACKING_URI", registry.tracking_uri)
    keys = {who: key for who, (key, _) in KEYS.items()}
    drawn = []
    for i, key in enumerate(("first secret", "second secret")):
        settings = settings_for(registry, tmp_path / str(i), selection_key=key)
        (tmp_path / str(i)).mkdir()
        with running(create_app(settings), keys) as api:
            _explore(api)
            results = _score(api, _lines("KEY"))
        drawn.append({r["line_id"] for r in results if r["selection"] == "exploration"})
    assert drawn[0] != drawn[1]


def test_model_info_shows_the_policy(api: InProcessApp) -> None:
    body = api.get("/v1/model", "scorer").json()
    assert body["policy"]["strategy"] in ("uniform", "risk", "anomaly")
    assert 0 <= body["policy"]["rate"] < 1
    assert isinstance(body["exploration"], dict)
