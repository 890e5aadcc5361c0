"""What the service served, read back for monitoring: each decided line of a period with its latest
decision (scores, channel, selection, the model inputs it was made on) and its outcome, if one came back.

A period is a range of the lines' own dates (declaration dates), not of the moments they were decided, so
a back-fill of last year's lines is judged as last year's trade. The model inputs are kept per decision as
float32 bytes in the order of the deciding version's input names (`model_inputs`).
"""

import json
from collections.abc import Sequence
from datetime import date, timedelta
from typing import Any

import numpy as np
import pandas as pd
import sqlalchemy as sa
from sqlalchemy.engine import Connection

from roundabout.features.columns import day_number
from roundabout.store.backends import Backend
from roundabout.store.tables import StoreTables

_EPOCH = date(1970, 1, 1)
INPUT_DTYPE = np.dtype("<f4")


def encode_inputs(row: np.ndarray) -> bytes:
    """A decision's model inputs as stored (float32, little-endian; NaN kept)."""
    return np.asarray(row, dtype=INPUT_DTYPE).tobytes()


def decode_inputs(blobs: Sequence[bytes | None], width: int) -> np.ndarray:
    """Stored inputs back as a float64 matrix of `width` columns; a missing or malformed row is all NaN."""
    out = np.full((len(blobs), width), np.nan)
    size = width * INPUT_DTYPE.itemsize
    for i, blob in enumerate(blobs):
        if blob is not None and len(blob) == size:
            out[i] = np.frombuffer(blob, dtype=INPUT_DTYPE)
    return out


class ServedLines:
    """Reads the decided lines of a period and records each serving version's input names."""

    def __init__(self, backend: Backend, tables: StoreTables) -> None:
        self.backend = backend
        self.tables = tables

    def register_inputs(self, model_name: str, version: str, names: Sequence[str]) -> None:
        """Record a version's input names (once; a version's inputs never change)."""
        t = self.tables.model_inputs
        match = (t.c.model_name == model_name) & (t.c.model_version == version)
        with self.backend.connect() as conn:
            if conn.execute(sa.select(t.c.names).where(match)).first() is not None:
                return
        try:
            with self.backend.transaction() as conn:
                conn.execute(
                    t.insert().values(
                        model_name=model_name, model_version=version, names=json.dumps(list(names))
                    )
                )
        except sa.exc.IntegrityError:
            pass  # another worker recorded it first: the same names

    def input_names(self) -> dict[tuple[str, str], list[str]]:
        """Each recorded version's input names."""
        t = self.tables.model_inputs
        with self.backend.connect() as conn:
            rows = conn.execute(sa.select(t)).all()
        return {(r.model_name, r.model_version): list(json.loads(r.names)) for r in rows}

    def last_date(self) -> date | None:
        """The latest date of a decided line (None: no decision yet)."""
        lines, d = self.tables.lines, self.tables.decisions
        query = sa.select(sa.func.max(lines.c.day)).select_from(lines.join(d, d.c.line_id == lines.c.line_id))
        with self.backend.connect() as conn:
            day = conn.execute(query).scalar_one_or_none()
        return None if day is None else _EPOCH + timedelta(days=int(day))

    def latest_decided_date(self) -> date | None:
        """The date of the line decided last (None: no decision yet): two index seeks, whatever the store
        holds, where `last_date` reads every decision."""
        lines, d = self.tables.lines, self.tables.decisions
        newest = sa.select(d.c.line_id).order_by(d.c.id.desc()).limit(1).scalar_subquery()
        with self.backend.connect() as conn:
            day = conn.execute(sa.select(lines.c.day).where(lines.c.line_id == newest)).scalar_one_or_none()
        return None if day is None else _EPOCH + timedelta(days=int(day))

    def period(self, first: date, last: date, columns: Sequence[str] = ()) -> pd.DataFrame:
        """Every line dated `first`..`last` (inclusive) with a decision: its date, the canonical `columns`
        asked for, its latest decision and its outcome (None if none came back), ordered by date."""
        lines, d, o = self.tables.lines, self.tables.decisions, self.tables.outcomes
        later = d.alias("later")
        latest = (
            sa.select(sa.func.max(later.c.id)).where(later.c.line_id == lines.c.line_id).scalar_subquery()
        )
        query = (
            sa.select(
                lines.c.line_id,
                lines.c.date,
                *(lines.c[c] for c in columns if c not in ("line_id", "date")),
                d.c.model_name,
                d.c.model_version,
                d.c.risk_score,
                d.c.channel,
                d.c.selection,
                d.c.propensity,
                d.c.inputs,
                o.c.outcome,
            )
            .select_from(
                lines.join(d, d.c.line_id == lines.c.line_id).outerjoin(o, o.c.line_id == lines.c.line_id)
            )
            .where(lines.c.day >= day_number(first), lines.c.day <= day_number(last), d.c.id == latest)
            .order_by(lines.c.day, lines.c.line_id)
        )
        with self.backend.connect() as conn:
            frame = _read(conn, query)
        frame["date"] = pd.to_datetime(frame["date"]).astype("datetime64[ns]")
        return frame


def _read(conn: Connection, query: Any) -> pd.DataFrame:
    result = conn.execute(query)
    return pd.DataFrame(result.fetchall(), columns=list(result.keys()))
