"""Every scoring decision, stored before the answer leaves, queryable by line id. Each records the sanctions
list versions its parties were screened against (`{"list name": version}`) and is appended to the audit
trail's hash chain in the same transaction, with the line as sent, the model version, a hash of the inputs
the model read and the reasons shown (`decision_entry`); `audit_seq` links the row to its record.

Times are stored and returned in UTC with their offset (`2024-03-12T09:30:00.123456+00:00`): SQLite keeps
no time zone, so a time read back without one is UTC, as it was written.
"""

import hashlib
import json
import math
from collections.abc import Mapping, Sequence
from datetime import UTC, datetime
from typing import Any

import sqlalchemy as sa
from sqlalchemy.engine import Connection

from roundabout.audit import Entry
from roundabout.store.audit_log import AuditLog
from roundabout.store.backends import Backend
from roundabout.store.statements import CompiledStatement
from roundabout.store.tables import StoreTables


def _utc(moment: datetime) -> datetime:
    return moment.replace(tzinfo=UTC) if moment.tzinfo is None else moment.astimezone(UTC)


def utc_iso(moment: datetime) -> str:
    """A stored time as the API shows it: UTC ISO text with the offset (SQLite's naive times are UTC)."""
    return _utc(moment).isoformat()


#: Columns `for_line` leaves out or shows parsed (the inputs are for monitoring: `served.py`).
_NOT_SHOWN = frozenset({"id", "reasons", "decided_at", "list_versions", "inputs", "audit_seq"})

#: Decision fields its audit record repeats as they are (the rest: the line, reasons, versions, inputs hash).
AUDITED = (
    "request_id",
    "model_name",
    "model_version",
    "risk_score",
    "anomaly_score",
    "oddness_score",
    "channel",
    "selection",
    "propensity",
)


#: The decision columns, as stored, whose digest leads the decision's audit record (`row_digest`).
DIGESTED = (
    "request_id", "key_id", "line_id", "model_name", "model_version", "risk_score", "anomaly_score",
    "oddness_score", "channel", "reasons", "list_versions", "selection", "propensity",
)  # fmt: skip
FLOATS = frozenset({"risk_score", "anomaly_score", "oddness_score", "propensity"})
#: Where a decision's audit record keeps the digest of its row: the first key of its canonical JSON
#: (`#` sorts before letters), so a verifier reads it at a fixed place without parsing the record.
DIGEST_KEY = "#row"
DIGEST_AT = slice(len('{"#row":"'), len('{"#row":"') + 64)


def _field(value: Any, is_float: bool) -> str:
    """One column as the digest writes it: length-prefixed text (unambiguous whatever it holds); a float
    by `repr` (NaN as null: SQLite keeps NaN as NULL), null as `-`."""
    if is_float and value is not None:
        value = float(value)
        if math.isnan(value):
            value = None
    if value is None:
        return "-"
    text = repr(value) if is_float else str(value)
    return f"{len(text)}:{text}"


_IS_FLOAT = tuple(c in FLOATS for c in DIGESTED)


def digest_of(values: Sequence[Any], inputs: bytes | None) -> str:
    """SHA-256 of a decision row's `DIGESTED` columns in order, as stored (reasons and list versions as their
    JSON text), and of its inputs: `audit verify` compares a million rows with their records by it."""
    parts = [_field(v, f) for v, f in zip(values, _IS_FLOAT, strict=True)]
    parts.append(hashlib.sha256(inputs).hexdigest() if inputs is not None else "-")
    return hashlib.sha256("|".join(parts).encode()).hexdigest()


def row_digest(row: Mapping[str, Any]) -> str:
    """`digest_of` a row given as a mapping (as it is about to be stored)."""
    return digest_of([row.get(c) for c in DIGESTED], row.get("inputs"))


def decision_entry(row: Mapping[str, Any], line: Mapping[str, Any] | None) -> Entry:
    """A decision's audit record: what was decided on which line as sent, by which model on which inputs;
    `row` as stored (`reasons` and `list_versions` JSON text)."""
    inputs = row.get("inputs")
    content = {name: row.get(name) for name in AUDITED}
    versions = row.get("list_versions")
    content.update(
        {DIGEST_KEY: row_digest(row)},
        line=dict(line) if line is not None else None,
        reasons=json.loads(row["reasons"]),
        list_versions=json.loads(versions) if versions else {},
        inputs_sha256=hashlib.sha256(inputs).hexdigest() if inputs is not None else None,
    )
    return Entry("decision", row["key_id"], row["line_id"], content)


class DecisionLog:
    """Writes and reads decisions in the service store."""

    def __init__(self, backend: Backend, tables: StoreTables, audit: AuditLog) -> None:
        self.backend = backend
        self.audit = audit
        self.table = tables.decisions
        self.outcomes = tables.outcomes
        self._insert: CompiledStatement | None = None

    def record(
        self,
        conn: Connection,
        rows: Sequence[dict[str, Any]],
        lines: Sequence[Mapping[str, Any] | None] | None = None,
    ) -> None:
        """Store decisions (`reasons` a list of dicts, `inputs` the model inputs as `served.encode_inputs`
        gives them, or absent) on `lines` (the checked lines, in the same order; None: not kept) and their
        audit records in the caller's transaction `conn`, so they commit with the lines they decided on.
        Call it last in the transaction: it takes the audit chain's head until the commit."""
        now = datetime.now(UTC)
        lines = lines if lines is not None else [None] * len(rows)
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
        entries = [decision_entry(p, line) for p, line in zip(payload, lines, strict=True)]
        for p, seq in zip(payload, self.audit.append(conn, entries), strict=True):
            p["audit_seq"] = seq
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
