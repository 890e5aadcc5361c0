"""GET /v1/model, GET /v1/decisions/{line_id} and POST /v1/admin/reload in process."""

import json
from datetime import UTC, datetime

from roundabout.store.audit_check import verify_store
from tests.support.bodies import api_line
from tests.support.inprocess import InProcessApp


def test_the_model_serving_now(api: InProcessApp) -> None:
    info = api.get("/v1/model", "scorer").json()
    assert info["name"] == "roundabout" and info["version"] == "1" and info["alias"] == "champion"
    assert "chain_lag_days" in info["features"] and set(info["thresholds"]) >= {"red", "yellow"}


def test_decisions_carry_their_time_zone(api: InProcessApp) -> None:
    """A decision's time says it is UTC, as the training time of the model does."""
    before = datetime.now(UTC)
    assert api.post("/v1/score", "scorer", json={"lines": [api_line(line_id="M/1")]}).status_code == 200
    (decision,) = api.get("/v1/decisions/M/1", "admin").json()["decisions"]
    decided = datetime.fromisoformat(decision["decided_at"])
    assert decided.utcoffset() is not None and decided.utcoffset().total_seconds() == 0
    assert before <= decided <= datetime.now(UTC)
    assert decision["key_id"] == "scorer" and decision["model_version"] == "1"


def test_reload_finds_the_alias_unchanged(api: InProcessApp) -> None:
    answer = api.post("/v1/admin/reload", "admin")
    assert answer.json()["result"] == "unchanged" and answer.json()["serving"]["version"] == "1"
    assert api.post("/v1/admin/reload", "scorer").status_code == 403


def test_the_trail_records_the_model_load_the_decision_with_its_line_and_the_admin_call(
    api: InProcessApp,
) -> None:
    assert api.post("/v1/score", "scorer", json={"lines": [api_line(line_id="M/audit")]}).status_code == 200
    assert api.get("/v1/decisions/M/audit", "admin").status_code == 200
    store = api.app.state.service.store
    with store.backend.connect() as conn:
        records = list(store.audit.records(conn))
    load = next(r for r in records if r.kind == "model_load")
    assert load.subject == "roundabout/1" and load.actor.startswith("service:")
    decision = json.loads(next(r for r in records if r.kind == "decision" and r.subject == "M/audit").content)
    assert decision["line"]["line_id"] == "M/audit" and decision["model_version"] == "1"
    assert decision["reasons"] and len(decision["inputs_sha256"]) == 64
    call = next(r for r in records if r.kind == "admin_call" and r.subject == "/v1/decisions/M/audit")
    assert call.actor == "admin"
    assert verify_store(store.audit, {}).ok
