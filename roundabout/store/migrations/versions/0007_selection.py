"""The inspection loop: each decision records how its line was selected and its propensity, outcomes keep
those of a loaded history, the store keeps the key of the exploration draws (`service_secrets`) and the
lines that took a place in an office's daily inspection budget (`office_day_places`).

Revision ID: 0007
Revises: 0006
Create Date: 2026-11-30
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0007"
down_revision: str | None = "0006"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    inspector = sa.inspect(op.get_bind())
    decided = {c["name"] for c in inspector.get_columns("decisions")}
    if "selection" not in decided:
        with op.batch_alter_table("decisions") as batch:
            batch.add_column(sa.Column("selection", sa.String(16), nullable=True))
            batch.add_column(sa.Column("propensity", sa.Float, nullable=True))
    if "selection" not in {c["name"] for c in inspector.get_columns("feat_outcomes")}:
        with op.batch_alter_table("feat_outcomes") as batch:
            batch.add_column(sa.Column("selection", sa.Text, nullable=True))
            batch.add_column(sa.Column("propensity", sa.Double, nullable=True))
    if not inspector.has_table("office_day_places"):
        op.create_table(
            "office_day_places",
            sa.Column("line_id", sa.String(128), primary_key=True),
            sa.Column("office", sa.Text, nullable=False),
            sa.Column("day", sa.Date, nullable=False),
            sa.Column("channel", sa.String(8), nullable=False),
        )
        op.create_index("ix_office_day_places", "office_day_places", ["office", "day", "channel"])
    if not inspector.has_table("service_secrets"):
        op.create_table(
            "service_secrets",
            sa.Column("name", sa.String(64), primary_key=True),
            sa.Column("value", sa.Text, nullable=False),
        )


def downgrade() -> None:
    op.drop_table("service_secrets")
    op.drop_index("ix_office_day_places", "office_day_places")
    op.drop_table("office_day_places")
    with op.batch_alter_table("feat_outcomes") as batch:
        batch.drop_column("propensity")
        batch.drop_column("selection")
    with op.batch_alter_table("decisions") as batch:
        batch.drop_column("propensity")
        batch.drop_column("selection")
