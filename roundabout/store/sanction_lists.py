"""Sanctions list snapshots in the service store: each load of a list is a version (list name, format,
publication date, content hash, entry count, source), its entries stored beside it.

Several lists are active at once: the newest version of each list name. Loading content already stored
under the same name adds nothing (the version it has is reported). A load is one transaction: a list that
fails half-way leaves what was loaded before untouched. The service follows `active_versions()` (one
small query) and rebuilds its screening index when it changes.
"""

import json
from dataclasses import dataclass
from datetime import UTC, date, datetime

import sqlalchemy as sa

from roundabout.audit import Entry
from roundabout.errors import NotFoundError
from roundabout.parties.entries import ListEntry, ParsedList, content_hash
from roundabout.parties.index import ListVersion, LoadedList
from roundabout.store.audit_log import AuditLog
from roundabout.store.backends import Backend
from roundabout.store.tables import StoreTables

_BATCH = 5_000


@dataclass(frozen=True)
class StoredList:
    """One loaded version, as `roundabout lists show` prints it."""

    version: int
    list_name: str
    format: str
    published: date | None
    content_hash: str
    entry_count: int
    source: str
    loaded_at: datetime
    active: bool

    def as_dict(self) -> dict[str, object]:
        return {
            "version": self.version,
            "list": self.list_name,
            "format": self.format,
            "published": self.published.isoformat() if self.published else None,
            "content_hash": self.content_hash,
            "entries": self.entry_count,
            "source": self.source,
            "loaded_at": self.loaded_at.replace(tzinfo=self.loaded_at.tzinfo or UTC).isoformat(),
            "active": self.active,
        }


def _load_entry(
    actor: str, name: str, fmt: str, parsed: ParsedList, source: str, digest: str, version: int, new: bool
) -> Entry:
    content = {
        "format": fmt,
        "source": source,
        "published": parsed.published,
        "content_hash": digest,
        "entries": len(parsed.entries),
        "version": int(version),
        "new": new,
    }
    return Entry("list_load", actor, name, content)


class ListStore:
    """Saves and reads sanctions list versions (see the module docstring)."""

    def __init__(self, backend: Backend, tables: StoreTables, audit: AuditLog) -> None:
        self.backend = backend
        self.audit = audit
        self.lists = tables.sanction_lists
        self.entries = tables.sanction_entries

    def save(
        self, list_name: str, fmt: str, parsed: ParsedList, source: str, actor: str = "cli"
    ) -> tuple[int, bool]:
        """Store a parsed list as a new version of `list_name`, with its audit record (a load that finds the
        same content stored records that too); (version, whether it is new)."""
        digest = content_hash(parsed.entries)
        t = self.lists
        with self.backend.transaction() as conn:
            found = conn.execute(
                sa.select(t.c.version).where(t.c.list_name == list_name, t.c.content_hash == digest)
            ).scalar_one_or_none()
            if found is not None:
                self.audit.append(
                    conn, [_load_entry(actor, list_name, fmt, parsed, source, digest, found, False)]
                )
                return int(found), False
            version = conn.execute(
                t.insert()
                .values(
                    list_name=list_name, format=fmt, published=parsed.published, content_hash=digest,
                    entry_count=len(parsed.entries), source=source, loaded_at=datetime.now(UTC),
                )
                .returning(t.c.version)
            ).scalar_one()  # fmt: skip
            rows = [
                {
                    "list_version": version,
                    "entry_id": e.entry_id,
                    "entry": json.dumps(e.as_dict(), ensure_ascii=False),
                }
                for e in parsed.entries
            ]
            for start in range(0, len(rows), _BATCH):
                conn.execute(self.entries.insert(), rows[start : start + _BATCH])
            self.audit.append(
                conn, [_load_entry(actor, list_name, fmt, parsed, source, digest, version, True)]
            )
        return int(version), True

    def exists(self) -> bool:
        """Whether the store has the list tables yet (a store made before them, not upgraded, has not)."""
        with self.backend.connect() as conn:
            return sa.inspect(conn).has_table(self.lists.name)

    def versions(self) -> list[StoredList]:
        """Every stored version, newest first, with whether it is active."""
        t = self.lists
        with self.backend.connect() as conn:
            rows = conn.execute(sa.select(t).order_by(t.c.version.desc())).mappings().all()
        newest: dict[str, int] = {}
        for row in rows:
            newest.setdefault(row["list_name"], row["version"])
        return [
            StoredList(
                row["version"],
                row["list_name"],
                row["format"],
                row["published"],
                row["content_hash"],
                row["entry_count"],
                row["source"],
                row["loaded_at"],
                newest[row["list_name"]] == row["version"],
            )
            for row in rows
        ]

    def active_versions(self) -> dict[str, int]:
        """{list name: its newest version}: what the service screens against (one grouped query)."""
        t = self.lists
        query = sa.select(t.c.list_name, sa.func.max(t.c.version)).group_by(t.c.list_name)
        with self.backend.connect() as conn:
            return {name: int(version) for name, version in conn.execute(query).all()}

    def load(self, versions: dict[str, int] | None = None) -> list[LoadedList]:
        """The entries of the given versions (default: the active ones), ready for a screening index."""
        wanted = self.active_versions() if versions is None else versions
        t, e = self.lists, self.entries
        out = []
        with self.backend.connect() as conn:
            for name, version in sorted(wanted.items()):
                meta = conn.execute(sa.select(t).where(t.c.version == version)).mappings().one_or_none()
                if meta is None or meta["list_name"] != name:
                    raise NotFoundError(f"sanctions list {name!r} has no version {version} in the store")
                rows = conn.execute(
                    sa.select(e.c.entry).where(e.c.list_version == version).order_by(e.c.entry_id)
                ).scalars()
                entries = [ListEntry.from_dict(json.loads(row)) for row in rows]
                info = ListVersion(name, int(version), meta["content_hash"], meta["published"])
                out.append(LoadedList(info, entries))
        return out
