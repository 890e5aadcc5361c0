"""Running counts of distinct values per key and day, filled from the first-seen pairs already stored.

Revision ID: 0002
Revises: 0001
Create Date: 2026-11-29

Before it, a count of distinct counterparties (say) scanned every pair of the key; with it, the count is
one index seek: per `Distinct` query and key, how many pairs were first seen each day and the running total.
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0002"
down_revision: str | None = "0001"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

#: The `Distinct` queries of the feature definitions at this revision.
_RELATIONS = ("counterparty_traders", "trader_counterparties", "trader_counterparty_countries")


def upgrade() -> None:
    distinct = op.create_table(
        "feat_distinct",
        sa.Column("rel", sa.Text, primary_key=True),
        sa.Column("key", sa.Text, primary_key=True),
        sa.Column("day", sa.Integer, primary_key=True),
        sa.Column("n", sa.Double, nullable=False),
        sa.Column("cum", sa.Double, nullable=False),
    )
    pairs = sa.table(
        "feat_pairs", sa.column("rel"), sa.column("key"), sa.column("value"), sa.column("first_day")
    )
    per_day = (
        sa.select(pairs.c.rel, pairs.c.key, pairs.c.first_day.label("day"), sa.func.count().label("n"))
        .where(pairs.c.rel.in_(_RELATIONS))
        .group_by(pairs.c.rel, pairs.c.key, pairs.c.first_day)
        .subquery()
    )
    running = sa.func.sum(per_day.c.n).over(
        partition_by=(per_day.c.rel, per_day.c.key), order_by=per_day.c.day
    )
    rows = sa.select(per_day.c.rel, per_day.c.key, per_day.c.day, per_day.c.n, running)
    op.execute(distinct.insert().from_select(["rel", "key", "day", "n", "cum"], rows))


def downgrade() -> None:
    op.drop_table("feat_distinct")
