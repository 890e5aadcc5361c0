"""The audit trail in the store: records appended to the hash chain inside the caller's transaction, so a
decision and its audit record commit together or not at all; signed checkpoints; the chain read back.

Appending takes the chain's head row first (`UPDATE ... RETURNING`: a row lock on PostgreSQL, the write
lock on SQLite), so writers on every worker and process append one after the other and the chain never
forks. Callers append last in their transaction, once: the head is then held only until the commit, and
never while waiting for another lock, so no deadlock can form around it.
"""

from collections.abc import Iterator, Sequence
from datetime import UTC, datetime

import sqlalchemy as sa
from sqlalchemy.engine import Connection

from roundabout.audit.chain import Chained, Entry, link, utc_text
from roundabout.audit.signing import Signer
from roundabout.audit.verify import Checkpoint
from roundabout.store.backends import Backend
from roundabout.store.tables import StoreTables

#: Records read per round trip when walking the chain.
BATCH = 10_000


class AuditLog:
    """Appends to, checkpoints and reads the chain."""

    def __init__(self, backend: Backend, tables: StoreTables) -> None:
        self.backend = backend
        self.tables = tables
        t, h = tables.audit_records, tables.audit_head
        n = sa.bindparam("n", type_=sa.BigInteger)
        self._take = sa.update(h).where(h.c.id == 1).values(seq=h.c.seq + n).returning(h.c.seq, h.c.hash)
        self._set = sa.update(h).where(h.c.id == 1).values(hash=sa.bindparam("h", type_=sa.String))
        self._insert = t.insert()

    def append(self, conn: Connection, entries: Sequence[Entry]) -> list[int]:
        """Chain `entries` in the caller's transaction `conn`; their sequence numbers."""
        if not entries:
            return []
        seq, prev = conn.execute(self._take, {"n": len(entries)}).one()
        chained = link(entries, seq - len(entries), prev, datetime.now(UTC))
        conn.execute(self._insert, [c.as_row() for c in chained])
        conn.execute(self._set, {"h": chained[-1].hash})
        return [c.seq for c in chained]

    def record(self, entries: Sequence[Entry]) -> list[int]:
        """Append `entries` in a transaction of their own."""
        with self.backend.transaction() as conn:
            return self.append(conn, entries)

    def exists(self) -> bool:
        """Whether the store has the trail's tables (a store made before them, not upgraded, has not)."""
        with self.backend.connect() as conn:
            return sa.inspect(conn).has_table(self.tables.audit_head.name)

    def head(self, conn: Connection | None = None) -> tuple[int, str]:
        """(seq, hash) of the chain's last record ((0, genesis) when empty)."""
        h = self.tables.audit_head
        query = sa.select(h.c.seq, h.c.hash).where(h.c.id == 1)
        if conn is not None:
            return tuple(conn.execute(query).one())  # type: ignore[return-value]
        with self.backend.connect() as own:
            return tuple(own.execute(query).one())  # type: ignore[return-value]

    def checkpoint(self, signer: Signer) -> Checkpoint | None:
        """Sign the chain's head (None: nothing new since the last checkpoint, or an empty chain)."""
        c = self.tables.audit_checkpoints
        with self.backend.transaction() as conn:
            seq, digest = self.head(conn)
            if seq == 0 or conn.execute(sa.select(c.c.seq).where(c.c.seq == seq)).first() is not None:
                return None
            at = utc_text(datetime.now(UTC))
            cp = Checkpoint(seq, digest, at, signer.key_id, signer.sign(seq, digest, at))
            conn.execute(
                c.insert().values(
                    seq=seq,
                    hash=digest,
                    at=datetime.strptime(at, "%Y-%m-%dT%H:%M:%S.%fZ").replace(tzinfo=UTC),
                    key_id=cp.key_id,
                    signature=cp.signature,
                )
            )
        return cp

    def checkpoints(self, conn: Connection, up_to: int | None = None) -> list[Checkpoint]:
        c = self.tables.audit_checkpoints
        query = sa.select(c).order_by(c.c.seq)
        if up_to is not None:
            query = query.where(c.c.seq <= up_to)
        return [Checkpoint(r.seq, r.hash, utc_text(r.at), r.key_id, r.signature) for r in conn.execute(query)]

    def records(self, conn: Connection, after: int = 0, until: int | None = None) -> Iterator[Chained]:
        """Records with seq > `after` (and <= `until`), in seq order, read in batches by seq."""
        t = self.tables.audit_records
        cols = (t.c.seq, t.c.at, t.c.kind, t.c.actor, t.c.subject, t.c.content, t.c.prev_hash, t.c.hash)
        last = after
        while True:
            query = sa.select(*cols).where(t.c.seq > last).order_by(t.c.seq).limit(BATCH)
            if until is not None:
                query = query.where(t.c.seq <= until)
            rows = conn.execute(query).all()
            for seq, at, kind, actor, subject, content, prev_hash, digest in rows:
                yield Chained(seq, utc_text(at), kind, actor, subject, content, prev_hash, digest)
            if len(rows) < BATCH:
                return
            last = rows[-1][0]

    def seq_range(self, conn: Connection, since: datetime | None, until: datetime | None) -> tuple[int, int]:
        """The first and last seq of the records stamped in [since, until) ((1, 0) when none are)."""
        t = self.tables.audit_records
        query = sa.select(sa.func.min(t.c.seq), sa.func.max(t.c.seq))
        if since is not None:
            query = query.where(t.c.at >= since)
        if until is not None:
            query = query.where(t.c.at < until)
        first, last = conn.execute(query).one()
        return (first, last) if first is not None else (1, 0)

    def hash_of(self, conn: Connection, seq: int) -> str | None:
        t = self.tables.audit_records
        return conn.execute(sa.select(t.c.hash).where(t.c.seq == seq)).scalar_one_or_none()
