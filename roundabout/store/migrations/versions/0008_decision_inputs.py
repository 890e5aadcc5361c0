"""Monitoring: each decision keeps the model inputs it was made on (float32, in the model's input order),
and the store keeps each model version's input names, so drift is measured on what the model saw.

Revision ID: 0008
Revises: 0007
Create Date: 2026-11-30
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0008"
down_revision: str | None = "0007"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    inspector = sa.inspect(op.get_bind())
    if "inputs" not in {c["name"] for c in inspector.get_columns("decisions")}:
        with op.batch_alter_table("decisions") as batch:
            batch.add_column(sa.Column("inputs", sa.LargeBinary, nullable=True))
    if not inspector.has_table("model_inputs"):
        op.create_table(
            "model_inputs",
            sa.Column("model_name", sa.String(128), primary_key=True),
            sa.Column("model_version", sa.String(32), primary_key=True),
            sa.Column("names", sa.Text, nullable=False),
        )


def downgrade() -> None:
    op.drop_table("model_inputs")
    with op.batch_alter_table("decisions") as batch:
        batch.drop_column("inputs")
