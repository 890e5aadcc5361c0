"""The console's reads of the service store: the queue of a day's red and yellow lines, one line with its
outcome, and a trader's recent lines. Each is one or two indexed statements: the queue starts from the
day's lines (`feat_lines.day`) and takes each line's latest decision by its `line_id` index, so it costs
what a day holds, not what the store holds."""

import json
from dataclasses import dataclass, field
from datetime import date, timedelta
from typing import Any

import sqlalchemy as sa

from roundabout.features.columns import day_number
from roundabout.store import ServiceStore

PAGE_LINES = 50
#: Columns of a line the queue shows.
QUEUE_COLUMNS = (
    "line_id", "date", "trader_id", "trader_name", "hs_code", "description", "origin_country",
    "dispatch_country", "destination_country", "value_usd", "customs_office",
)  # fmt: skip
SORTS = {"risk": "risk_score", "value": "value_usd"}


@dataclass(frozen=True)
class QueueFilter:
    """What the queue is asked for; every field optional but the day."""

    day: date
    channels: tuple[str, ...] = ("red", "yellow")
    office: str | None = None
    chapter: str | None = None
    trader: str | None = None
    sort: str = "risk"
    page: int = 1


@dataclass
class QueuePage:
    rows: list[dict[str, Any]]
    total: int
    filter: QueueFilter
    pages: int = 1
    offices: list[str] = field(default_factory=list)


def _latest(store: ServiceStore, lines: sa.Table) -> Any:
    d = store.tables.decisions.alias("later")
    return sa.select(sa.func.max(d.c.id)).where(d.c.line_id == lines.c.line_id).scalar_subquery()


def queue(store: ServiceStore, wanted: QueueFilter) -> QueuePage:
    """A page of the day's lines whose latest decision is in `wanted.channels`, filtered and sorted."""
    t = store.tables
    lines, d, o = t.lines, t.decisions, t.outcomes
    match = [lines.c.day == day_number(wanted.day), d.c.channel.in_(wanted.channels)]
    if wanted.office:
        match.append(lines.c.customs_office == wanted.office)
    if wanted.chapter:
        match.append(lines.c.hs_code.startswith(wanted.chapter, autoescape=True))
    if wanted.trader:
        match.append(
            sa.or_(lines.c.trader_id == wanted.trader, lines.c.trader_name.ilike(f"%{wanted.trader}%"))
        )
    joined = lines.join(d, (d.c.line_id == lines.c.line_id) & (d.c.id == _latest(store, lines))).outerjoin(
        o, o.c.line_id == lines.c.line_id
    )
    order = d.c.risk_score if wanted.sort == "risk" else lines.c.value_usd
    query = (
        sa.select(
            *(lines.c[c] for c in QUEUE_COLUMNS),
            d.c.risk_score,
            d.c.channel,
            d.c.selection,
            d.c.reasons,
            o.c.outcome,
        )
        .select_from(joined)
        .where(*match)
        .order_by(order.desc().nulls_last(), lines.c.line_id)
        .limit(PAGE_LINES)
        .offset((max(wanted.page, 1) - 1) * PAGE_LINES)
    )
    count = sa.select(sa.func.count()).select_from(joined).where(*match)
    offices = sa.select(lines.c.customs_office).where(lines.c.day == day_number(wanted.day)).distinct()
    with store.backend.connect() as conn:
        rows = [dict(r) for r in conn.execute(query).mappings()]
        total = int(conn.execute(count).scalar_one())
        office_list = sorted(str(x) for x in conn.execute(offices).scalars() if x)
    for row in rows:
        reasons = json.loads(row.pop("reasons") or "[]")
        row["top_reason"] = reasons[0]["text"] if reasons else ""
    pages = max(1, -(-total // PAGE_LINES))
    return QueuePage(rows, total, wanted, pages, office_list)


def latest_day(store: ServiceStore) -> date | None:
    """The queue's default day: the date of the line decided last (today's, in a live service)."""
    return store.served.latest_decided_date()


def line(store: ServiceStore, line_id: str) -> dict[str, Any] | None:
    """Every stored field of a line, with its outcome (None: not stored)."""
    t = store.tables
    query = (
        sa.select(t.lines, t.outcomes.c.outcome, t.outcomes.c.inspected_on, t.outcomes.c.violation_type)
        .select_from(t.lines.outerjoin(t.outcomes, t.outcomes.c.line_id == t.lines.c.line_id))
        .where(t.lines.c.line_id == line_id)
    )
    with store.backend.connect() as conn:
        row = conn.execute(query).mappings().first()
    if row is None:
        return None
    out = dict(row)
    out["extra"] = json.loads(out["extra"]) if out.get("extra") else {}
    return out


def trader_lines(store: ServiceStore, trader_id: str, until: date, days: int = 365) -> list[dict[str, Any]]:
    """A trader's lines in the `days` up to `until` (date, commodity code, value) with their outcomes."""
    t = store.tables
    first = day_number(until - timedelta(days=days))
    query = (
        sa.select(
            t.lines.c.line_id, t.lines.c.date, t.lines.c.hs_code, t.lines.c.value_usd, t.outcomes.c.outcome
        )
        .select_from(t.lines.outerjoin(t.outcomes, t.outcomes.c.line_id == t.lines.c.line_id))
        .where(t.lines.c.trader_id == trader_id, t.lines.c.day >= first, t.lines.c.day <= day_number(until))
        .order_by(t.lines.c.day)
    )
    with store.backend.connect() as conn:
        return [dict(r) for r in conn.execute(query).mappings()]
