"""API keys: configured as SHA-256 hashes with scopes, checked on every protected call.

Keys are random tokens of 32 bytes or more, so a fast hash is enough (no password stretching needed) and
the configuration never holds a usable secret. The key id, never the key, is what logs and the audit
trail show.
"""

import hashlib
import hmac
import secrets
from enum import StrEnum

from pydantic import BaseModel, Field, field_validator

KEY_HEADER = "X-API-Key"


class Scope(StrEnum):
    """What a key may do."""

    SCORE = "score"
    FEEDBACK = "feedback"
    ADMIN = "admin"


class ApiKey(BaseModel):
    """One configured key: an id shown in logs and audit, the SHA-256 hex of the key, its scopes."""

    id: str = Field(min_length=1, max_length=64)
    sha256: str = Field(pattern=r"^[0-9a-f]{64}$")
    scopes: frozenset[Scope]

    @field_validator("scopes")
    @classmethod
    def _some_scope(cls, value: frozenset[Scope]) -> frozenset[Scope]:
        if not value:
            raise ValueError("a key needs at least one scope")
        return value


def hash_key(key: str) -> str:
    """The SHA-256 hex digest under which a key is configured."""
    return hashlib.sha256(key.encode("utf-8")).hexdigest()


def new_key() -> str:
    """A fresh random key (43 URL-safe characters)."""
    return secrets.token_urlsafe(32)


class KeyRing:
    """The configured keys, looked up by hash in constant time per candidate."""

    def __init__(self, keys: list[ApiKey]) -> None:
        self._keys = list(keys)

    def find(self, presented: str | None) -> ApiKey | None:
        """The key matching `presented`, or None."""
        if not presented:
            return None
        digest = hash_key(presented)
        found = None
        for key in self._keys:
            if hmac.compare_digest(key.sha256, digest):
                found = key
        return found
