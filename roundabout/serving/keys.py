"""API keys: held as SHA-256 hashes with scopes, checked on every protected call.

Keys are random tokens of 32 bytes or more, so a fast hash is enough (no password stretching needed) and
neither the configuration nor the store ever holds a usable secret. The key id, never the key, is what
logs and the audit trail show.

The ring holds the keys of `ROUNDABOUT_API_KEYS` and those of the store (`roundabout keys new`), which
`live_keys.py` reloads while the service runs. A configured key wins over a stored key with the same id
or hash: the setting is what the operator of this process wrote.
"""

import hashlib
import hmac
import logging
import secrets
from collections.abc import Sequence
from datetime import UTC, datetime

from roundabout.settings import ApiKey, Scope

__all__ = ["KEY_HEADER", "ApiKey", "KeyRing", "Scope", "expired_on", "hash_key", "new_key"]

KEY_HEADER = "X-API-Key"

log = logging.getLogger("roundabout.serving")


def hash_key(key: str) -> str:
    """The SHA-256 hex digest under which a key is configured."""
    return hashlib.sha256(key.encode("utf-8")).hexdigest()


def new_key() -> str:
    """A fresh random key (43 URL-safe characters)."""
    return secrets.token_urlsafe(32)


def expired_on(key: ApiKey, now: datetime | None = None) -> datetime | None:
    """When `key` expired, if it has by `now`; else None. Kept apart from finding the key, so an expired
    key is told why it is refused instead of being called unknown."""
    if key.expires is None:
        return None
    return key.expires if key.expires <= (now or datetime.now(UTC)) else None


class KeyRing:
    """The configured keys and the store's, looked up by hash in constant time per candidate."""

    def __init__(self, configured: Sequence[ApiKey], stored: Sequence[ApiKey] = ()) -> None:
        self._configured = tuple(configured)
        self._shadowed: set[str] = set()
        self._keys = self._merged(stored)

    def reload(self, stored: Sequence[ApiKey]) -> None:
        """Serve the store's keys `stored` beside the configured ones. The new ring replaces the old in one
        assignment, so a request sees the one or the other, never half of each."""
        self._keys = self._merged(stored)

    def _merged(self, stored: Sequence[ApiKey]) -> tuple[ApiKey, ...]:
        ids = {key.id for key in self._configured}
        hashes = {key.sha256 for key in self._configured}
        merged = list(self._configured)
        for key in stored:
            if key.id in ids or key.sha256 in hashes:
                if key.id not in self._shadowed:  # said once, not at every reload
                    log.warning(
                        "API key %r is both in ROUNDABOUT_API_KEYS and in the store: the setting's is used",
                        key.id,
                    )
                    self._shadowed.add(key.id)
                continue
            merged.append(key)
        return tuple(merged)

    @property
    def ids(self) -> list[str]:
        """The ids of every key held (expired ones included)."""
        return [key.id for key in self._keys]

    def find(self, presented: str | None, now: datetime | None = None) -> ApiKey | None:
        """The key matching `presented` if it has not expired, else None: what every caller that only
        admits or refuses (the console's sign-in) asks."""
        key = self.match(presented)
        return key if key is not None and expired_on(key, now) is None else None

    def match(self, presented: str | None) -> ApiKey | None:
        """The key matching `presented`, expired or not (see `expired_on`: the API tells an expired key
        why it is refused), or None."""
        if not presented:
            return None
        digest = hash_key(presented)
        found = None
        for key in self._keys:  # every candidate is compared, so the time taken says nothing of a match
            if hmac.compare_digest(key.sha256, digest) and found is None:
                found = key
        return found

    def in_force(self, key_id: str, now: datetime | None = None) -> bool:
        """Whether a key with this id is held and not expired (a console session of a key that is gone or
        expired ends)."""
        return any(key.id == key_id and expired_on(key, now) is None for key in self._keys)
