"""`roundabout keys new / list / revoke` against the store of the test's home: the key shown once, kept as
its hash with an audit record, listed without it, revoked; bad options named, exit 2, nothing stored."""

from typing import Any

import pytest
from rich.console import Console
from typer.testing import CliRunner

from roundabout.cli import app
from roundabout.serving.keys import hash_key
from roundabout.settings import get_settings
from roundabout.store import ServiceStore

runner = CliRunner()


def _store() -> ServiceStore:
    return ServiceStore.open(get_settings().service_store_url)


def _audit() -> list[tuple[str, str, str | None]]:
    store = _store()
    try:
        with store.backend.connect() as conn:
            return [(r.kind, r.actor, r.subject) for r in store.audit.records(conn)]
    finally:
        store.dispose()


def _new(*options: str) -> Any:
    return runner.invoke(app, ["keys", "new", *options])


def test_a_new_key_is_stored_shown_once_listed_and_revoked(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr("roundabout.cli.service.console", Console(width=200))  # one table row a line
    assert "no key in the store yet" in runner.invoke(app, ["keys", "list"]).output
    made = _new("--id", "risk-system", "--scopes", "score,feedback", "--expires", "2099-01-31", "--rate", "5")
    assert made.exit_code == 0, made.output
    key = made.output.split("key (shown once): ")[1].split()[0]
    assert made.output.count(key) == 1 and "configuration entry" not in made.output
    store = _store()
    try:
        (stored,) = store.keys.active()
    finally:
        store.dispose()
    assert (stored.id, stored.sha256, stored.scopes) == ("risk-system", hash_key(key), ("feedback", "score"))
    assert (stored.rate_per_second, stored.burst, stored.expires.isoformat()) == (
        5,
        5,
        "2099-01-31T00:00:00+00:00",
    )
    listed = runner.invoke(app, ["keys", "list"])
    assert listed.exit_code == 0, listed.output
    assert (
        "risk-system" in listed.output
        and "2099-01-31 00:00 UTC" in listed.output
        and "5/s, burst 5" in listed.output
    )
    assert stored.sha256 not in listed.output and stored.sha256[:12] not in listed.output
    taken = _new("--id", "risk-system")
    assert taken.exit_code == 2 and "already in the store" in taken.stderr and "Traceback" not in taken.output

    revoked = runner.invoke(app, ["keys", "revoke", "--id", "risk-system"])
    assert revoked.exit_code == 0, revoked.output
    assert "revoked 'risk-system'" in revoked.output
    listed = runner.invoke(app, ["keys", "list"])
    assert listed.output.count("UTC") == 3  # expires, created, revoked
    again = runner.invoke(app, ["keys", "revoke", "--id", "risk-system"])
    assert again.exit_code == 2 and "already revoked" in again.stderr
    assert _audit() == [("key_created", "cli", "risk-system"), ("key_revoked", "cli", "risk-system")]


@pytest.mark.parametrize(
    ("options", "message"),
    [
        (["--expires", "2020-01-01"], "--expires: is in the past"),
        (["--expires", "31.01.2099"], "--expires: not a date (YYYY-MM-DD)"),
        (["--expires", "2099-01-31T10:00"], "--expires: give a time zone"),
        (["--rate", "0"], "--rate: must be more than 0"),
        (["--rate", "-2"], "--rate: must be more than 0"),
        (["--rate", "2", "--burst", "0"], "--burst: must be 1 or more"),
        (["--scopes", "score,everything"], "--scopes: unknown scope"),
        (["--scopes", ","], "--scopes: give one or more of"),
    ],
)
def test_a_bad_option_is_named_and_nothing_is_stored(options: list[str], message: str) -> None:
    bad = _new("--id", "x", *options)
    assert bad.exit_code == 2, bad.output
    assert f"error: {message}" in bad.stderr and "Traceback" not in bad.output
    assert not (get_settings().home / "store.db").exists()


def test_revoking_an_unknown_or_a_configured_key_says_where_it_looked(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    unknown = runner.invoke(app, ["keys", "revoke", "--id", "nobody"])
    assert unknown.exit_code == 2 and "--id: no key with this id in the store" in unknown.stderr
    entry = (
        '[{"id": "ops", "sha256": "'
        + hash_key("k-ops-0123456789abcdefghijklmnop")
        + '", "scopes": ["score"]}]'
    )
    monkeypatch.setenv("ROUNDABOUT_API_KEYS", entry)
    get_settings.cache_clear()
    configured = runner.invoke(app, ["keys", "revoke", "--id", "ops"])
    assert configured.exit_code == 2 and "ROUNDABOUT_API_KEYS" in configured.stderr


def test_serve_with_a_stored_key_says_nothing_of_keys(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("ROUNDABOUT_API_KEYS", raising=False)
    monkeypatch.setattr("uvicorn.run", lambda *args, **kwargs: None)
    assert _new("--id", "ops").exit_code == 0
    served = runner.invoke(app, ["serve", "--port", "0"])
    assert served.exit_code == 0, served.output
    assert "no API key" not in served.output
