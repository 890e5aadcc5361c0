"""The audit trail: every scoring decision, stored before the answer leaves, queryable by line id."""

import json
from collections.abc import Sequence
from datetime import UTC, datetime
from typing import Any

import sqlalchemy as sa
from sqlalchemy.engine import Connection, Engine

from roundabout.features.statements import CompiledStatement

metadata = sa.MetaData()
decisions = sa.Table(
    "decisions",
    metadata,
    sa.Column(
        "id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), primary_key=True, autoincrement=True
    ),
    sa.Column("request_id", sa.String(64), nullable=False),
    sa.Column("key_id", sa.String(64), nullable=False),
    sa.Column("line_id", sa.String(128), nullable=False, index=True),
    sa.Column("model_name", sa.String(128), nullable=False),
    sa.Column("model_version", sa.String(32), nullable=False),
    sa.Column("risk_score", sa.Float, nullable=False),
    sa.Column("anomaly_score", sa.Float, nullable=False),
    sa.Column("channel", sa.String(8), nullable=False),
    sa.Column("reasons", sa.Text, nullable=False),
    sa.Column("decided_at", sa.DateTime(timezone=True), nullable=False),
)


class AuditLog:
    """Writes and reads decisions in the service store (same database as the feature store)."""

    def __init__(self, engine: Engine) -> None:
        self.engine = engine
        self._insert: CompiledStatement | None = None

    def create_schema(self) -> None:
        metadata.create_all(self.engine)

    def record(self, rows: Sequence[dict[str, Any]], conn: Connection | None = None) -> None:
        """Store decisions (`reasons` is a list of dicts): in the caller's transaction `conn`, so they
        commit with the lines they decided on, else in a transaction of their own."""
        now = datetime.now(UTC)
        payload = [{**row, "reasons": json.dumps(row["reasons"]), "decided_at": now} for row in rows]
        if conn is None:
            with self.engine.begin() as own:
                self._statement().execute(own, payload)
        else:
            self._statement().execute(conn, payload)

    def _statement(self) -> CompiledStatement:
        if self._insert is None:
            values = {c.name: sa.bindparam(c.name, type_=c.type) for c in decisions.columns if c.name != "id"}
            self._insert = CompiledStatement(decisions.insert().values(values), self.engine.dialect)
        return self._insert

    def for_line(self, line_id: str) -> list[dict[str, Any]]:
        """Every decision on a line, oldest first."""
        query = sa.select(decisions).where(decisions.c.line_id == line_id).order_by(decisions.c.id)
        with self.engine.connect() as conn:
            rows = conn.execute(query).mappings().all()
        return [
            {
                **{k: v for k, v in row.items() if k not in ("id", "reasons", "decided_at")},
                "reasons": json.loads(row["reasons"]),
                "decided_at": row["decided_at"].isoformat(),
            }
            for row in rows
        ]
