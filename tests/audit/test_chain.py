"""The chain as data: what verification finds in a chain edited, cut, extended, reordered or re-signed,
and an export read back."""

from dataclasses import replace
from datetime import UTC, datetime
from pathlib import Path

import pytest

from roundabout.audit import GENESIS, Entry, link
from roundabout.audit.export import ExportFile, write_export
from roundabout.audit.signing import Signer
from roundabout.audit.verify import Checkpoint, Report, signed_checkpoints, verify_records
from roundabout.errors import InvalidInputError


def _chain(n: int = 10):
    entries = [
        Entry("decision", "risk-system", f"L{i}", {"risk_score": i / 10, "line": {"id": i}}) for i in range(n)
    ]
    return link(entries, 0, GENESIS, datetime(2026, 11, 30, tzinfo=UTC))


def _verify(records, checkpoints=(), keys=None, start=(0, GENESIS), head=None) -> Report:
    report = Report()
    valid = signed_checkpoints(checkpoints, keys or {}, report)
    return verify_records(records, valid, report, start, head)


def test_an_intact_chain_verifies_and_links_by_hash() -> None:
    chain = _chain()
    report = _verify(chain, head=(chain[-1].seq, chain[-1].hash))
    assert report.ok and report.records == 10 and report.last_hash == chain[-1].hash
    assert chain[1].prev_hash == chain[0].hash and chain[0].prev_hash == GENESIS


@pytest.mark.parametrize(
    ("tamper", "seq", "words"),
    [
        (lambda c: [*c[:3], replace(c[3], content=c[3].content.replace("0.3", "0.9")), *c[4:]], 4, "altered"),
        (lambda c: [*c[:3], replace(c[3], actor="someone-else"), *c[4:]], 4, "altered"),
        (lambda c: c[:4] + c[5:], 6, "missing"),
        (lambda c: [*c[:4], c[5], c[4], *c[6:]], 6, "out of order"),
    ],
    ids=["content", "actor", "deleted", "reordered"],
)
def test_any_edit_is_found_at_its_record(tamper, seq: int, words: str) -> None:
    report = _verify(tamper(_chain()))
    assert not report.ok
    assert report.problems[0].seq == seq and words in report.problems[0].problem


def test_a_rewritten_chain_is_caught_by_the_signed_checkpoint(tmp_path: Path) -> None:
    signer = Signer.from_file(tmp_path / "key.pem", create=True)
    chain = _chain()
    at = "2026-11-30T12:00:00.000000Z"
    cp = Checkpoint(8, chain[7].hash, at, signer.key_id, signer.sign(8, chain[7].hash, at))
    keys = {signer.key_id: signer.public}
    assert _verify(chain, [cp], keys).ok
    # whoever rewrites record 3 and re-hashes every record after it leaves a consistent chain ...
    entries = [
        Entry(
            c.kind,
            c.actor,
            c.subject,
            {"risk_score": 0.0 if c.seq == 3 else (c.seq - 1) / 10, "line": {"id": c.seq - 1}},
        )
        for c in chain
    ]
    forged = link(entries, 0, GENESIS, datetime(2026, 11, 30, tzinfo=UTC))
    assert _verify(forged).ok
    # ... that the checkpoint does not sign
    report = _verify(forged, [cp], keys)
    assert report.problems[0].seq == 8 and "checkpoint signed" in report.problems[0].problem
    # and a deleted tail shows against it
    report = _verify(chain[:6], [cp], keys)
    assert "deleted" in report.problems[0].problem
    # a checkpoint re-signed with another key, or altered, does not hold
    other = Signer.from_file(tmp_path / "other.pem", create=True)
    report = _verify(chain, [replace(cp, signature=other.sign(8, chain[7].hash, at))], keys)
    assert "does not hold" in report.problems[0].problem
    report = _verify(chain, [replace(cp, key_id=other.key_id)], keys)
    assert "not given" in report.problems[0].problem


def test_a_cut_tail_shows_against_the_head() -> None:
    chain = _chain()
    report = _verify(chain[:7], head=(10, chain[-1].hash))
    assert report.problems[0].seq == 8 and "deleted" in report.problems[0].problem


def test_a_verifier_can_start_after_a_trusted_checkpoint() -> None:
    chain = _chain()
    assert _verify(chain[6:], start=(6, chain[5].hash)).ok
    assert not _verify(chain[6:], start=(6, chain[4].hash)).ok


def test_an_export_reads_back_and_verifies(tmp_path: Path) -> None:
    chain = _chain()
    path = tmp_path / "audit.jsonl"
    with path.open("w") as out:
        write_export(out, {"after": {"seq": 2, "hash": chain[1].hash}}, [], chain[2:])
    export = ExportFile(path)
    assert export.start == (2, chain[1].hash)
    assert _verify(export.records(), start=export.start).ok
    lines = path.read_text().splitlines()
    lines[4] = lines[4].replace('"L5"', '"L9"')
    path.write_text("\n".join(lines) + "\n")
    assert _verify(ExportFile(path).records(), start=export.start).problems[0].seq == 6
    (tmp_path / "not.jsonl").write_text("hello\n")
    with pytest.raises(InvalidInputError, match="not an audit export"):
        ExportFile(tmp_path / "not.jsonl")
