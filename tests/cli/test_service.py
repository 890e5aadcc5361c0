"""`roundabout serve`: says at start when no API key is configured."""

import json
from typing import Any

import pytest
from typer.testing import CliRunner

from roundabout.cli import app
from roundabout.serving.keys import hash_key
from roundabout.settings import get_settings

runner = CliRunner()


@pytest.fixture
def served(monkeypatch: pytest.MonkeyPatch) -> list[dict[str, Any]]:
    """uvicorn.run replaced by a recorder: the command runs up to the point of serving."""
    calls: list[dict[str, Any]] = []
    monkeypatch.setattr("uvicorn.run", lambda *args, **kwargs: calls.append(kwargs))
    return calls


def test_serve_without_keys_says_what_to_do(
    served: list[dict[str, Any]], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.delenv("ROUNDABOUT_API_KEYS", raising=False)
    result = runner.invoke(app, ["serve", "--port", "0"])
    assert result.exit_code == 0, result.output
    assert len(served) == 1
    assert "no API key is configured" in result.output
    assert "roundabout keys new" in result.output and "ROUNDABOUT_API_KEYS" in result.output


def test_serve_with_a_key_says_nothing_of_keys(
    served: list[dict[str, Any]], monkeypatch: pytest.MonkeyPatch
) -> None:
    entry = {"id": "ops", "sha256": hash_key("k-0123456789abcdefghijklmnopqrstuv"), "scopes": ["score"]}
    monkeypatch.setenv("ROUNDABOUT_API_KEYS", json.dumps([entry]))
    result = runner.invoke(app, ["serve", "--port", "0"])
    assert result.exit_code == 0, result.output
    assert len(served) == 1
    assert "no API key" not in result.output


def test_serve_on_a_busy_port_says_so(served: list[dict[str, Any]], busy_port: int) -> None:
    result = runner.invoke(app, ["serve", "--port", str(busy_port)])
    assert result.exit_code == 2
    assert f"port {busy_port} on 127.0.0.1 is in use" in result.stderr and "--port" in result.stderr
    assert served == []


def test_keys_new_prints_the_key_once_and_its_entry() -> None:
    from roundabout.settings import ApiKey

    new = ["keys", "new", "--print-only"]
    result = runner.invoke(app, [*new, "--id", "risk-system", "--scopes", "score,feedback"])
    assert result.exit_code == 0, result.output
    key = result.output.split("key (shown once): ")[1].split()[0]
    entry = ApiKey.model_validate(json.loads(result.output.split("configuration entry:")[1]))
    assert entry.id == "risk-system" and entry.sha256 == hash_key(key)
    assert {s.value for s in entry.scopes} == {"score", "feedback"}
    bad = runner.invoke(app, [*new, "--id", "x", "--scopes", "score,everything"])
    assert bad.exit_code == 2 and "--scopes: unknown scope" in bad.stderr


def test_store_status_reports_a_store_not_made_yet_without_making_it() -> None:
    """A read-only command: it created an empty store.db (and the home) and called it unversioned."""
    home = get_settings().home
    result = runner.invoke(app, ["store", "status"])
    assert result.exit_code == 0, result.output
    assert "no store yet" in result.output
    assert not home.exists()
    assert runner.invoke(app, ["store", "upgrade"]).exit_code == 0
    assert "up to date" in runner.invoke(app, ["store", "status"]).output
