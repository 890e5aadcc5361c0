"""The service store as one object: what a process opens once and hands to whatever reads or writes it.

It wires the collaborators on one backend (one engine, one connection pool): the tables and their
migrations, the history reader, the aggregate writer, the exporter, the decision log, the sanctions
list snapshots, the key of the exploration draws and the served lines read back for monitoring. The service
needs two calls of it: score lines (`features(artifacts).read_then_add`, each line read as of its date then
added, in one transaction with its decision) and record outcomes (`add_outcomes`). Inputs are checked
lines and outcomes (`roundabout.data.records`, `roundabout.data.validation`): the store checks nothing
again.
"""

import secrets
from collections.abc import Callable, Iterator, Mapping, Sequence
from contextlib import contextmanager
from typing import Any, Self

import sqlalchemy as sa
from sqlalchemy.engine import Connection

from roundabout.audit import Entry
from roundabout.data.rules import FormatRules
from roundabout.errors import InvalidInputError
from roundabout.features.artifacts import FeatureArtifacts
from roundabout.parties.index import ScreeningIndex
from roundabout.store import schema
from roundabout.store.api_keys import KeyStore
from roundabout.store.audit_log import AuditLog
from roundabout.store.backends import Backend, open_backend
from roundabout.store.decisions import DecisionLog, utc_iso
from roundabout.store.exporter import StoreExporter
from roundabout.store.feedback import attributed, checked_outcomes
from roundabout.store.office_places import OfficePlaces
from roundabout.store.online_features import OnlineFeatures
from roundabout.store.outcome_records import OutcomeRecords
from roundabout.store.reader import HistoryReader
from roundabout.store.sanction_lists import ListStore
from roundabout.store.served import ServedLines
from roundabout.store.tables import StoreTables
from roundabout.store.writer import AggregateWriter

#: The name of the exploration key in `service_secrets`.
SELECTION_KEY = "selection_key"


class ServiceStore:
    """Lines seen, their aggregates, inspection outcomes and decisions, in one SQLite or PostgreSQL
    database (see the module docstring)."""

    def __init__(self, backend: Backend) -> None:
        self.backend = backend
        self.tables = StoreTables()
        self.reader = HistoryReader(backend, self.tables)
        self.writer = AggregateWriter(backend, self.tables, self.reader)
        self.exporter = StoreExporter(backend, self.tables)
        self.audit = AuditLog(backend, self.tables)
        self.keys = KeyStore(backend, self.tables, self.audit)
        self.decisions = DecisionLog(backend, self.tables, self.audit)
        self.sanction_lists = ListStore(backend, self.tables, self.audit)
        self.places = OfficePlaces(self.tables)
        self.served = ServedLines(backend, self.tables)
        self.outcome_records = OutcomeRecords(self.tables, self.writer, self.audit)

    @classmethod
    def open(cls, url: str, timeout: float | None = None, autocheckpoint: bool = True) -> Self:
        """The store at a SQLAlchemy URL. `timeout`: the longest any statement waits (seconds);
        `autocheckpoint=False` (SQLite): the owner calls `checkpoint` from the background."""
        return cls(open_backend(url, timeout, autocheckpoint))

    @property
    def url(self) -> str:
        return self.backend.url

    def migrate(self) -> None:
        """Create the tables, or upgrade them to this code's schema (idempotent)."""
        schema.migrate(self.backend)

    @contextmanager
    def transaction(self) -> Iterator[Connection]:
        """One transaction: what the block writes (lines, decisions) commits together or not at all."""
        with self.backend.transaction() as conn:
            yield conn

    def features(
        self,
        artifacts: FeatureArtifacts,
        names: list[str] | None = None,
        screening: Callable[[], ScreeningIndex | None] | None = None,
    ) -> OnlineFeatures:
        """The features of one model version's artifacts (`names` of them, in that order: a model's inputs;
        default all), read from (and lines added to) this store; `screening()` gives the lists' index of
        the moment (None: no list)."""
        return OnlineFeatures(self.reader, self.writer, artifacts, names, screening)

    def add_outcomes(self, outcomes: Sequence[dict[str, Any]], batch: Entry | None = None) -> int:
        """Store checked inspection outcomes in one transaction, with their outcome records and audit
        records; how many were new (known ids skipped). `batch`: the call's own audit record (default: a
        load of history by the command line, `outcomes_loaded`)."""
        ids = [o["line_id"] for o in outcomes]
        if len(set(ids)) != len(ids):
            duplicate = next(i for i in ids if ids.count(i) > 1)
            raise InvalidInputError("line_id", "duplicate line_id in one call", duplicate)
        if not outcomes:
            return 0
        batch = batch or Entry("outcomes_loaded", "cli", None, {})
        with self.backend.transaction() as conn:
            fresh = self.writer.add_outcomes(conn, list(outcomes))
            content = {**batch.content, "sent": len(ids), "new": len(fresh)}
            self.outcome_records.received(conn, fresh, Entry(batch.kind, batch.actor, batch.subject, content))
        return len(fresh)

    def record_outcomes(
        self,
        sent: Sequence[Mapping[str, Any]],
        key_id: str,
        rules: FormatRules,
        notes: Mapping[str, str] | None = None,
    ) -> int:
        """Check outcomes fed back by `key_id` (`feedback.py`: their rules, their lines) and store them with
        who sent them and when, all or none; how many were new. Raises `OutcomeProblems` (every problem
        found) or `ConflictError` (an outcome differing from the stored one)."""
        ids = [str(r.get("line_id")) for r in sent]
        outcomes = checked_outcomes(sent, rules, self.exporter.line_dates(ids))
        return self.add_outcomes(attributed(outcomes, key_id, notes), Entry("feedback", key_id, None, {}))

    def correct_outcomes(
        self, sent: Sequence[Mapping[str, Any]], key_id: str, rules: FormatRules
    ) -> list[int]:
        """Corrections sent by `key_id` (each an outcome with `supersedes`, the record it replaces, and a
        `reason`), checked like outcomes, stored all or none; the new records' ids (`outcome_records.py`)."""
        ids = [str(r.get("line_id")) for r in sent]
        if len(set(ids)) != len(ids):
            duplicate = next(i for i in ids if ids.count(i) > 1)
            raise InvalidInputError("line_id", "duplicate line_id in one call", duplicate)
        plain = [{k: v for k, v in r.items() if k not in ("supersedes", "reason", "note")} for r in sent]
        outcomes = checked_outcomes(plain, rules, self.exporter.line_dates(ids))
        notes = {str(r.get("line_id")): r.get("note") or "" for r in sent}
        corrections = [
            {**o, "supersedes": int(r["supersedes"]), "reason": str(r["reason"]).strip()}
            for o, r in zip(attributed(outcomes, key_id, notes), sent, strict=True)
        ]
        with self.backend.transaction() as conn:
            return self.outcome_records.correct(conn, corrections)

    def outcome_history(self, line_id: str) -> list[dict[str, Any]]:
        """Every outcome record of a line, oldest first, times in UTC ISO text (`outcome_records.py`)."""
        with self.backend.connect() as conn:
            rows = self.outcome_records.history(conn, line_id)
        for row in rows:
            if row["received_at"] is not None:
                row["received_at"] = utc_iso(row["received_at"])
        return rows

    def selection_key(self) -> bytes:
        """The key of the exploration draws (`models/policy.py`): made once at random and kept in the store,
        so every worker on it, and every restart, draws the same lines."""
        return self.secret(SELECTION_KEY)

    def secret(self, name: str) -> bytes:
        """A random 32-byte key kept in the store under `name`, made on first use, shared by every worker
        on the store and every restart (the exploration draws, the console's sessions)."""
        t = self.tables.secrets
        query = sa.select(t.c.value).where(t.c.name == name)
        with self.backend.connect() as conn:
            value = conn.execute(query).scalar_one_or_none()
        if value is None:
            try:
                with self.backend.transaction() as conn:
                    conn.execute(t.insert().values(name=name, value=secrets.token_hex(32)))
            except sa.exc.IntegrityError:
                pass  # another worker made it first: read theirs
            with self.backend.connect() as conn:
                value = conn.execute(query).scalar_one()
        return bytes.fromhex(value)

    def analyze(self) -> None:
        """Refresh the planner's statistics after a bulk load (PostgreSQL; nothing to do on SQLite)."""
        self.backend.analyze(self.tables.names)

    def checkpoint(self, exclusive: bool = False) -> int:
        """Fold SQLite's write-ahead log back into the file (see `SqliteBackend.checkpoint`)."""
        return self.backend.checkpoint(exclusive)

    def dispose(self) -> None:
        self.backend.dispose()
