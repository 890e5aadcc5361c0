"""The route tests' service: `create_app` in this process on the session's registry and a fresh store."""

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from roundabout.serving.app import create_app
from roundabout.serving.keys import ApiKey, hash_key
from roundabout.settings import Settings
from tests.support.inprocess import InProcessApp, running
from tests.support.server import KEYS, Registry


def settings_for(registry: Registry, tmp: Path, **changes: Any) -> Settings:
    """Settings of a service on `registry` with its own SQLite store under `tmp`, and the tests' keys."""
    keys = [ApiKey(id=who, sha256=hash_key(key), scopes=scopes) for who, (key, scopes) in KEYS.items()]
    values: dict[str, Any] = {
        "home": registry.home,
        "store_url": f"sqlite:///{tmp / 'store.db'}",
        "api_keys": keys,
        "max_batch_lines": 50,
        "reload_interval_seconds": 3600,
        **changes,
    }
    return Settings(**values)


@pytest.fixture(scope="module")
def api(registry: Registry, tmp_path_factory: pytest.TempPathFactory) -> Iterator[InProcessApp]:
    """One started service per test module (tests use their own line ids)."""
    with pytest.MonkeyPatch.context() as patch:
        patch.setenv("MLFLOW_TRACKING_URI", registry.tracking_uri)
        app = create_app(settings_for(registry, tmp_path_factory.mktemp("api")))
        with running(app, {who: key for who, (key, _) in KEYS.items()}) as started:
            yield started
