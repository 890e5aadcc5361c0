"""The feature tables: lines seen, outcomes, per-(key, day) aggregates and first-seen pairs.

Revision ID: 0001
Revises:
Create Date: 2026-11-29

The schema as it stood before the store was versioned, written out as it was (a migration never reads the
current code's definitions, which move on).
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0001"
down_revision: str | None = None
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

_LINE_COLUMNS: tuple[tuple[str, type], ...] = (
    ("line_id", sa.Text),
    ("document_id", sa.Text),
    ("document_kind", sa.Text),
    ("direction", sa.Text),
    ("procedure", sa.Text),
    ("date", sa.Date),
    ("trader_id", sa.Text),
    ("trader_name", sa.Text),
    ("counterparty_name", sa.Text),
    ("counterparty_country", sa.Text),
    ("declarant_id", sa.Text),
    ("hs_code", sa.Text),
    ("description", sa.Text),
    ("origin_country", sa.Text),
    ("dispatch_country", sa.Text),
    ("destination_country", sa.Text),
    ("trading_country", sa.Text),
    ("value_usd", sa.Double),
    ("net_mass_kg", sa.Double),
    ("gross_mass_kg", sa.Double),
    ("quantity", sa.Double),
    ("transport_mode", sa.Text),
    ("customs_office", sa.Text),
    ("previous_document_id", sa.Text),
)

#: Per aggregate table: its measures, and those kept as running totals (`cum_<measure>`).
_AGGREGATES: dict[str, tuple[tuple[str, ...], tuple[str, ...]]] = {
    "trader": (
        ("lines", "value", "chpl_value", "tier12", "ru_by_export"),
        ("value", "chpl_value", "ru_by_export"),
    ),
    "trader_hs6": (("lines", "imports", "import_qty", "import_qty_missing", "import_mass"), ("lines",)),
    "declarant": (("lines", "chpl_lines"), ("lines", "chpl_lines")),
    "trader_outcomes": (("inspected", "violations"), ("inspected", "violations")),
    "declarant_outcomes": (("inspected", "violations"), ("inspected", "violations")),
    "trader_reship": (("quick_reships",), ("quick_reships",)),
}


def _double(name: str) -> sa.Column:
    return sa.Column(name, sa.Double, nullable=False, server_default="0")


def upgrade() -> None:
    op.create_table(
        "feat_lines",
        *(
            sa.Column(name, kind, primary_key=name == "line_id", nullable=name != "line_id")
            for name, kind in _LINE_COLUMNS
        ),
        sa.Column("day", sa.Integer, nullable=False),
        sa.Column("extra", sa.Text),
    )
    op.create_index("ix_feat_lines_day", "feat_lines", ["day"])
    op.create_table(
        "feat_outcomes",
        sa.Column("line_id", sa.Text, primary_key=True),
        sa.Column("inspected_on", sa.Date, nullable=False),
        sa.Column("outcome", sa.Text, nullable=False),
        sa.Column("violation_type", sa.Text),
    )
    for name, (measures, running) in _AGGREGATES.items():
        op.create_table(
            f"feat_agg_{name}",
            sa.Column("key", sa.Text, primary_key=True),
            sa.Column("day", sa.Integer, primary_key=True),
            *(_double(m) for m in measures),
            *(_double(f"cum_{m}") for m in running),
        )
    op.create_table(
        "feat_pairs",
        sa.Column("rel", sa.Text, primary_key=True),
        sa.Column("key", sa.Text, primary_key=True),
        sa.Column("value", sa.Text, primary_key=True),
        sa.Column("first_day", sa.Integer, nullable=False),
    )
    op.create_index("ix_feat_pairs_first", "feat_pairs", ["rel", "key", "first_day"])


def downgrade() -> None:
    op.drop_table("feat_pairs")
    for name in reversed(_AGGREGATES):
        op.drop_table(f"feat_agg_{name}")
    op.drop_table("feat_outcomes")
    op.drop_table("feat_lines")
