"""API keys kept in the store (`api_keys`), so a key made or revoked with `roundabout keys` reaches every
running worker within its reload interval, without a restart or a change of `ROUNDABOUT_API_KEYS`.

The store keeps the key's SHA-256, never the key. Making and revoking a key each leave an audit record in
the same transaction as the change, so the trail holds every key that ever worked and when it stopped.
Revoking sets `revoked_at` and keeps the row: its id stays taken, so an old audit record's actor never
names a different key.

The store sits below the settings (`roundabout.settings.ApiKey`), so it takes any object with the key's
fields (`NewKey`) and answers `StoredKey`s, which the service turns back into `ApiKey`s.
"""

import json
from collections.abc import Set
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any, Protocol

import sqlalchemy as sa
from sqlalchemy.engine import Connection

from roundabout.audit import Entry
from roundabout.errors import ConflictError, InvalidInputError
from roundabout.store.audit_log import AuditLog
from roundabout.store.backends import Backend
from roundabout.store.tables import StoreTables


class NewKey(Protocol):
    """What a key to store has (`roundabout.settings.ApiKey` has it)."""

    @property
    def id(self) -> str: ...
    @property
    def sha256(self) -> str: ...
    @property
    def scopes(self) -> Set[str]: ...
    @property
    def expires(self) -> datetime | None: ...
    @property
    def rate_per_second(self) -> float | None: ...
    @property
    def burst(self) -> int | None: ...


@dataclass(frozen=True)
class StoredKey:
    """A key as the store holds it (times in UTC)."""

    id: str
    sha256: str
    scopes: tuple[str, ...]
    expires: datetime | None
    rate_per_second: float | None
    burst: int | None
    created_at: datetime
    revoked_at: datetime | None

    def fields(self) -> dict[str, Any]:
        """The fields of the key itself (those of `ApiKey`), without the store's bookkeeping."""
        return {
            "id": self.id,
            "sha256": self.sha256,
            "scopes": list(self.scopes),
            "expires": self.expires,
            "rate_per_second": self.rate_per_second,
            "burst": self.burst,
        }


def _utc(moment: datetime | None) -> datetime | None:
    """A time as written (UTC: SQLite keeps no zone) and as read back (SQLite's naive times are UTC)."""
    if moment is None:
        return None
    return moment.replace(tzinfo=UTC) if moment.tzinfo is None else moment.astimezone(UTC)


class KeyStore:
    """Adds, revokes and lists the store's keys; each change is audited in its own transaction."""

    def __init__(self, backend: Backend, tables: StoreTables, audit: AuditLog) -> None:
        self.backend = backend
        self.table = tables.api_keys
        self.audit = audit

    def exists(self) -> bool:
        """Whether the store has the keys table yet (a store made before it, not upgraded, has not)."""
        with self.backend.connect() as conn:
            return sa.inspect(conn).has_table(self.table.name)

    def add(self, key: NewKey, actor: str, now: datetime | None = None) -> StoredKey:
        """Store `key` made by `actor`, with its `key_created` audit record; an id or hash already in the
        store (revoked or not) raises `ConflictError`."""
        t = self.table
        created = _utc(now or datetime.now(UTC))
        scopes = sorted(str(s) for s in key.scopes)
        row = {
            "id": key.id,
            "sha256": key.sha256,
            "scopes": json.dumps(scopes),
            "expires_at": _utc(key.expires),
            "rate_per_second": key.rate_per_second,
            "burst": key.burst,
            "created_at": created,
            "revoked_at": None,
        }
        content = {
            "scopes": scopes,
            "expires": _utc(key.expires),
            "rate_per_second": key.rate_per_second,
            "burst": key.burst,
            "sha256": key.sha256,
        }
        try:
            with self.backend.transaction() as conn:
                self._refuse_taken(conn, key.id, key.sha256)
                conn.execute(t.insert().values(**row))
                self.audit.append(conn, [Entry("key_created", actor, key.id, content)])
        except sa.exc.IntegrityError:  # another writer stored the same id between the check and the insert
            raise ConflictError(f"a key with the id {key.id!r} is already in the store") from None
        return self._stored(row)

    def _refuse_taken(self, conn: Connection, key_id: str, sha256: str) -> None:
        t = self.table
        query = sa.select(t.c.id, t.c.revoked_at).where(sa.or_(t.c.id == key_id, t.c.sha256 == sha256))
        taken = conn.execute(query).first()
        if taken is None:
            return
        if taken.id != key_id:
            raise ConflictError(f"the key of {key_id!r} is already in the store as {taken.id!r}")
        revoked = _utc(taken.revoked_at)
        gone = f" (revoked {revoked:%Y-%m-%d}; ids are never reused)" if revoked is not None else ""
        raise ConflictError(f"a key with the id {key_id!r} is already in the store{gone}: choose another id")

    def revoke(self, key_id: str, actor: str, now: datetime | None = None) -> StoredKey:
        """Revoke the key `key_id` for `actor`, with its `key_revoked` audit record; the key as revoked."""
        t = self.table
        when = _utc(now or datetime.now(UTC))
        with self.backend.transaction() as conn:
            row = conn.execute(sa.select(t).where(t.c.id == key_id)).mappings().first()
            if row is None:
                raise InvalidInputError("--id", "no key with this id in the store", key_id)
            if row["revoked_at"] is not None:
                gone = _utc(row["revoked_at"])
                raise ConflictError(f"the key {key_id!r} was already revoked, at {gone:%Y-%m-%d %H:%M} UTC")
            conn.execute(t.update().where(t.c.id == key_id).values(revoked_at=when))
            self.audit.append(conn, [Entry("key_revoked", actor, key_id, {"sha256": row["sha256"]})])
        return self._stored({**row, "revoked_at": when})

    def active(self, now: datetime | None = None) -> list[StoredKey]:
        """The keys not revoked (as of `now`), by id. Expired keys are among them: the service tells their
        callers that their key expired, rather than that it is unknown."""
        t = self.table
        when = _utc(now or datetime.now(UTC))
        query = sa.select(t).where(sa.or_(t.c.revoked_at.is_(None), t.c.revoked_at > when)).order_by(t.c.id)
        with self.backend.connect() as conn:
            return [self._stored(row) for row in conn.execute(query).mappings()]

    def all(self) -> list[StoredKey]:
        """Every key the store ever held, revoked ones included, oldest first."""
        t = self.table
        with self.backend.connect() as conn:
            rows = conn.execute(sa.select(t).order_by(t.c.created_at, t.c.id)).mappings()
            return [self._stored(row) for row in rows]

    @staticmethod
    def _stored(row: Any) -> StoredKey:
        return StoredKey(
            id=row["id"],
            sha256=row["sha256"],
            scopes=tuple(json.loads(row["scopes"])),
            expires=_utc(row["expires_at"]),
            rate_per_second=row["rate_per_second"],
            burst=row["burst"],
            created_at=_utc(row["created_at"]),  # type: ignore[arg-type]
            revoked_at=_utc(row["revoked_at"]),
        )
