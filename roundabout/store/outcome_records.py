"""Every outcome the store has received, corrections included, each with its audit record.

`feat_outcomes` holds a line's current outcome, the one features and training read; `outcome_records`
keeps every outcome that ever arrived. A correction names the record it supersedes (which must be the
line's latest) and a reason: the line's current outcome becomes the correction, its aggregates (the
trader's, declarant's and counterparty's inspections and violations) move from the old outcome to the new,
and both records stay. Outcomes fed back each get an audit record (`outcome`, `outcome_correction`); a
load of history gets one record for the whole batch (`outcomes_loaded`) holding a hash of its outcomes.
"""

import hashlib
from collections.abc import Mapping, Sequence
from typing import Any

import sqlalchemy as sa
from sqlalchemy.engine import Connection

from roundabout.audit import Entry, canonical
from roundabout.errors import ConflictError, InvalidInputError
from roundabout.store.audit_log import AuditLog
from roundabout.store.tables import StoreTables
from roundabout.store.writer import AggregateWriter

#: What an outcome's audit record holds (besides its line, the subject, and its sender, the actor).
AUDITED = (
    "inspected_on",
    "outcome",
    "violation_type",
    "selection",
    "propensity",
    "note",
    "supersedes",
    "reason",
)
#: The fields a batch hash covers, per outcome (sorted by line id).
BATCH_FIELDS = ("line_id", "inspected_on", "outcome", "violation_type")
COLUMNS = (
    "line_id",
    "inspected_on",
    "outcome",
    "violation_type",
    "selection",
    "propensity",
    "key_id",
    "received_at",
    "note",
    "supersedes",
    "reason",
)


def batch_hash(outcomes: Sequence[Mapping[str, Any]]) -> str:
    """SHA-256 of a batch's outcomes (line id, date, outcome, violation type), sorted by line id."""
    rows = sorted([[o.get(f) for f in BATCH_FIELDS] for o in outcomes], key=lambda r: str(r[0]))
    return hashlib.sha256(canonical(rows).encode()).hexdigest()


def outcome_entry(outcome: Mapping[str, Any], kind: str = "outcome") -> Entry:
    content = {f: outcome.get(f) for f in AUDITED}
    content["received_at"] = outcome.get("received_at")
    return Entry(kind, outcome.get("key_id") or "unknown", outcome["line_id"], content)


class OutcomeRecords:
    """Writes and reads `outcome_records`, and corrects outcomes."""

    def __init__(self, tables: StoreTables, writer: AggregateWriter, audit: AuditLog) -> None:
        self.tables, self.writer, self.audit = tables, writer, audit

    def received(self, conn: Connection, fresh: list[dict[str, Any]], batch: Entry) -> None:
        """Keep new outcomes fed back (by a key: one audit record each) or loaded (no key: one for all,
        with their hash), with the batch's own record last; call it last in the transaction."""
        fed = bool(fresh) and fresh[0].get("key_id") is not None
        if fed:
            entries = [outcome_entry(o) for o in fresh]
        else:
            entries = []
            batch = Entry(
                batch.kind,
                batch.actor,
                batch.subject,
                {**batch.content, "outcomes_sha256": batch_hash(fresh)},
            )
        seqs = self.audit.append(conn, [*entries, batch])
        if fresh:
            links = seqs[:-1] if fed else [seqs[-1]] * len(fresh)
            rows = [
                {**{c: o.get(c) for c in COLUMNS}, "audit_seq": s} for o, s in zip(fresh, links, strict=True)
            ]
            conn.execute(self.tables.outcome_records.insert(), rows)

    def correct(self, conn: Connection, corrections: list[dict[str, Any]]) -> list[int]:
        """Supersede outcomes (checked, attributed corrections, each naming `supersedes` and a `reason`) in
        the caller's transaction; the new records' ids. Raises `ConflictError` when a named record is not
        its line's latest (someone corrected it first) and `InvalidInputError` for a correction that names
        a record of another line or changes nothing."""
        o, f = self.tables.outcome_records, self.tables.outcomes
        ids = [c["line_id"] for c in corrections]
        current = {
            row.line_id: row
            for row in conn.execute(sa.select(f).where(f.c.line_id.in_(ids)).with_for_update())
        }
        latest = dict(
            conn.execute(
                sa.select(o.c.line_id, sa.func.max(o.c.id)).where(o.c.line_id.in_(ids)).group_by(o.c.line_id)
            ).all()
        )
        for i, c in enumerate(corrections):
            line = c["line_id"]
            if line not in current:
                raise InvalidInputError("line_id", f"line {line!r} has no outcome to correct", row=i + 1)
            named = conn.execute(sa.select(o.c.line_id).where(o.c.id == c["supersedes"])).scalar_one_or_none()
            if named != line:
                where = "does not exist" if named is None else f"is an outcome of line {named!r}"
                raise InvalidInputError("supersedes", f"record {c['supersedes']} {where}", row=i + 1)
            if latest.get(line) != c["supersedes"]:
                raise ConflictError(
                    f"record {c['supersedes']} of line {line!r} was already superseded by record "
                    f"{latest.get(line)}: correct that one (nothing was stored)"
                )
            old = current[line]
            if (old.outcome, old.inspected_on, old.violation_type) == (
                c["outcome"],
                c["inspected_on"],
                c.get("violation_type"),
            ):
                raise InvalidInputError(
                    "outcome", f"the correction of line {line!r} changes nothing", row=i + 1
                )
        olds = [dict(current[c["line_id"]]._mapping) for c in corrections]
        self.writer.fold_outcomes(conn, olds, sign=-1.0)
        self.writer.fold_outcomes(conn, corrections)
        update = (
            sa.update(f)
            .where(f.c.line_id == sa.bindparam("b_line_id"))
            .values(
                {
                    k: sa.bindparam(f"b_{k}")
                    for k in ("inspected_on", "outcome", "violation_type", "key_id", "received_at", "note")
                }
            )
        )
        conn.execute(
            update,
            [
                {
                    f"b_{k}": c.get(k)
                    for k in (
                        "line_id",
                        "inspected_on",
                        "outcome",
                        "violation_type",
                        "key_id",
                        "received_at",
                        "note",
                    )
                }
                for c in corrections
            ],
        )
        for c, old in zip(corrections, olds, strict=True):
            c.setdefault("selection", old["selection"])
            c.setdefault("propensity", old["propensity"])
        seqs = self.audit.append(conn, [outcome_entry(c, "outcome_correction") for c in corrections])
        new_ids = []
        for c, seq in zip(corrections, seqs, strict=True):
            row = {**{k: c.get(k) for k in COLUMNS}, "audit_seq": seq}
            new_ids.append(conn.execute(o.insert().values(row).returning(o.c.id)).scalar_one())
        return new_ids

    def history(self, conn: Connection, line_id: str) -> list[dict[str, Any]]:
        """Every outcome record of a line, oldest first, the latest marked `current`."""
        o = self.tables.outcome_records
        cols = [o.c.id, *(o.c[k] for k in COLUMNS if k != "line_id")]
        rows = [
            dict(r)
            for r in conn.execute(sa.select(*cols).where(o.c.line_id == line_id).order_by(o.c.id)).mappings()
        ]
        for i, row in enumerate(rows):
            row["current"] = i == len(rows) - 1
        return rows
