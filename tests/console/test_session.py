"""Console sessions: signed, timed, bound to a configured key, never holding the key."""

import time

import pytest

from roundabout.console.context import ConsoleContext, Signer
from roundabout.console.pages import safe_next
from roundabout.console.session import new_session, read_session, same_token, signin_token, signin_token_of


def _context(active: set[str], minutes: int = 60) -> ConsoleContext:
    return ConsoleContext(
        store=None,  # type: ignore[arg-type]
        rules=None,  # type: ignore[arg-type]
        serving=lambda: None,
        monitoring=lambda: None,
        keys=Signer(lambda _k: None, lambda key_id: key_id in active),
        secret=lambda: b"s" * 32,
        session_minutes=minutes,
    )


def test_a_session_reads_back_and_holds_no_key() -> None:
    context = _context({"officer"})
    session, cookie = new_session(context, "officer")
    assert read_session(context, cookie) == session
    assert "officer" not in cookie or len(cookie) > 40  # signed payload, not the key


def test_forged_expired_or_revoked_sessions_are_refused() -> None:
    context = _context({"officer"})
    _, cookie = new_session(context, "officer")
    assert read_session(context, cookie[:-2] + "xx") is None
    assert read_session(_context(set()), cookie) is None  # the key was removed from the configuration
    other = _context({"officer"})
    other.secret = lambda: b"t" * 32
    assert read_session(other, cookie) is None
    short = _context({"officer"}, minutes=0)
    time.sleep(1.1)
    assert read_session(short, cookie) is None
    assert read_session(context, None) is None


def test_the_signin_token_and_csrf_comparison() -> None:
    context = _context(set())
    token, cookie = signin_token(context)
    assert signin_token_of(context, cookie) == token
    assert same_token(token, token) and not same_token(token, token + "x")
    assert not same_token(None, None) and not same_token("", "")


@pytest.mark.parametrize(
    ("wanted", "goes"),
    [
        ("/console/lines/A%2F1", "/console/lines/A%2F1"),
        ("https://evil.example/console/queue", "/console/queue"),
        ("//evil.example/console/", "/console/queue"),
        ("/v1/score", "/console/queue"),
        (None, "/console/queue"),
    ],
)
def test_after_signing_in_only_console_pages(wanted: str | None, goes: str) -> None:
    assert safe_next(wanted) == goes
