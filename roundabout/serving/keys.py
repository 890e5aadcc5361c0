"""API keys: configured as SHA-256 hashes with scopes, checked on every protected call.

Keys are random tokens of 32 bytes or more, so a fast hash is enough (no password stretching needed) and
the configuration never holds a usable secret. The key id, never the key, is what logs and the audit
trail show.
"""

import hashlib
import hmac
import secrets

from roundabout.settings import ApiKey, Scope

__all__ = ["KEY_HEADER", "ApiKey", "KeyRing", "Scope", "hash_key", "new_key"]

KEY_HEADER = "X-API-Key"


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
