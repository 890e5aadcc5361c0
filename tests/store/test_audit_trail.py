"""The audit trail in a real store (SQLite and PostgreSQL): what the service writes verifies, and every edit
made directly in the database (as anyone holding its password could) is found by `roundabout audit verify`
at the record it broke; outcome corrections change what training reads and keep both records."""

import json
from collections.abc import Iterator
from datetime import date, datetime
from pathlib import Path
from typing import Any

import numpy as np
import pytest
import sqlalchemy as sa
from typer.testing import CliRunner

from roundabout.audit import Entry, link
from roundabout.audit.signing import Signer
from roundabout.cli import app
from roundabout.errors import ConflictError, InvalidInputError
from roundabout.settings import get_settings
from roundabout.store import ServiceStore
from roundabout.store.backfill import backfill
from roundabout.store.served import encode_inputs
from tests.support.histories import RULES, random_history

runner = CliRunner()


@pytest.fixture(params=["sqlite", pytest.param("postgres", marks=pytest.mark.postgres)])
def url(request: pytest.FixtureRequest, tmp_path: Path) -> str:
    return (
        f"sqlite:///{tmp_path / 'store.db'}"
        if request.param == "sqlite"
        else request.getfixturevalue("postgres_url")
    )


def _decision(line: dict[str, Any], i: int) -> dict[str, Any]:
    return {
        "request_id": f"r{i}", "key_id": "risk-system", "line_id": line["line_id"],
        "model_name": "roundabout", "model_version": "3", "risk_score": 0.1 + i / 100,
        "anomaly_score": 0.2, "oddness_score": None,
        "channel": "green", "reasons": [{"feature": "value", "text": "high value"}],
        "list_versions": {"ofac": 2},
        "selection": "model", "propensity": 1.0, "inputs": encode_inputs(np.array([1.0, float(i)])),
    }  # fmt: skip


@pytest.fixture
def store(url: str) -> Iterator[ServiceStore]:
    """A store with a loaded history, 12 decisions in 3 calls, outcomes fed back, a correction and a
    checkpoint signed with the settings' key."""
    opened = ServiceStore.open(url)
    opened.migrate()
    data = random_history(80, seed=3)
    backfill(opened, data.__class__(data.lines, data.inspections.iloc[:0]), RULES)
    lines = data.lines.sort_values("line_id").to_dict("records")
    for call in range(3):
        part = lines[call * 4 : call * 4 + 4]
        with opened.transaction() as conn:
            opened.decisions.record(conn, [_decision(x, call * 4 + j) for j, x in enumerate(part)], part)
    sent = [
        {"line_id": x["line_id"], "inspected_on": x["date"].date(), "outcome": "violation"} for x in lines[:3]
    ]
    assert opened.record_outcomes(sent, "inspector-1", RULES) == 3
    Signer.from_file(get_settings().audit_key_path, create=True)
    yield opened
    opened.dispose()


def _verify(url: str, *options: str) -> Any:
    return runner.invoke(app, ["audit", "verify", "--store", url, *options])


def _sql(store: ServiceStore, *statements: str) -> None:
    """Run statements as a database owner would: the append-only triggers dropped first."""
    with store.backend.transaction() as conn:
        if conn.dialect.name == "postgresql":
            for table in ("audit_records", "audit_checkpoints"):
                conn.exec_driver_sql(f"DROP TRIGGER IF EXISTS {table}_append_only ON {table}")
        else:
            for table in ("audit_records", "audit_checkpoints"):
                for event in ("update", "delete"):
                    conn.exec_driver_sql(f"DROP TRIGGER IF EXISTS {table}_no_{event}")
        for statement in statements:
            for part in statement.split("; "):
                conn.exec_driver_sql(part)


def test_what_the_store_writes_verifies_and_corrections_keep_both_records(
    store: ServiceStore, url: str
) -> None:
    kinds = [r.kind for r in _records(store)]
    assert kinds == ["history_load"] + ["decision"] * 12 + ["outcome"] * 3 + ["feedback"]
    line = _records(store)[13].subject
    first = store.outcome_history(line)[0]
    assert first["outcome"] == "violation" and first["key_id"] == "inspector-1" and first["current"]
    correction = {"line_id": line, "inspected_on": first["inspected_on"], "outcome": "clean",
                  "supersedes": first["id"], "reason": "lab report 117: goods as declared"}  # fmt: skip
    (new_id,) = store.correct_outcomes([correction], "supervisor", RULES)
    history = store.outcome_history(line)
    assert [(h["outcome"], h["supersedes"], h["current"]) for h in history] == [
        ("violation", None, False),
        ("clean", first["id"], True),
    ]
    assert (
        history[1]["reason"] == "lab report 117: goods as declared" and history[1]["key_id"] == "supervisor"
    )
    # training reads the correction
    with store.backend.connect() as conn:
        query = sa.select(store.tables.outcomes.c.outcome).where(store.tables.outcomes.c.line_id == line)
        assert conn.execute(query).scalar() == "clean"
    with pytest.raises(ConflictError, match="already superseded"):
        store.correct_outcomes([correction], "supervisor", RULES)
    with pytest.raises(InvalidInputError, match="changes nothing"):
        store.correct_outcomes([{**correction, "supersedes": new_id}], "supervisor", RULES)
    assert store.audit.checkpoint(Signer.from_file(get_settings().audit_key_path)) is not None
    result = _verify(url)
    assert result.exit_code == 0, result.output
    assert "outcome_records rows checked" in result.output


def _records(store: ServiceStore) -> list[Any]:
    with store.backend.connect() as conn:
        return list(store.audit.records(conn))


EDITS = {
    "content edited": (
        "UPDATE audit_records SET content = replace(content, 'green', 'red') WHERE seq = 6",
        6,
    ),
    "actor edited": ("UPDATE audit_records SET actor = 'nobody' WHERE seq = 9", 9),
    "record deleted": ("DELETE FROM audit_records WHERE seq = 4", 5),
    "records reordered": (
        "UPDATE audit_records SET seq = -7 WHERE seq = 7; UPDATE audit_records SET seq = 7 WHERE seq = 8; "
        "UPDATE audit_records SET seq = 8 WHERE seq = -7",
        7,
    ),
    "record inserted": (
        "INSERT INTO audit_records (seq, at, kind, actor, subject, content, prev_hash, hash) SELECT "
        "max(seq) + 1, max(at), 'decision', 'risk-system', 'X', '{}', max(hash), max(hash) "
        "FROM audit_records",
        18,
    ),
    "tail deleted": ("DELETE FROM audit_records WHERE seq > 15", 16),
}


@pytest.mark.parametrize("edit", list(EDITS))
def test_an_edit_in_the_database_is_found_at_its_record(store: ServiceStore, url: str, edit: str) -> None:
    statement, seq = EDITS[edit]
    _sql(store, statement)
    result = _verify(url, "--no-tables")
    assert result.exit_code == 1, result.output
    assert f"record {seq}" in result.output.split("the audit trail is broken:")[1]


@pytest.mark.parametrize(
    ("statement", "words"),
    [
        ("UPDATE decisions SET risk_score = 0.99 WHERE audit_seq = 3", "has risk_score 0.99"),
        ("UPDATE decisions SET channel = 'red' WHERE audit_seq = 5", "has channel 'red'"),
        ("DELETE FROM decisions WHERE audit_seq = 10", "was deleted"),
        ("UPDATE feat_outcomes SET outcome = 'clean'", "is not its latest record"),
        ("UPDATE outcome_records SET outcome = 'clean' WHERE audit_seq = 14", "has outcome 'clean'"),
    ],
    ids=["risk", "channel", "decision deleted", "training outcome", "outcome record"],
)
def test_an_edit_of_what_the_trail_vouches_for_is_found(
    store: ServiceStore, url: str, statement, words
) -> None:
    _sql(store, statement)
    result = _verify(url)
    assert result.exit_code == 1, result.output
    assert words in result.output


def test_a_chain_rewritten_whole_is_caught_by_its_signed_checkpoint(store: ServiceStore, url: str) -> None:
    signer = Signer.from_file(get_settings().audit_key_path)
    store.audit.checkpoint(signer)
    records = _records(store)
    # rewrite record 3 and re-chain everything after it, head included: the chain alone is consistent again

    entries = [Entry(r.kind, r.actor, r.subject, json.loads(r.content)) for r in records[2:]]
    entries[0] = Entry(
        entries[0].kind, entries[0].actor, entries[0].subject, {**entries[0].content, "channel": "red"}
    )
    forged = link(entries, 2, records[1].hash, datetime(2026, 1, 1))
    _sql(store, "DELETE FROM audit_records WHERE seq > 2")
    with store.backend.transaction() as conn:
        conn.execute(store.tables.audit_records.insert(), [f.as_row() for f in forged])
        conn.execute(sa.update(store.tables.audit_head).values(hash=forged[-1].hash))
    result = _verify(url, "--no-tables")
    assert result.exit_code == 1 and "checkpoint signed" in result.output, result.output
    # with someone else's key, the checkpoint itself does not hold
    other = Path(get_settings().home) / "other.pem"
    Signer.from_file(other, create=True)
    result = _verify(url, "--no-tables", "--public-key", str(other))
    assert result.exit_code == 1 and "was not given" in result.output


def test_the_append_only_triggers_refuse_a_plain_update(store: ServiceStore) -> None:
    with pytest.raises(sa.exc.DBAPIError, match="append-only"), store.backend.transaction() as conn:
        conn.exec_driver_sql("UPDATE audit_records SET actor = 'x' WHERE seq = 1")


def test_an_export_verifies_offline_and_an_edit_in_it_shows(
    store: ServiceStore, url: str, tmp_path: Path
) -> None:
    store.audit.checkpoint(Signer.from_file(get_settings().audit_key_path))
    out = tmp_path / "audit.jsonl"
    today = date.today().isoformat()
    result = runner.invoke(app, ["audit", "export", "--store", url, "--since", today, "--out", str(out)])
    assert result.exit_code == 0 and "17 audit records" in result.output, result.output
    public = tmp_path / "public.pem"
    assert runner.invoke(app, ["audit", "public-key", "--out", str(public)]).exit_code == 0
    result = runner.invoke(app, ["audit", "verify", "--file", str(out), "--public-key", str(public)])
    assert result.exit_code == 0, result.output
    assert "valid checkpoints │ 1" in result.output or "1" in result.output
    text = out.read_text().replace("inspector-1", "inspector-2", 1)
    out.write_text(text)
    result = runner.invoke(app, ["audit", "verify", "--file", str(out), "--public-key", str(public)])
    assert result.exit_code == 1 and "record 14" in result.output
    bad = runner.invoke(app, ["audit", "export", "--store", url, "--since", "someday", "--out", str(out)])
    assert bad.exit_code == 2 and "--since" in bad.output
