"""The app factory: what it says at start."""

import logging

import pytest

from roundabout.serving.app import create_app
from tests.serving.routers.conftest import settings_for
from tests.support.inprocess import running
from tests.support.server import Registry


def test_a_service_with_no_key_says_so_at_start(
    registry: Registry, tmp_path, caplog: pytest.LogCaptureFixture
) -> None:
    """Without keys every call but health and metrics gets 401: the log says why, and what to do."""
    settings = settings_for(registry, tmp_path, api_keys=[])
    with pytest.MonkeyPatch.context() as patch, caplog.at_level(logging.WARNING, "roundabout.serving"):
        patch.setenv("MLFLOW_TRACKING_URI", registry.tracking_uri)
        with running(create_app(settings), {}) as api:
            assert api.post("/v1/score", json={"lines": []}).status_code == 401
    warnings = [r.getMessage() for r in caplog.records if r.levelno == logging.WARNING]
    assert any("no API key is configured" in w and "roundabout keys new" in w for w in warnings), warnings
