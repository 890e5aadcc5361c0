"""POST /v1/score in process: answers, the one check at the edge, and the settings' date range."""

from typing import Any

import pytest
import sqlalchemy as sa

from roundabout.serving.app import create_app
from roundabout.serving.schemas import MINIMAL_LINE
from tests.serving.routers.conftest import settings_for
from tests.support.bodies import api_line
from tests.support.inprocess import InProcessApp, running
from tests.support.server import KEYS, Registry


def test_a_line_is_scored_with_its_reasons(api: InProcessApp) -> None:
    answer = api.post("/v1/score", "scorer", json={"lines": [api_line(line_id="S/1")], "top_k": 2})
    assert answer.status_code == 200, answer.text
    body = answer.json()
    assert body["model"] == {"name": "roundabout", "version": "1"}
    (result,) = body["results"]
    assert result["line_id"] == "S/1" and 0 <= result["risk_score"] <= 1
    assert result["channel"] in ("green", "yellow", "red") and len(result["reasons"]) <= 2


def test_a_minimal_line_leaves_its_optional_fields_out(api: InProcessApp) -> None:
    """Fields that may be empty may be left out: a minimal line is scored, not refused field by field."""
    answer = api.post("/v1/score", "scorer", json={"lines": [MINIMAL_LINE]})
    assert answer.status_code == 200, answer.text
    assert answer.json()["results"][0]["line_id"] == MINIMAL_LINE["line_id"]


def test_a_retried_call_gets_the_same_answer(api: InProcessApp) -> None:
    body = {"lines": [api_line(line_id="S/retry/1"), api_line(line_id="S/retry/2", hs_code="0101210000")]}
    first = api.post("/v1/score", "scorer", json=body).json()["results"]
    again = api.post("/v1/score", "scorer", json=body).json()["results"]
    assert first == again


@pytest.mark.parametrize(
    ("change", "field"),
    [
        ({"hs_code": 8542310000}, "lines[0].hs_code"),  # a number: its leading zeros could be lost
        ({"hs_code": "85423100"}, "lines[0].hs_code"),
        ({"value_usd": -1.0}, "lines[0].value_usd"),
        ({"destination_country": "ZZ"}, "lines[0].destination_country"),
        ({"net_mass_kg": 20.0}, "lines[0].net_mass_kg"),
        ({"procedure": "40"}, "lines[0].procedure"),  # an SNT line has none
        ({"colour": "red"}, "lines[0].colour"),
    ],
)
def test_bad_input_is_422_naming_the_field(api: InProcessApp, change: dict[str, Any], field: str) -> None:
    answer = api.post("/v1/score", "scorer", json={"lines": [api_line(line_id="S/bad", **change)]})
    assert answer.status_code == 422, answer.text
    assert field in [item["field"] for item in answer.json()["detail"]]


def test_every_bad_line_of_a_call_is_named(api: InProcessApp) -> None:
    lines = [
        api_line(line_id="S/b1"),
        api_line(line_id="S/b2", hs_code="1"),
        api_line(line_id="S/b3", value_usd=-2.0),
    ]
    answer = api.post("/v1/score", "scorer", json={"lines": lines})
    assert answer.status_code == 422
    assert [item["field"] for item in answer.json()["detail"]] == ["lines[1].hs_code", "lines[2].value_usd"]


def test_the_date_range_of_the_settings_is_the_one_checked(
    registry: Registry, tmp_path_factory: pytest.TempPathFactory
) -> None:
    """`ROUNDABOUT_MIN_DATE` and `ROUNDABOUT_MAX_FUTURE_DAYS` reach the one check the API makes."""
    settings = settings_for(
        registry, tmp_path_factory.mktemp("dates"), min_date="1995-01-01", max_future_days=0
    )
    with pytest.MonkeyPatch.context() as patch:
        patch.setenv("MLFLOW_TRACKING_URI", registry.tracking_uri)
        with running(create_app(settings), {who: key for who, (key, _) in KEYS.items()}) as api:
            old = api.post(
                "/v1/score", "scorer", json={"lines": [api_line(line_id="D/1", date="1996-06-01")]}
            )
            assert old.status_code == 200, old.text
            before = api.post(
                "/v1/score", "scorer", json={"lines": [api_line(line_id="D/2", date="1994-12-31")]}
            )
            assert before.status_code == 422
            assert "date outside 1995-01-01.." in before.json()["detail"][0]["msg"]


@pytest.mark.parametrize("lines", [1, 2])
def test_an_odd_line_says_what_is_odd_with_its_figures(api: InProcessApp, lines: int) -> None:
    """A line worth a thousand times the usual per kg: its oddness reason names the value per kg or unit
    with the usual range, on the single-line path (one line) and the batch path (two) alike."""
    odd = api_line(line_id=f"S/odd/{lines}", value_usd=48_200_000.0)
    body = {"lines": [odd, api_line(line_id=f"S/plain/{lines}")][:lines], "top_k": 5}
    answer = api.post("/v1/score", "scorer", json=body)
    assert answer.status_code == 200, answer.text
    result = answer.json()["results"][0]
    assert result["oddness_score"] > 4
    (reason,) = [r for r in result["reasons"] if r["feature"] == "oddness"]
    assert reason["text"].startswith("Value per") and "against a usual USD" in reason["text"], reason


@pytest.mark.parametrize(
    ("options", "field"),
    [
        ({"explain": "yes"}, "explain"),
        ({"top_k": "5"}, "top_k"),
        ({"top_k": 21}, "top_k"),
        ({"top_k": -1}, "top_k"),
    ],
)
def test_call_options_are_as_strict_as_the_lines(
    api: InProcessApp, options: dict[str, Any], field: str
) -> None:
    """Types are strict for the lines; the options were coerced ("yes" read as true)."""
    answer = api.post("/v1/score", "scorer", json={"lines": [api_line(line_id="S/opt")], **options})
    assert answer.status_code == 422, answer.text
    assert field in [item["field"] for item in answer.json()["detail"]]


def test_a_many_line_call_stores_its_lines_with_their_decisions_or_nothing(
    api: InProcessApp, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Once each date's lines committed before the decisions: a failure in between left lines stored with
    no decision and no audit record. Now the call is one transaction."""
    store = api.app.state.service.store
    lines = [api_line(line_id="T/1", date="2024-03-01"), api_line(line_id="T/2", date="2024-03-02")]

    def fail(*_args: object, **_kwargs: object) -> None:
        raise sa.exc.OperationalError("INSERT INTO decisions", {}, Exception("disk I/O error"))

    monkeypatch.setattr(store.decisions, "record", fail)
    answer = api.post("/v1/score", "scorer", json={"lines": lines})
    assert answer.status_code == 503, answer.text
    assert store.exporter.line_dates(["T/1", "T/2"]) == {}
    monkeypatch.undo()
    assert api.post("/v1/score", "scorer", json={"lines": lines}).status_code == 200
    assert set(store.exporter.line_dates(["T/1", "T/2"])) == {"T/1", "T/2"}
    assert [d["line_id"] for d in api.get("/v1/decisions/T/2", "admin").json()["decisions"]] == ["T/2"]
