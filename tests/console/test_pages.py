"""The console over HTTP in process: signing in, every page, the outcome form's path into the store."""

import pytest

from tests.console.conftest import csrf_of, sign_in
from tests.support.bodies import api_line
from tests.support.inprocess import InProcessApp
from tests.support.server import KEYS


def test_pages_need_a_session(console: InProcessApp) -> None:
    console.client.cookies.clear()
    for path in ("/console/queue", "/console/lines/CON%2F1", "/console/model", "/console/flows"):
        answer = console.get(path)
        assert answer.status_code == 303 and answer.headers["location"].startswith("/console/signin?next=")


@pytest.mark.parametrize(
    ("who", "status", "says"),
    [("scorer", 403, "lacks the analyst scope"), ("analyst", 303, ""), ("admin", 303, "")],
)
def test_sign_in_takes_an_analyst_or_admin_key(
    console: InProcessApp, who: str, status: int, says: str
) -> None:
    answer = sign_in(console, who)
    assert answer.status_code == status, answer.text
    assert says in answer.text
    if status == 303:
        cookie = answer.headers["set-cookie"]
        assert "HttpOnly" in cookie and "SameSite=strict" in cookie and KEYS[who][0] not in cookie


def test_a_wrong_key_or_a_forged_signin_form_is_refused(console: InProcessApp) -> None:
    console.client.cookies.clear()
    form = console.get("/console/signin")
    wrong = console.post("/console/signin", data={"key": "k-not-a-key", "csrf": csrf_of(form.text)})
    assert wrong.status_code == 401 and "Unknown key" in wrong.text
    forged = console.post("/console/signin", data={"key": KEYS["analyst"][0], "csrf": "forged"})
    assert forged.status_code == 403 and "roundabout_console=" not in forged.headers.get("set-cookie", "")


def test_every_page_renders_for_an_analyst(console: InProcessApp) -> None:
    sign_in(console)
    queue = console.get("/console/queue?channel=both")
    assert queue.status_code == 200 and "Queue" in queue.text
    line = console.get("/console/lines/CON%2F1")
    assert line.status_code == 200 and "Every decision on this line" in line.text
    assert "CON/1" in line.text and "<svg" in line.text  # the reasons chart
    for path, words in (
        ("/console/model", "Holdout figures"),
        ("/console/flows", "Trade flows of CHPL goods"),
        ("/console/monitoring", "Monitoring"),
    ):
        answer = console.get(path)
        assert answer.status_code == 200 and words in answer.text, path
    assert "<script" not in line.text + queue.text and "https://" not in line.text
    assert console.get("/console/lines/NOPE%2F1").status_code == 404
    assert console.get("/console/queue?page=0").status_code == 422


def test_an_outcome_goes_through_the_feedback_path_and_is_attributed(console: InProcessApp) -> None:
    sign_in(console)
    form = console.get("/console/lines/CON%2F3")
    token = csrf_of(form.text.split('action="/console/signout"')[1])
    bad = console.post(
        "/console/lines/CON%2F3/outcome",
        data={"csrf": token, "inspected_on": "12/03/2024", "outcome": "violation"},
    )
    assert bad.status_code == 422 and "not a date" in bad.text
    assert console.get("/v1/decisions/CON/3", "admin").json()["outcome"] is None  # nothing stored
    forged = console.post(
        "/console/lines/CON%2F3/outcome",
        data={"csrf": "forged", "inspected_on": "2024-03-15", "outcome": "clean"},
    )
    assert forged.status_code == 403
    sent = {"csrf": token, "inspected_on": "2024-03-15", "outcome": "violation", "note": "seal broken"}
    done = console.post("/console/lines/CON%2F3/outcome", data=sent)
    assert done.status_code == 303 and done.headers["location"].endswith("?recorded=1")
    stored = console.get("/v1/decisions/CON/3", "admin").json()["outcome"]
    assert (
        stored["outcome"] == "violation" and stored["key_id"] == "analyst" and stored["note"] == "seal broken"
    )
    assert "The outcome is stored" in console.get(done.headers["location"]).text
    again = console.post("/console/lines/CON%2F3/outcome", data={**sent, "outcome": "clean"})
    assert again.status_code == 422 and "differ from the one already stored" in again.text


def test_the_api_feedback_records_its_key_too(console: InProcessApp) -> None:
    body = {"outcomes": [{"line_id": "CON/2", "inspected_on": "2024-03-20", "outcome": "clean"}]}
    assert console.post("/v1/feedback", "admin", json=body).json() == {"new": 1, "duplicates": 0}
    stored = console.get("/v1/decisions/CON/2", "admin").json()["outcome"]
    assert stored["key_id"] == "admin" and stored["received_at"].endswith("+00:00")


def test_an_analyst_corrects_an_outcome_with_a_reason_and_the_page_shows_both(console: InProcessApp) -> None:
    assert console.post("/v1/score", "admin", json={"lines": [api_line(line_id="CON/4")]}).status_code == 200
    body = {"outcomes": [{"line_id": "CON/4", "inspected_on": "2024-03-20", "outcome": "violation"}]}
    assert console.post("/v1/feedback", "admin", json=body).status_code == 200
    sign_in(console)
    page = console.get("/console/lines/CON%2F4").text
    token = csrf_of(page.split('action="/console/signout"')[1])
    record = page.split('name="supersedes" value="')[1].split('"')[0]
    sent = {
        "csrf": token,
        "supersedes": record,
        "inspected_on": "2024-03-20",
        "outcome": "clean",
        "reason": "",
    }
    missing = console.post("/console/lines/CON%2F4/correction", data=sent)
    assert missing.status_code == 422 and "say why the outcome was wrong" in missing.text
    done = console.post(
        "/console/lines/CON%2F4/correction", data={**sent, "reason": "lab report: as declared"}
    )
    assert done.status_code == 303, done.text
    shown = console.get(done.headers["location"]).text
    assert "Earlier outcomes (superseded)" in shown and "lab report: as declared" in shown
    outcomes = console.get("/v1/decisions/CON/4", "admin").json()["outcomes"]
    assert [(o["outcome"], o["key_id"], o["current"]) for o in outcomes] == [
        ("violation", "admin", False),
        ("clean", "analyst", True),
    ]
    stale = console.post("/console/lines/CON%2F4/correction", data={**sent, "reason": "again"})
    assert stale.status_code == 422 and "already superseded" in stale.text
