"""The analyst console: each outcome keeps the key that sent it, when it arrived and an officer's note, and a
trader's lines are found by an index (the console's line page reads the trader's year).

Revision ID: 0009
Revises: 0008
Create Date: 2026-11-30
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0009"
down_revision: str | None = "0008"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    inspector = sa.inspect(op.get_bind())
    if "key_id" not in {c["name"] for c in inspector.get_columns("feat_outcomes")}:
        with op.batch_alter_table("feat_outcomes") as batch:
            batch.add_column(sa.Column("key_id", sa.String(64), nullable=True))
            batch.add_column(sa.Column("received_at", sa.DateTime(timezone=True), nullable=True))
            batch.add_column(sa.Column("note", sa.Text, nullable=True))
    if "ix_feat_lines_trader_day" not in {i["name"] for i in inspector.get_indexes("feat_lines")}:
        op.create_index("ix_feat_lines_trader_day", "feat_lines", ["trader_id", "day"])


def downgrade() -> None:
    op.drop_index("ix_feat_lines_trader_day", "feat_lines")
    with op.batch_alter_table("feat_outcomes") as batch:
        batch.drop_column("note")
        batch.drop_column("received_at")
        batch.drop_column("key_id")
