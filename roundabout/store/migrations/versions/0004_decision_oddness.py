"""Decisions record the oddness score the oddness detector gave (NULL for models without one).

Revision ID: 0004
Revises: 0003
Create Date: 2026-11-30
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0004"
down_revision: str | None = "0003"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    columns = {c["name"] for c in sa.inspect(op.get_bind()).get_columns("decisions")}
    if "oddness_score" not in columns:
        with op.batch_alter_table("decisions") as batch:
            batch.add_column(sa.Column("oddness_score", sa.Float, nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("decisions") as batch:
        batch.drop_column("oddness_score")
