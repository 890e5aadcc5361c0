"""Console sessions: an API key with the `analyst` or `admin` scope is exchanged for a signed, HTTP-only,
SameSite=Strict cookie holding the key id, a CSRF token and the sign-in time (itsdangerous, timed), never the
key itself. Every form posts the token back; a session whose key is no longer configured ends."""

import hmac
import secrets
from dataclasses import dataclass

from itsdangerous import BadSignature, URLSafeTimedSerializer

from roundabout.console.context import ConsoleContext

COOKIE = "roundabout_console"
#: A signed-out visitor's token for the sign-in form (lives a few minutes).
SIGNIN_COOKIE = "roundabout_console_signin"
SIGNIN_SECONDS = 600
SCOPES = frozenset({"analyst", "admin"})


@dataclass(frozen=True)
class Session:
    key_id: str
    csrf: str


def _serializer(context: ConsoleContext, salt: str) -> URLSafeTimedSerializer:
    return URLSafeTimedSerializer(context.secret(), salt=salt)


def new_session(context: ConsoleContext, key_id: str) -> tuple[Session, str]:
    """A session for `key_id` and its cookie value."""
    session = Session(key_id, secrets.token_urlsafe(24))
    value = _serializer(context, "session").dumps({"k": session.key_id, "c": session.csrf})
    return session, value


def read_session(context: ConsoleContext, value: str | None) -> Session | None:
    """The session of a cookie value: None if absent, forged, expired, or its key is gone."""
    if not value:
        return None
    try:
        body = _serializer(context, "session").loads(value, max_age=context.session_minutes * 60)
    except BadSignature:
        return None
    if not isinstance(body, dict) or not context.keys.active(str(body.get("k"))):
        return None
    return Session(str(body["k"]), str(body["c"]))


def signin_token(context: ConsoleContext) -> tuple[str, str]:
    """A CSRF token for the sign-in form and its signed cookie value."""
    token = secrets.token_urlsafe(24)
    return token, _serializer(context, "signin").dumps(token)


def signin_token_of(context: ConsoleContext, value: str | None) -> str | None:
    if not value:
        return None
    try:
        return str(_serializer(context, "signin").loads(value, max_age=SIGNIN_SECONDS))
    except BadSignature:
        return None


def same_token(expected: str | None, sent: str | None) -> bool:
    """Constant-time comparison of a CSRF token (both must be present)."""
    return bool(expected) and bool(sent) and hmac.compare_digest(str(expected), str(sent))
