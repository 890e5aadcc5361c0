"""Office-day inspection budgets, online: the lines that took a place in an office's red or yellow budget of
a day (`office_day_places`, one row per line).

A line keeps the place it took, so a retried call gets the same channel; counts only grow, so a line
refused for a full budget is refused again. Places are counted and taken in the scoring transaction, under
the service's write turn: one process never overfills a budget. Several workers on one PostgreSQL store can
overfill it by at most one place per concurrent transaction (each counts before the others commit).
"""

from datetime import date

import sqlalchemy as sa
from sqlalchemy.engine import Connection

from roundabout.store.tables import StoreTables


class OfficePlaces:
    """Reads and takes places in office-day budgets, in the caller's transaction."""

    def __init__(self, tables: StoreTables) -> None:
        self.table = tables.places

    def held(self, conn: Connection, line_id: str) -> str | None:
        """The channel whose place the line holds, if it took one."""
        t = self.table
        return conn.execute(sa.select(t.c.channel).where(t.c.line_id == line_id)).scalar_one_or_none()

    def taken(self, conn: Connection, office: str, day: date, channel: str) -> int:
        """Places taken in an office's budget of a channel on a day."""
        t = self.table
        match = (t.c.office == office, t.c.day == day, t.c.channel == channel)
        return int(conn.execute(sa.select(sa.func.count()).select_from(t).where(*match)).scalar_one())

    def take(self, conn: Connection, line_id: str, office: str, day: date, channel: str) -> None:
        conn.execute(self.table.insert().values(line_id=line_id, office=office, day=day, channel=channel))
