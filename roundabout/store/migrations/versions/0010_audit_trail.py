"""The audit trail: hash-chained audit records with their head and signed checkpoints, every outcome kept
(corrections name the record they supersede), decisions linked to their audit record, and API keys kept in
the store (expiry, rate limit) so the service picks up a new key without a restart.

Audit records and checkpoints are append-only: triggers refuse UPDATE and DELETE, so a mistaken statement
fails. They do not stop a database owner, who can drop them; the chain and its signed checkpoints are what
make such an edit show (`roundabout audit verify`).

Revision ID: 0010
Revises: 0009
Create Date: 2026-11-30
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0010"
down_revision: str | None = "0009"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

GENESIS = "0" * 64
APPEND_ONLY = ("audit_records", "audit_checkpoints")


def upgrade() -> None:
    big_id = sa.BigInteger().with_variant(sa.Integer(), "sqlite")
    inspector = sa.inspect(op.get_bind())
    if "audit_seq" not in {c["name"] for c in inspector.get_columns("decisions")}:
        with op.batch_alter_table("decisions") as batch:
            batch.add_column(sa.Column("audit_seq", sa.BigInteger, nullable=True))
    if "audit_records" in inspector.get_table_names():  # a store made from this code's tables: all there
        return
    op.create_table(
        "outcome_records",
        sa.Column("id", big_id, primary_key=True, autoincrement=True),
        sa.Column("line_id", sa.Text, nullable=False),
        sa.Column("inspected_on", sa.Date, nullable=False),
        sa.Column("outcome", sa.Text, nullable=False),
        sa.Column("violation_type", sa.Text),
        sa.Column("selection", sa.Text),
        sa.Column("propensity", sa.Double),
        sa.Column("key_id", sa.String(64)),
        sa.Column("received_at", sa.DateTime(timezone=True)),
        sa.Column("note", sa.Text),
        sa.Column("supersedes", sa.BigInteger, nullable=True),
        sa.Column("reason", sa.Text, nullable=True),
        sa.Column("audit_seq", sa.BigInteger, nullable=True),
    )
    op.create_index("ix_outcome_records_line_id", "outcome_records", ["line_id"])
    columns = (
        "line_id, inspected_on, outcome, violation_type, selection, propensity, key_id, received_at, note"
    )
    op.execute(
        f"INSERT INTO outcome_records ({columns}) SELECT {columns} FROM feat_outcomes ORDER BY line_id"
    )
    op.create_table(
        "audit_records",
        sa.Column("seq", sa.BigInteger, primary_key=True, autoincrement=False),
        sa.Column("at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("kind", sa.String(32), nullable=False),
        sa.Column("actor", sa.String(128), nullable=False),
        sa.Column("subject", sa.Text, nullable=True),
        sa.Column("content", sa.Text, nullable=False),
        sa.Column("prev_hash", sa.String(64), nullable=False),
        sa.Column("hash", sa.String(64), nullable=False),
    )
    op.create_index("ix_audit_records_subject", "audit_records", ["subject"])
    op.create_index("ix_audit_records_at", "audit_records", ["at"])
    head = op.create_table(
        "audit_head",
        sa.Column("id", sa.Integer, primary_key=True, autoincrement=False),
        sa.Column("seq", sa.BigInteger, nullable=False),
        sa.Column("hash", sa.String(64), nullable=False),
    )
    op.bulk_insert(head, [{"id": 1, "seq": 0, "hash": GENESIS}])
    op.create_table(
        "audit_checkpoints",
        sa.Column("seq", sa.BigInteger, primary_key=True, autoincrement=False),
        sa.Column("hash", sa.String(64), nullable=False),
        sa.Column("at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("key_id", sa.String(64), nullable=False),
        sa.Column("signature", sa.String(128), nullable=False),
    )
    op.create_table(
        "api_keys",
        sa.Column("id", sa.String(64), primary_key=True),
        sa.Column("sha256", sa.String(64), nullable=False, unique=True),
        sa.Column("scopes", sa.Text, nullable=False),
        sa.Column("expires_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("rate_per_second", sa.Double, nullable=True),
        sa.Column("burst", sa.Integer, nullable=True),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("revoked_at", sa.DateTime(timezone=True), nullable=True),
    )
    _append_only()


def _append_only() -> None:
    if op.get_bind().dialect.name == "postgresql":
        op.execute(
            "CREATE FUNCTION roundabout_append_only() RETURNS trigger LANGUAGE plpgsql AS $$ BEGIN "
            "RAISE EXCEPTION '% is append-only', TG_TABLE_NAME; END $$"
        )
        for table in APPEND_ONLY:
            op.execute(
                f"CREATE TRIGGER {table}_append_only BEFORE UPDATE OR DELETE ON {table} "
                "FOR EACH ROW EXECUTE FUNCTION roundabout_append_only()"
            )
        return
    for table in APPEND_ONLY:
        for event in ("UPDATE", "DELETE"):
            op.execute(
                f"CREATE TRIGGER {table}_no_{event.lower()} BEFORE {event} ON {table} "
                f"BEGIN SELECT RAISE(ABORT, '{table} is append-only'); END"
            )


def downgrade() -> None:
    if op.get_bind().dialect.name == "postgresql":
        for table in APPEND_ONLY:
            op.execute(f"DROP TRIGGER IF EXISTS {table}_append_only ON {table}")
        op.execute("DROP FUNCTION IF EXISTS roundabout_append_only()")
    for table in ("api_keys", "audit_checkpoints", "audit_head", "audit_records", "outcome_records"):
        op.drop_table(table)
    with op.batch_alter_table("decisions") as batch:
        batch.drop_column("audit_seq")
