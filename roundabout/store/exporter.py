"""Reading the store back as canonical data: to train on what the service has seen, and to count it."""

import json
from collections.abc import Iterable
from datetime import date

import pandas as pd
import sqlalchemy as sa

from roundabout.data.io import CanonicalData
from roundabout.data.schema import INSPECTION_COLUMNS
from roundabout.store.backends import Backend
from roundabout.store.tables import StoreTables

#: Ids per `IN (...)` list.
_CHUNK = 900


class StoreExporter:
    """Reads stored lines and outcomes as canonical frames."""

    def __init__(self, backend: Backend, tables: StoreTables) -> None:
        self.backend = backend
        self.tables = tables

    def line_count(self) -> int:
        with self.backend.connect() as conn:
            return int(conn.execute(sa.select(sa.func.count()).select_from(self.tables.lines)).scalar_one())

    def line_dates(self, ids: Iterable[str]) -> dict[str, date]:
        """The date of each of `ids` the store holds (ids it does not hold are left out)."""
        wanted, t, known = sorted(set(ids)), self.tables.lines, {}
        with self.backend.connect() as conn:
            for i in range(0, len(wanted), _CHUNK):
                query = sa.select(t.c.line_id, t.c.date).where(t.c.line_id.in_(wanted[i : i + _CHUNK]))
                known.update({row.line_id: row.date for row in conn.execute(query)})
        return known

    def lines(self, extra_columns: dict[str, str] | None = None) -> pd.DataFrame:
        """Every stored line as a canonical frame (ordered by date, then line_id), with the declared extra
        columns taken from each line's stored JSON."""
        t = self.tables.lines
        with self.backend.connect() as conn:
            frame = pd.read_sql(sa.select(t).order_by(t.c.day, t.c.line_id), conn)
        frame["date"] = pd.to_datetime(frame["date"]).astype("datetime64[ns]")
        extra = frame.pop("extra")
        frame = frame.drop(columns="day")
        if extra_columns:
            parsed = [json.loads(x) if isinstance(x, str) else {} for x in extra]
            for name in extra_columns:
                frame[name] = [p.get(name) for p in parsed]
        return frame

    def outcomes(self) -> pd.DataFrame:
        """Every stored inspection outcome as a canonical frame (ordered by line_id). An outcome fed back
        to the service takes how its line was selected, and its propensity, from the line's latest
        decision; one loaded with a history keeps its own."""
        t, d = self.tables.outcomes, self.tables.decisions
        latest = sa.select(sa.func.max(d.c.id).label("id")).group_by(d.c.line_id).subquery()
        decided = (
            sa.select(d.c.line_id, d.c.selection.label("decided"), d.c.propensity.label("decided_p"))
            .join(latest, latest.c.id == d.c.id)
            .subquery()
        )
        query = (
            sa.select(*(t.c[c] for c in INSPECTION_COLUMNS), decided.c.decided, decided.c.decided_p)
            .outerjoin(decided, decided.c.line_id == t.c.line_id)
            .order_by(t.c.line_id)
        )
        with self.backend.connect() as conn:
            frame = pd.read_sql(query, conn)
        frame["inspected_on"] = pd.to_datetime(frame["inspected_on"]).astype("datetime64[ns]")
        decided_p = pd.to_numeric(frame.pop("decided_p"))
        frame["selection"] = frame["selection"].where(frame["selection"].notna(), frame.pop("decided"))
        frame["propensity"] = pd.to_numeric(frame["propensity"]).fillna(decided_p)
        return frame

    def canonical(self, extra_columns: dict[str, str] | None = None) -> CanonicalData:
        """The stored lines and outcomes as a canonical data set."""
        extra = dict(extra_columns or {})
        return CanonicalData(self.lines(extra), self.outcomes(), None, extra)
