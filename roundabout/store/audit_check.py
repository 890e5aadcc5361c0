"""`roundabout audit verify` and `export` on a store: the chain walked in one read snapshot against its
signed checkpoints and head, then the tables the trail vouches for checked against it: every decision and
outcome record must match its audit record, every audited one must still be there, and each line's
current outcome (what training reads) must be its latest record.
"""

import hashlib
import json
import math
from collections.abc import Callable, Iterable, Iterator
from datetime import datetime
from typing import IO, Any

import sqlalchemy as sa
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PublicKey
from sqlalchemy.engine import Connection

from roundabout.audit.chain import Chained
from roundabout.audit.export import write_export
from roundabout.audit.signing import public_pem
from roundabout.audit.verify import Problem, Report, signed_checkpoints, verify_records
from roundabout.store.audit_log import BATCH, AuditLog
from roundabout.store.decisions import AUDITED as DECISION_AUDITED
from roundabout.store.decisions import DIGEST_AT, DIGEST_KEY, DIGESTED, digest_of
from roundabout.store.outcome_records import AUDITED as OUTCOME_AUDITED
from roundabout.store.outcome_records import batch_hash
from roundabout.store.tables import StoreTables

#: Decision columns (`decisions.AUDITED`) and outcome record columns (`outcome_records.AUDITED`) an audit
#: record holds as they are, compared one by one.
DECISION_FIELDS, OUTCOME_FIELDS = DECISION_AUDITED, OUTCOME_AUDITED
DIGEST_PREFIX = '{"' + DIGEST_KEY + '":"'
OUTCOME_KINDS = ("outcome", "outcome_correction")
#: Audit records that vouch for a whole batch of outcome records, by a hash of them.
BATCH_KINDS = ("outcomes_loaded", "history_load", "feedback")


def _ticking(records: Iterable[Chained], advance: Callable[[int], None]) -> Iterator[Chained]:
    n = 0
    for record in records:
        yield record
        n += 1
        if n == 10_000:
            advance(n)
            n = 0
    advance(n)


def verify_store(
    log: AuditLog,
    keys: dict[str, Ed25519PublicKey],
    from_checkpoint: bool = False,
    tables: bool = True,
    progress: Callable[[int], None] | None = None,
) -> Report:
    """Verify the store's chain (from its latest valid checkpoint with `from_checkpoint`) and, with
    `tables`, the decisions and outcomes against it. No `keys`: the checkpoints are not checked."""
    report = Report()
    with log.backend.connect() as conn:
        snapshot(conn)
        head = log.head(conn)
        valid = signed_checkpoints(log.checkpoints(conn), keys, report) if keys else {}
        start = (0, "0" * 64)
        if from_checkpoint and valid:
            last = valid[max(valid)]
            if log.hash_of(conn, last.seq) != last.hash:
                report.add(Problem(last.seq, "checkpoint", "the record it signed was altered or deleted"))
            start = (last.seq, last.hash)
        records = log.records(conn, after=start[0])
        if progress is not None:
            records = _ticking(records, progress)
        verify_records(records, valid, report, start, head)
        if tables:
            _check_tables(conn, log.tables, report)
    return report


def snapshot(conn: Connection) -> None:
    """Read everything that follows as of one moment (PostgreSQL; a SQLite read transaction is one)."""
    if conn.dialect.name == "postgresql":
        conn.exec_driver_sql("SET TRANSACTION ISOLATION LEVEL REPEATABLE READ")
    else:
        conn.exec_driver_sql("SELECT 1")


def _check_tables(conn: Connection, t: StoreTables, report: Report) -> None:
    a, d, o, f = t.audit_records, t.decisions, t.outcome_records, t.outcomes
    checked = 0
    # Each row's digest against the one leading its record (read at a fixed place, no parsing); a row that
    # differs is compared field by field, for the message.
    joined = d.outerjoin(a, a.c.seq == d.c.audit_seq)
    head = sa.func.substr(a.c.content, 1, DIGEST_AT.stop + 1).label("head")
    cols = (
        d.c.id,
        d.c.audit_seq,
        d.c.inputs,
        a.c.kind,
        a.c.subject,
        a.c.actor,
        head,
        *(d.c[c] for c in DIGESTED),
    )
    line_at, key_at = 7 + DIGESTED.index("line_id"), 7 + DIGESTED.index("key_id")
    last = 0
    while True:
        query = (
            sa.select(*cols).select_from(joined)
            .where(d.c.audit_seq.is_not(None), d.c.id > last).order_by(d.c.id).limit(BATCH)
        )  # fmt: skip
        rows = conn.execute(query).all()
        for row in rows:
            checked += 1
            text = row[6] or ""
            if (
                row[3] == "decision"
                and row[4] == row[line_at]
                and row[5] == row[key_at]
                and text.startswith(DIGEST_PREFIX)
                and text[DIGEST_AT] == digest_of(row[7:], row[2])
            ):
                continue
            full = sa.select(d, a.c.kind, a.c.subject, a.c.actor, a.c.content).select_from(joined)
            problem = _decision_differs(conn.execute(full.where(d.c.id == row[0])).mappings().one())
            where = f"decision {row[0]} on line {row[line_at]!r}"
            report.add(Problem(row[1], "decisions", f"{where} {problem or 'differs from its record'}"))
        if len(rows) < BATCH:
            break
        last = rows[-1][0]
    report.rows_checked["decisions"] = checked
    gone = (
        sa.select(a.c.seq, a.c.subject)
        .select_from(a.outerjoin(d, d.c.audit_seq == a.c.seq))
        .where(a.c.kind == "decision", d.c.id.is_(None))
        .order_by(a.c.seq)
    )
    for seq, subject in conn.execute(gone):
        report.add(Problem(seq, "decisions", f"the decision on line {subject!r} it records was deleted"))
    first_at = conn.execute(sa.select(sa.func.min(a.c.at))).scalar_one()
    if first_at is not None:
        outside = sa.select(d.c.id, d.c.line_id).where(d.c.audit_seq.is_(None), d.c.decided_at >= first_at)
        for did, line in conn.execute(outside):
            report.add(
                Problem(
                    None,
                    "decisions",
                    f"decision {did} on line {line!r} is in no audit record (added outside the trail)",
                )
            )
    checked = 0
    joined = (
        sa.select(o, a.c.kind, a.c.subject, a.c.actor, a.c.content)
        .select_from(o.outerjoin(a, a.c.seq == o.c.audit_seq))
        .where(o.c.audit_seq.is_not(None))
    )
    batches: dict[int, list[dict[str, Any]]] = {}
    for row in conn.execute(joined).mappings():
        checked += 1
        if row["kind"] in BATCH_KINDS:
            batches.setdefault(row["audit_seq"], []).append(dict(row))
            continue
        problem = _outcome_differs(row)
        if problem:
            report.add(
                Problem(
                    row["audit_seq"],
                    "outcome_records",
                    f"outcome record {row['id']} on line {row['line_id']!r} {problem}",
                )
            )
    for seq, rows in batches.items():
        if json.loads(rows[0]["content"]).get("outcomes_sha256") != batch_hash(rows):
            report.add(
                Problem(
                    seq,
                    "outcome_records",
                    f"the {len(rows)} outcome records of this batch were "
                    "altered, or records added to it or deleted from it",
                )
            )
    report.rows_checked["outcome_records"] = checked
    gone = (
        sa.select(a.c.seq, a.c.subject)
        .select_from(a.outerjoin(o, o.c.audit_seq == a.c.seq))
        .where(a.c.kind.in_(OUTCOME_KINDS), o.c.id.is_(None))
        .order_by(a.c.seq)
    )
    for seq, subject in conn.execute(gone):
        report.add(Problem(seq, "outcome_records", f"the outcome on line {subject!r} it records was deleted"))
    later = o.alias("later")
    latest = (
        sa.select(sa.func.max(later.c.id))
        .where(later.c.line_id == f.c.line_id)
        .correlate(f)
        .scalar_subquery()
    )
    current = sa.select(
        f.c.line_id,
        f.c.outcome,
        f.c.inspected_on,
        f.c.violation_type,
        o.c.id,
        o.c.outcome.label("r_outcome"),
        o.c.inspected_on.label("r_inspected_on"),
        o.c.violation_type.label("r_violation_type"),
    ).select_from(f.outerjoin(o, o.c.id == latest))
    checked = 0
    for row in conn.execute(current).mappings():
        checked += 1
        if row["id"] is None:
            report.add(
                Problem(
                    None,
                    "feat_outcomes",
                    f"the outcome of line {row['line_id']!r} has no outcome record (added outside the trail)",
                )
            )
        elif (row["outcome"], str(row["inspected_on"]), row["violation_type"]) != (
            row["r_outcome"],
            str(row["r_inspected_on"]),
            row["r_violation_type"],
        ):
            report.add(
                Problem(
                    None,
                    "feat_outcomes",
                    f"the outcome training reads for line {row['line_id']!r} "
                    f"({row['outcome']} on {row['inspected_on']}) is not its latest record ("
                    f"{row['r_outcome']} on {row['r_inspected_on']}, record {row['id']})",
                )
            )
    report.rows_checked["feat_outcomes"] = checked


def _decision_differs(row: Any) -> str | None:
    if row["content"] is None or row["kind"] != "decision":
        return f"points to audit record {row['audit_seq']}, which records no decision"
    content = json.loads(row["content"])
    if row["subject"] != row["line_id"] or row["actor"] != row["key_id"]:
        return "names another line or key than its audit record"
    for name in DECISION_FIELDS:
        value = row[name]
        if isinstance(value, float) and math.isnan(value):  # the chain keeps NaN as null
            value = None
        if content.get(name) != value:
            return f"has {name} {value!r} where its audit record has {content.get(name)!r}"
    if content.get("reasons") != json.loads(row["reasons"]):
        return "shows other reasons than its audit record"
    versions = json.loads(row["list_versions"]) if row["list_versions"] else {}
    if (content.get("list_versions") or {}) != versions:
        return "names other list versions than its audit record"
    inputs = hashlib.sha256(row["inputs"]).hexdigest() if row["inputs"] is not None else None
    if content.get("inputs_sha256") != inputs:
        return "holds other model inputs than its audit record"
    return None


def _outcome_differs(row: Any) -> str | None:
    if row["content"] is None or row["kind"] not in OUTCOME_KINDS:
        return f"points to audit record {row['audit_seq']}, which records no outcome"
    content = json.loads(row["content"])
    if row["subject"] != row["line_id"] or row["actor"] != row["key_id"]:
        return "names another line or key than its audit record"
    for name in OUTCOME_FIELDS:
        value = row[name].isoformat() if name == "inspected_on" and row[name] is not None else row[name]
        if name == "inspected_on" and isinstance(row[name], str):
            value = row[name]
        if content.get(name) != value:
            return f"has {name} {value!r} where its audit record has {content.get(name)!r}"
    return None


def export_store(
    log: AuditLog,
    out: IO[str],
    since: datetime | None,
    until: datetime | None,
    keys: dict[str, Ed25519PublicKey],
    store: str,
) -> tuple[int, int, int]:
    """Write the records stamped in [since, until) with what verifies them; (records, first seq, last seq)."""
    with log.backend.connect() as conn:
        snapshot(conn)
        first, last = log.seq_range(conn, since, until)
        prev = log.hash_of(conn, first - 1) if first > 1 else "0" * 64
        checkpoints = [cp for cp in log.checkpoints(conn) if first <= cp.seq <= last]
        header = {
            "store": store,
            "exported_at": datetime.now().astimezone().isoformat(),
            "since": since.isoformat() if since else None,
            "until": until.isoformat() if until else None,
            "after": {"seq": first - 1, "hash": prev},
            "public_keys": {kid: public_pem(key) for kid, key in keys.items()},
        }
        n = write_export(out, header, checkpoints, log.records(conn, after=first - 1, until=last))
    return n, first, last
