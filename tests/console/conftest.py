"""The console's service: `create_app` in this process on the session's registry, with lines scored."""

import re
from collections.abc import Iterator
from typing import Any

import httpx
import pytest

from roundabout.serving.app import create_app
from tests.serving.routers.conftest import settings_for
from tests.support.bodies import api_line
from tests.support.inprocess import InProcessApp, running
from tests.support.server import KEYS, Registry

#: Lines the console tests score (their own ids): a red-looking one and plain ones.
SCORED = [
    api_line(line_id="CON/1"),
    api_line(line_id="CON/2", hs_code="0101210000", description="Pure-bred horses", value_usd=900.0),
    api_line(line_id="CON/3", value_usd=250_000.0),
]


@pytest.fixture(scope="module")
def console(registry: Registry, tmp_path_factory: pytest.TempPathFactory) -> Iterator[InProcessApp]:
    with pytest.MonkeyPatch.context() as patch:
        patch.setenv("MLFLOW_TRACKING_URI", registry.tracking_uri)
        app = create_app(settings_for(registry, tmp_path_factory.mktemp("console")))
        with running(app, {who: key for who, (key, _) in KEYS.items()}) as started:
            body = {"lines": SCORED, "explain": True, "top_k": 5}
            answer = started.post("/v1/score", "admin", json=body)
            assert answer.status_code == 200, answer.text
            yield started


def csrf_of(html: str) -> str:
    found = re.search(r'name="csrf" value="([^"]+)"', html)
    assert found, html[:500]
    return found.group(1)


def sign_in(console: InProcessApp, who: str = "analyst") -> httpx.Response:
    """Sign in with a test key through the form; the client keeps the session cookie."""
    console.client.cookies.clear()
    form = console.get("/console/signin")
    return console.post(
        "/console/signin", data={"key": KEYS[who][0], "csrf": csrf_of(form.text), "next": "/console/queue"}
    )


def page(console: InProcessApp, path: str, **kwargs: Any) -> httpx.Response:
    return console.get(path, **kwargs)
