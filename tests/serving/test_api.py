"""End to end: a real server, a real registry, a real store (SQLite and PostgreSQL)."""

import copy
from typing import Any

import pytest
import sqlalchemy as sa

from roundabout.serving.schemas import EXAMPLE_LINE
from tests.support.server import KEYS, Registry, Server

pytestmark = pytest.mark.slow


def line(**changes: Any) -> dict[str, Any]:
    out = copy.deepcopy(EXAMPLE_LINE)
    out.update(changes)
    return out


def stored_lines(server: Server, line_id: str) -> int:
    engine = sa.create_engine(server.store_url)
    try:
        with engine.connect() as conn:
            return conn.execute(
                sa.text("SELECT count(*) FROM feat_lines WHERE line_id = :i"), {"i": line_id}
            ).scalar_one()
    finally:
        engine.dispose()


def test_score_with_reasons_then_idempotent_retry(server: Server) -> None:
    with server.client("scorer") as client:
        body = {
            "lines": [
                line(line_id="KZ-SNT-2024-000123/1"),
                line(line_id="KZ-SNT-2024-000123/2", hs_code="0101210000"),
            ],
            "explain": True,
            "top_k": 3,
        }
        first = client.post("/v1/score", json=body)
        assert first.status_code == 200, first.text
        answer = first.json()
        assert answer["model"]["name"] == "roundabout" and answer["model"]["version"] == "1"
        assert [r["line_id"] for r in answer["results"]] == ["KZ-SNT-2024-000123/1", "KZ-SNT-2024-000123/2"]
        for result in answer["results"]:
            assert 0.0 <= result["risk_score"] <= 1.0
            assert result["channel"] in {"green", "yellow", "red"}
            assert 1 <= len(result["reasons"]) <= 3
            assert all(r["text"] and r["feature"] for r in result["reasons"])
        again = client.post("/v1/score", json=body).json()
    assert [r["risk_score"] for r in again["results"]] == [r["risk_score"] for r in answer["results"]]
    assert stored_lines(server, "KZ-SNT-2024-000123/1") == 1
    with server.client("admin") as admin:
        decisions = admin.get("/v1/decisions/KZ-SNT-2024-000123/1").json()["decisions"]
    assert len(decisions) == 2
    assert decisions[0]["key_id"] == "scorer" and decisions[0]["model_version"] == "1"
    assert decisions[0]["request_id"] == answer["request_id"]


def test_later_lines_of_a_trader_see_earlier_ones(server: Server, registry: Registry) -> None:
    import mlflow

    from roundabout.data.validation import FormatRules
    from roundabout.models.pyfunc import load_risk_model
    from roundabout.store import ServiceStore
    from tests.support.replay import checked, read_frame

    imported = line(
        line_id="DT-IMP/1", document_id="DT-IMP", document_kind="DT", direction="import", procedure="40",
        date="2024-03-07", counterparty_country="US", dispatch_country="US", destination_country="KZ",
        trading_country="US", quantity=1000, declarant_id="111240001113",
    )  # fmt: skip
    exported = line(line_id="SNT-EXP/1", document_id="SNT-EXP", quantity=900, date="2024-03-12")
    with server.client("scorer") as client:
        assert client.post("/v1/score", json={"lines": [exported, imported]}).status_code == 200
    mlflow.set_tracking_uri(registry.tracking_uri)
    model = load_risk_model("models:/roundabout/1")
    store = ServiceStore.open(server.store_url)
    try:
        later = checked(FormatRules(), [{**exported, "line_id": "SNT-EXP/2"}])
        feats = read_frame(store, store.features(model.artifacts), later).iloc[0]
    finally:
        store.dispose()
    assert feats["chain_lag_days"] == 5
    assert feats["chain_reship_share"] == pytest.approx(0.9)


def test_feedback_new_duplicates_and_unknown(server: Server) -> None:
    with server.client("scorer") as client:
        assert client.post("/v1/score", json={"lines": [line(line_id="FB/1")]}).status_code == 200
    outcome = {
        "line_id": "FB/1",
        "inspected_on": "2024-03-15",
        "outcome": "violation",
        "violation_type": "sanctions_circumvention",
    }
    with server.client("inspector") as client:
        first = client.post("/v1/feedback", json={"outcomes": [outcome]})
        assert first.status_code == 200, first.text
        assert first.json() == {"new": 1, "duplicates": 0}
        assert client.post("/v1/feedback", json={"outcomes": [outcome]}).json() == {"new": 0, "duplicates": 1}
        unknown = client.post("/v1/feedback", json={"outcomes": [{**outcome, "line_id": "nope"}]})
    assert unknown.status_code == 422
    assert unknown.json()["detail"][0]["field"] == "outcomes[0].line_id"
    assert "unknown line" in unknown.json()["detail"][0]["msg"]


def test_keys_and_scopes(server: Server) -> None:
    with server.client() as anonymous:
        assert anonymous.get("/healthz").status_code == 200
        assert anonymous.get("/readyz").status_code == 200
        assert anonymous.get("/metrics").status_code == 200
        assert anonymous.post("/v1/score", json={"lines": [line()]}).status_code == 401
        wrong = anonymous.post("/v1/score", json={"lines": [line()]}, headers={"X-API-Key": "not-a-key"})
        assert wrong.status_code == 401
    with server.client("inspector") as inspector:
        assert inspector.post("/v1/score", json={"lines": [line()]}).status_code == 403
        assert inspector.get("/v1/decisions/x").status_code == 403
    with server.client("scorer") as scorer:
        assert scorer.post("/v1/admin/reload").status_code == 403
        info = scorer.get("/v1/model").json()
    assert info["version"] == "1" and info["alias"] == "champion" and "chain_lag_days" in info["features"]
    assert set(info["thresholds"]) >= {"red", "yellow"}
    metrics = server.client().get("/metrics").text
    assert 'roundabout_requests_total{endpoint="/v1/score",status="401"}' in metrics
    for key, _ in KEYS.values():
        assert key not in metrics
    assert not any(key in server.log.read_text() for key, _ in KEYS.values())


BAD_INPUTS = [
    ({"lines": [line(hs_code=8542310000)]}, 422, "lines[0].hs_code"),
    ({"lines": [line(hs_code="85423100")]}, 422, "lines[0].hs_code"),
    ({"lines": [line(value_usd="12")]}, 422, "lines[0].value_usd"),
    ({"lines": [line(value_usd=-1.0)]}, 422, "lines[0].value_usd"),
    ({"lines": [line(destination_country="ZZ")]}, 422, "lines[0].destination_country"),
    ({"lines": [line(direction="sideways")]}, 422, "lines[0].direction"),
    ({"lines": [line(date="2024-02-30")]}, 422, "lines[0].date"),
    ({"lines": [line(date="1900-01-01")]}, 422, "lines[0].date"),
    ({"lines": [line(trader_id="12")]}, 422, "lines[0].trader_id"),
    ({"lines": [line(colour="red")]}, 422, "lines[0].colour"),
    ({"lines": [{k: v for k, v in line().items() if k != "line_id"}]}, 422, "lines[0].line_id"),
    ({"lines": [line(net_mass_kg=20.0)]}, 422, "lines[0].net_mass_kg"),
    ({"lines": []}, 422, "lines"),
    ({"lines": [line()], "top_k": 99}, 422, "top_k"),
    ({"lines": "abc"}, 422, "lines"),
    ({"lines": [line(), line()]}, 422, "lines[1].line_id"),
    ({"lines": [line(line_id=f"L{i}") for i in range(51)]}, 413, None),
    ([1, 2, 3], 422, "body"),
]


@pytest.mark.parametrize(("body", "status", "field"), BAD_INPUTS)
def test_bad_input_gets_4xx_naming_the_field(
    server: Server, body: Any, status: int, field: str | None
) -> None:
    with server.client("scorer") as client:
        response = client.post("/v1/score", json=body)
    assert response.status_code == status, response.text
    detail = response.json()["detail"]
    if field is not None:
        assert any(item["field"] == field for item in detail), detail


def test_malformed_json_and_huge_body(server: Server) -> None:
    with server.client("scorer") as client:
        broken = client.post(
            "/v1/score", content=b'{"lines": [', headers={"Content-Type": "application/json"}
        )
        assert broken.status_code == 422
        huge = client.post(
            "/v1/score", content=b"x" * 17_000_000, headers={"Content-Type": "application/json"}
        )
        assert huge.status_code == 413
