"""POST /v1/feedback in process: idempotent outcomes, checked by the same rules as everywhere."""

import pytest

from tests.support.bodies import api_line
from tests.support.inprocess import InProcessApp


def _outcome(line_id: str, **changes: str | None) -> dict[str, str | None]:
    return {"line_id": line_id, "inspected_on": "2024-03-15", "outcome": "violation",
            "violation_type": "sanctions_circumvention", **changes}  # fmt: skip


def test_outcomes_are_new_then_duplicates(api: InProcessApp) -> None:
    assert api.post("/v1/score", "scorer", json={"lines": [api_line(line_id="F/1")]}).status_code == 200
    first = api.post("/v1/feedback", "inspector", json={"outcomes": [_outcome("F/1")]})
    assert first.status_code == 200, first.text
    assert first.json() == {"new": 1, "duplicates": 0}
    again = api.post("/v1/feedback", "inspector", json={"outcomes": [_outcome("F/1")]})
    assert again.json() == {"new": 0, "duplicates": 1}


def test_an_outcome_for_an_unseen_line_is_refused_naming_it(api: InProcessApp) -> None:
    answer = api.post("/v1/feedback", "inspector", json={"outcomes": [_outcome("F/never")]})
    assert answer.status_code == 422
    assert answer.json()["detail"][0]["field"] == "outcomes[0].line_id"


@pytest.mark.parametrize(
    ("change", "field"),
    [
        ({"inspected_on": "0189-12-09"}, "outcomes[0].inspected_on"),  # out of range: once a 500
        ({"outcome": "maybe"}, "outcomes[0].outcome"),
        ({"outcome": "clean"}, "outcomes[0].violation_type"),
    ],
)
def test_a_bad_outcome_is_422_naming_the_field(api: InProcessApp, change: dict[str, str], field: str) -> None:
    answer = api.post("/v1/feedback", "inspector", json={"outcomes": [_outcome("F/1", **change)]})
    assert answer.status_code == 422, answer.text
    assert answer.json()["detail"][0]["field"] == field


def test_an_outcome_changed_after_it_was_stored_is_a_conflict_and_nothing_is_stored(
    api: InProcessApp,
) -> None:
    """Once a 'duplicate': the changed result was acknowledged and dropped. Now 409, naming both, and the
    call's other outcomes are not stored either (one transaction)."""
    lines = [api_line(line_id="F/c1"), api_line(line_id="F/c2")]
    assert api.post("/v1/score", "scorer", json={"lines": lines}).status_code == 200
    clean = _outcome("F/c1", outcome="clean", violation_type=None)
    assert api.post("/v1/feedback", "inspector", json={"outcomes": [clean]}).json() == {
        "new": 1,
        "duplicates": 0,
    }
    changed = api.post("/v1/feedback", "inspector", json={"outcomes": [_outcome("F/c2"), _outcome("F/c1")]})
    assert changed.status_code == 409, changed.text
    assert "'F/c1' (clean on 2024-03-15, sent violation on 2024-03-15)" in changed.json()["detail"]
    retry = api.post("/v1/feedback", "inspector", json={"outcomes": [_outcome("F/c2")]})
    assert retry.json() == {"new": 1, "duplicates": 0}, "F/c2 was not stored by the refused call"


def test_an_inspection_before_the_line_is_refused_naming_the_date(api: InProcessApp) -> None:
    assert api.post("/v1/score", "scorer", json={"lines": [api_line(line_id="F/early")]}).status_code == 200
    early = _outcome("F/early", inspected_on="2024-03-01")  # the line is dated 2024-03-12
    answer = api.post("/v1/feedback", "inspector", json={"outcomes": [early]})
    assert answer.status_code == 422, answer.text
    (problem,) = answer.json()["detail"]
    assert problem["field"] == "outcomes[0].inspected_on"
    assert "before the line's date 2024-03-12" in problem["msg"]
    same_day = _outcome("F/early", inspected_on="2024-03-12")
    assert api.post("/v1/feedback", "inspector", json={"outcomes": [same_day]}).json()["new"] == 1


def test_a_correction_supersedes_the_outcome_and_the_line_shows_both(api: InProcessApp) -> None:
    assert api.post("/v1/score", "scorer", json={"lines": [api_line(line_id="F/k1")]}).status_code == 200
    assert api.post("/v1/feedback", "inspector", json={"outcomes": [_outcome("F/k1")]}).status_code == 200
    first = api.get("/v1/decisions/F/k1", "admin").json()["outcomes"]
    assert [(o["outcome"], o["key_id"], o["current"]) for o in first] == [("violation", "inspector", True)]
    correction = {**_outcome("F/k1", outcome="clean", violation_type=None), "supersedes": first[0]["id"],
                  "reason": "laboratory report 117: the goods match the declaration"}  # fmt: skip
    answer = api.post("/v1/feedback/corrections", "inspector", json={"corrections": [correction]})
    assert answer.status_code == 200, answer.text
    shown = api.get("/v1/decisions/F/k1", "admin").json()
    assert [(o["outcome"], o["supersedes"], o["current"]) for o in shown["outcomes"]] == [
        ("violation", None, False),
        ("clean", first[0]["id"], True),
    ]
    assert shown["outcome"]["outcome"] == "clean"
    again = api.post("/v1/feedback/corrections", "inspector", json={"corrections": [correction]})
    assert again.status_code == 409 and "already superseded" in again.json()["detail"]
    no_reason = {**correction, "supersedes": answer.json()["records"][0], "reason": " "}
    refused = api.post("/v1/feedback/corrections", "inspector", json={"corrections": [no_reason]})
    assert refused.status_code == 422 and refused.json()["detail"][0]["field"] == "corrections[0].reason"
    other = api.post("/v1/feedback/corrections", "scorer", json={"corrections": [correction]})
    assert other.status_code == 403
