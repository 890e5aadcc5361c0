"""Schemathesis over the service's own OpenAPI, with and without a key (short run; the full one is
`bench/fuzz_api.py --examples 1000`)."""

import os

import pytest

from tests.support.fuzzing import fuzz
from tests.support.server import KEYS, Server, secrets_in

pytestmark = pytest.mark.slow

#: Generated requests per operation and key setting in the suite (CI); the full run uses 1,000.
EXAMPLES = int(os.environ.get("ROUNDABOUT_FUZZ_EXAMPLES", "40"))


@pytest.mark.parametrize("who", [None, "admin", "scorer"])
def test_every_operation_answers_as_documented(shared_server: Server, who: str | None) -> None:
    headers = {"X-API-Key": KEYS[who][0]} if who else None
    reports = fuzz(shared_server.url, EXAMPLES, headers, seed=1)
    assert {r.label for r in reports} >= {
        "GET /healthz",
        "GET /readyz",
        "GET /metrics",
        "POST /v1/score",
        "POST /v1/screen",
        "POST /v1/feedback",
        "GET /v1/model",
        "GET /v1/decisions/{line_id}",
        "POST /v1/admin/reload",
    }
    for report in reports:
        assert report.requests >= EXAMPLES, report
        assert report.server_errors == 0, report
        assert report.failures == [], report
    assert secrets_in(shared_server.log.read_text()) == []
