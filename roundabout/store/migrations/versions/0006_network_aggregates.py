"""The trade network's aggregates: lines of a trader to listed counterparties, lines of a counterparty from
listed traders, and inspection outcomes per counterparty (filled here from the lines and outcomes already
stored, so an upgraded store answers as a new one would; the listed ones start empty, as no list was
screened when those lines came).

Revision ID: 0006
Revises: 0005
Create Date: 2026-11-30
"""

from collections import defaultdict
from collections.abc import Sequence
from datetime import date

import sqlalchemy as sa
from alembic import op

revision: str = "0006"
down_revision: str | None = "0005"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

#: Per table: its measures, all kept as running totals too (`cum_<measure>`).
_TABLES = {
    "trader_listed_cp": ("listed_cp_lines",),
    "cp_listed_trader": ("listed_trader_lines",),
    "counterparty_outcomes": ("inspected", "violations"),
}
_EPOCH = date(1970, 1, 1)


def _double(name: str) -> sa.Column:
    return sa.Column(name, sa.Double, nullable=False, server_default="0")


def _counterparty_key(name: str | None) -> str | None:
    """The counterparty key of this revision: the name case- and spacing-blind."""
    if name is None:
        return None
    return " ".join(name.casefold().split()) or None


def upgrade() -> None:
    for name, measures in _TABLES.items():
        op.create_table(
            f"feat_agg_{name}",
            sa.Column("key", sa.Text, primary_key=True),
            sa.Column("day", sa.Integer, primary_key=True),
            *(_double(m) for m in measures),
            *(_double(f"cum_{m}") for m in measures),
        )
    _fill_counterparty_outcomes()


def _fill_counterparty_outcomes() -> None:
    conn = op.get_bind()
    rows = conn.execute(
        sa.text(
            "SELECT o.inspected_on, o.outcome, l.counterparty_name FROM feat_outcomes o "
            "JOIN feat_lines l ON l.line_id = o.line_id"
        )
    ).all()
    sums: dict[tuple[str, int], list[float]] = defaultdict(lambda: [0.0, 0.0])
    for inspected_on, outcome, counterparty in rows:
        key = _counterparty_key(counterparty)
        if key is None:
            continue
        if isinstance(inspected_on, str):  # SQLite hands dates back as ISO text
            inspected_on = date.fromisoformat(inspected_on)
        cell = sums[(key, (inspected_on - _EPOCH).days)]
        cell[0] += 1.0
        cell[1] += float(outcome == "violation")
    out = []
    running: dict[str, list[float]] = defaultdict(lambda: [0.0, 0.0])
    for (key, day), (inspected, violations) in sorted(sums.items()):
        total = running[key]
        total[0] += inspected
        total[1] += violations
        out.append(
            {"key": key, "day": day, "inspected": inspected, "violations": violations,
             "cum_inspected": total[0], "cum_violations": total[1]}
        )  # fmt: skip
    if out:
        table = sa.table(
            "feat_agg_counterparty_outcomes",
            *(
                sa.column(c)
                for c in ("key", "day", "inspected", "violations", "cum_inspected", "cum_violations")
            ),
        )
        for start in range(0, len(out), 5_000):
            conn.execute(table.insert(), out[start : start + 5_000])


def downgrade() -> None:
    for name in _TABLES:
        op.drop_table(f"feat_agg_{name}")
