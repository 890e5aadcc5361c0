"""Every protected endpoint refuses a missing, wrong or under-scoped key; no key leaks anywhere."""

import httpx
import pytest

from roundabout.serving.schemas import EXAMPLE_LINE
from tests.support.server import KEYS, Server, secrets_in

OUTCOME = {"line_id": EXAMPLE_LINE["line_id"], "inspected_on": "2024-03-15", "outcome": "clean"}
#: endpoint -> (method, path, body, the scope it needs, a configured key that lacks it)
PROTECTED = {
    "score": ("POST", "/v1/score", {"lines": [EXAMPLE_LINE]}, "inspector"),
    "feedback": ("POST", "/v1/feedback", {"outcomes": [OUTCOME]}, "scorer"),
    "model": ("GET", "/v1/model", None, "inspector"),
    "decisions": ("GET", "/v1/decisions/" + EXAMPLE_LINE["line_id"], None, "scorer"),
    "reload": ("POST", "/v1/admin/reload", None, "scorer"),
}
WRONG = [KEYS["admin"][0][:-1] + "X", KEYS["admin"][0].upper(), "", KEYS["scorer"][0] + "x"]


@pytest.mark.parametrize("endpoint", PROTECTED)
def test_missing_wrong_and_under_scoped_keys_are_refused(shared_server: Server, endpoint: str) -> None:
    method, path, body, lacking = PROTECTED[endpoint]
    with httpx.Client(base_url=shared_server.url, timeout=30) as client:
        missing = client.request(method, path, json=body)
        assert missing.status_code == 401 and "X-API-Key" in missing.json()["detail"]
        assert missing.headers["www-authenticate"] == "X-API-Key"
        for wrong in WRONG:
            answer = client.request(method, path, json=body, headers={"X-API-Key": wrong})
            assert answer.status_code == 401, (wrong, answer.text)
            assert wrong.strip() == "" or wrong.strip() not in answer.text
        scoped = client.request(method, path, json=body, headers={"X-API-Key": KEYS[lacking][0]})
        assert scoped.status_code == 403 and "scope" in scoped.json()["detail"]
        assert KEYS[lacking][0] not in scoped.text
        ok = client.request(method, path, json=body, headers={"X-API-Key": KEYS["admin"][0]})
        assert ok.status_code in (200, 422), ok.text  # 422: feedback before the line was ever scored


def test_keys_never_appear_in_logs_errors_metrics_or_audit(shared_server: Server) -> None:
    with httpx.Client(base_url=shared_server.url, timeout=30) as client:
        bodies = []
        for key, _scopes in KEYS.values():
            for method, path, body, _lacking in PROTECTED.values():
                bodies.append(client.request(method, path, json=body, headers={"X-API-Key": key}).text)
                bodies.append(client.request(method, path, json=body, headers={"X-API-Key": key + "x"}).text)
            bodies.append(client.post("/v1/score", json={"lines": "bad"}, headers={"X-API-Key": key}).text)
        metrics = client.get("/metrics").text
        audit = client.get(
            "/v1/decisions/" + EXAMPLE_LINE["line_id"], headers={"X-API-Key": KEYS["admin"][0]}
        ).json()
    assert audit["decisions"] and {d["key_id"] for d in audit["decisions"]} <= set(KEYS)
    for text in (*bodies, metrics, str(audit), shared_server.log.read_text()):
        assert secrets_in(text) == []
        assert not any(key[:20] in text for key, _ in KEYS.values())  # not even a prefix
