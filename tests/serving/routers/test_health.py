"""Liveness, readiness, metrics and the documentation pages, in process."""

import re

from tests.support.inprocess import InProcessApp


def test_alive_and_ready(api: InProcessApp) -> None:
    assert api.get("/healthz").json() == {"status": "alive"}
    ready = api.get("/readyz").json()
    assert ready["status"] == "ready" and ready["model"] == {"name": "roundabout", "version": "1"}


def test_the_documentation_pages_need_no_internet(api: InProcessApp) -> None:
    """A customs network has no internet: every script and style of /docs and /redoc comes from here."""
    for page in ("/docs", "/redoc"):
        html = api.get(page).text
        assets = re.findall(r"""(?:src|href)=["']([^"']+)["']""", html)
        assert assets, html
        assert not [a for a in assets if a.startswith(("http://", "https://", "//"))], assets
        for asset in assets:
            assert api.get(asset).status_code == 200, asset


def test_metrics_name_every_route_they_count(api: InProcessApp) -> None:
    for path in ("/docs", "/openapi.json", "/healthz"):
        assert api.get(path).status_code == 200
    api.get("/no/such/route")
    metrics = api.get("/metrics").text
    for endpoint in ("/docs", "/openapi.json", "/healthz"):
        assert f'roundabout_requests_total{{endpoint="{endpoint}",status="200"}}' in metrics
    assert 'endpoint="unmatched",status="404"' in metrics


def test_the_documentation_assets_are_counted_under_their_mount(api: InProcessApp) -> None:
    html = api.get("/docs").text
    assets = re.findall(r"""(?:src|href)=["']([^"']+)["']""", html)
    for asset in assets:
        assert api.get(asset).status_code == 200
    metrics = api.get("/metrics").text
    assert 'endpoint="unmatched",status="200"' not in metrics
    mount = "/" + assets[0].lstrip("/").split("/")[0]
    assert f'roundabout_requests_total{{endpoint="{mount}",status="200"}}' in metrics
