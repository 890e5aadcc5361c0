"""The audit trail: every scoring decision, stored before the answer leaves, queryable by line id. Each
records the sanctions list versions its parties were screened against (`{"list name": version}`).

Times are stored and returned in UTC with their offset (`2024-03-12T09:30:00.123456+00:00`): SQLite keeps
no time zone, so a time read back without one is UTC, as it was written.
"""

import json
from collections.abc import Sequence
from datetime import UTC, datetime
from typing import Any

import sqlalchemy as sa
from sqlalchemy.engine import Connection

from roundabout.store.backends import Backend
from roundabout.store.statements import CompiledStatement
from roundabout.store.tables import StoreTables


def _utc(moment: datetime) -> datetime:
    return moment.replace(tzinfo=UTC) if moment.tzinfo is None else moment.astimezone(UTC)


#: Columns `for_line` leaves out or shows parsed (the inputs are for monitoring: `served.py`).
_NOT_SHOWN = frozenset({"id", "reasons", "decided_at", "list_versions", "inputs"})


class DecisionLog:
    """Writes and reads decisions in the service store."""

    def __init__(self, backend: Backend, tables: StoreTables) -> None:
        self.backend = backend
        self.table = tables.decisions
        self.outcomes = tables.outcomes
        self._insert: CompiledStatement | None = None

    def record(self, conn: Connection, rows: Sequence[dict[str, Any]]) -> None:
        """Store decisions (`reasons` a list of dicts, `inputs` the model inputs as `served.encode_inputs`
        gives them, or absent) in the caller's transaction `conn`, so they commit
        with the lines they decided on."""
        now = datetime.now(UTC)
        payload = [
            {
                **row,
                "reasons": json.dumps(row["reasons"]),
                "list_versions": json.dumps(row["list_versions"]) if row.get("list_versions") else None,
                "decided_at": now,
                "inputs": row.get("inputs"),
            }
            for row in rows
        ]
        self._statement().execute(conn, payload)

    def _statement(self) -> CompiledStatement:
        if self._insert is None:
            t = self.table
            values = {c.name: sa.bindparam(c.name, type_=c.type) for c in t.columns if c.name != "id"}
            self._insert = CompiledStatement(t.insert().values(values), self.backend)
        return self._insert

    def for_line(self, line_id: str) -> list[dict[str, Any]]:
        """Every decision on a line, oldest first."""
        t = self.table
        query = sa.select(t).where(t.c.line_id == line_id).order_by(t.c.id)
        with self.backend.connect() as conn:
            rows = conn.execute(query).mappings().all()
        return [
            {
                **{k: v for k, v in row.items() if k not in _NOT_SHOWN},
                "reasons": json.loads(row["reasons"]),
                "list_versions": json.loads(row["list_versions"]) if row["list_versions"] else {},
                "decided_at": _utc(row["decided_at"]).isoformat(),
            }
            for row in rows
        ]

    def outcome_of(self, line_id: str) -> dict[str, Any] | None:
        """A line's stored outcome with who sent it and when (None: no outcome yet)."""
        o = self.outcomes
        columns = (o.c.inspected_on, o.c.outcome, o.c.violation_type, o.c.key_id, o.c.received_at, o.c.note)
        with self.backend.connect() as conn:
            row = conn.execute(sa.select(*columns).where(o.c.line_id == line_id)).mappings().first()
        if row is None:
            return None
        received = row["received_at"]
        return {**row, "received_at": _utc(received).isoformat() if received is not None else None}

    def count(self) -> int:
        with self.backend.connect() as conn:
            return int(conn.execute(sa.select(sa.func.count()).select_from(self.table)).scalar_one())
