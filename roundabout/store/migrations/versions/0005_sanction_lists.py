"""Sanctions list snapshots (one row a loaded version, its entries beside it), and the list versions each
decision was screened against.

Revision ID: 0005
Revises: 0004
Create Date: 2026-11-30
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0005"
down_revision: str | None = "0004"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    inspector = sa.inspect(op.get_bind())
    if not inspector.has_table("sanction_lists"):
        _create_tables()
    if "list_versions" not in {c["name"] for c in inspector.get_columns("decisions")}:
        with op.batch_alter_table("decisions") as batch:
            batch.add_column(sa.Column("list_versions", sa.Text, nullable=True))


def _create_tables() -> None:
    op.create_table(
        "sanction_lists",
        sa.Column("version", sa.Integer, primary_key=True, autoincrement=True),
        sa.Column("list_name", sa.String(64), nullable=False),
        sa.Column("format", sa.String(32), nullable=False),
        sa.Column("published", sa.Date, nullable=True),
        sa.Column("content_hash", sa.String(64), nullable=False),
        sa.Column("entry_count", sa.Integer, nullable=False),
        sa.Column("source", sa.Text, nullable=False),
        sa.Column("loaded_at", sa.DateTime(timezone=True), nullable=False),
        sa.UniqueConstraint("list_name", "content_hash", name="uq_sanction_lists_content"),
    )
    op.create_table(
        "sanction_entries",
        sa.Column("list_version", sa.Integer, sa.ForeignKey("sanction_lists.version"), primary_key=True),
        sa.Column("entry_id", sa.String(128), primary_key=True),
        sa.Column("entry", sa.Text, nullable=False),
    )


def downgrade() -> None:
    with op.batch_alter_table("decisions") as batch:
        batch.drop_column("list_versions")
    op.drop_table("sanction_entries")
    op.drop_table("sanction_lists")
