"""Verifying a chain, however it was read (from the store, from an export): every record follows the one
before it and hashes to what it says, every signed checkpoint holds and matches its record, and nothing
after the last checkpoint or the chain's head is missing.

A verifier trusts a prefix without reading it by starting after a checkpoint whose signature holds
(`start`): the records before it are what the signer saw.
"""

from collections.abc import Iterable
from dataclasses import dataclass, field

from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PublicKey

from roundabout.audit.chain import GENESIS, Chained
from roundabout.audit.signing import signature_holds

#: Problems listed in a report (the first is what matters; the count says how many more).
SHOWN = 20


@dataclass(frozen=True)
class Checkpoint:
    """A signed statement that record `seq` had hash `hash` at `at`."""

    seq: int
    hash: str
    at: str
    key_id: str
    signature: str


@dataclass(frozen=True)
class Problem:
    """Where a chain breaks: the record (or checkpoint, or table row) and what is wrong with it."""

    seq: int | None
    where: str
    problem: str

    def __str__(self) -> str:
        at = f"record {self.seq}" if self.seq is not None else self.where
        return f"{at} ({self.where}): {self.problem}" if self.seq is not None else f"{at}: {self.problem}"


@dataclass
class Report:
    """What a verification found."""

    records: int = 0
    first_seq: int | None = None
    last_seq: int | None = None
    last_hash: str | None = None
    checkpoints: int = 0
    last_signed: int | None = None
    rows_checked: dict[str, int] = field(default_factory=dict)
    problems: list[Problem] = field(default_factory=list)
    more_problems: int = 0

    @property
    def ok(self) -> bool:
        return not self.problems

    def add(self, problem: Problem) -> None:
        if len(self.problems) < SHOWN:
            self.problems.append(problem)
        else:
            self.more_problems += 1

    @property
    def unsigned(self) -> int:
        """Records after the last signed checkpoint (trusted only as far as the chain itself goes)."""
        if self.last_seq is None:
            return 0
        return self.last_seq - (self.last_signed or 0)


def signed_checkpoints(
    checkpoints: Iterable[Checkpoint], keys: dict[str, Ed25519PublicKey], report: Report
) -> dict[int, Checkpoint]:
    """The checkpoints whose signatures hold, by seq; the others are reported."""
    valid: dict[int, Checkpoint] = {}
    for cp in checkpoints:
        holds = signature_holds(keys, cp.key_id, cp.seq, cp.hash, cp.at, cp.signature)
        if holds is None:
            report.add(Problem(cp.seq, "checkpoint", f"signed by key {cp.key_id}, which was not given"))
        elif not holds:
            report.add(Problem(cp.seq, "checkpoint", "its signature does not hold: it was altered or forged"))
        else:
            valid[cp.seq] = cp
    report.checkpoints = len(valid)
    return valid


def verify_records(
    records: Iterable[Chained],
    checkpoints: dict[int, Checkpoint],
    report: Report,
    start: tuple[int, str] = (0, GENESIS),
    head: tuple[int, str] | None = None,
) -> Report:
    """Walk `records` (in seq order, the first following `start` = (seq, hash)) against the valid
    `checkpoints`; `head`: where the store says the chain ends."""
    prev_seq, prev_hash = start
    for record in records:
        report.records += 1
        if report.first_seq is None:
            report.first_seq = record.seq
        if record.seq != prev_seq + 1:
            if record.seq > prev_seq + 1:
                gap = f"records {prev_seq + 1}..{record.seq - 1} are missing: deleted, or moved out of order"
            else:
                gap = f"comes after record {prev_seq}: records were reordered or inserted"
            report.add(Problem(record.seq, record.kind, gap))
        elif record.prev_hash != prev_hash:
            report.add(
                Problem(
                    record.seq,
                    record.kind,
                    "does not follow the record before it: the one before was altered, replaced or inserted",
                )
            )
        if record.expected_hash() != record.hash:
            report.add(Problem(record.seq, record.kind, "its content or header was altered (hash mismatch)"))
        cp = checkpoints.get(record.seq)
        if cp is not None and cp.hash != record.hash:
            report.add(Problem(record.seq, record.kind, "differs from the record the checkpoint signed"))
        prev_seq, prev_hash = record.seq, record.hash
    report.last_seq = prev_seq if report.records else None
    report.last_hash = prev_hash if report.records else None
    signed = [s for s in checkpoints if s <= prev_seq and s > start[0]]
    report.last_signed = (
        max(signed) if signed else (start[0] if start[0] and start[0] in checkpoints else None)
    )
    beyond = [s for s in checkpoints if s > prev_seq]
    if beyond:
        report.add(
            Problem(
                prev_seq + 1,
                "end",
                f"a checkpoint signed record {max(beyond)}, but the chain ends at "
                f"{prev_seq}: the records after it were deleted",
            )
        )
    if head is not None:
        head_seq, head_hash = head
        if head_seq > prev_seq:
            report.add(
                Problem(
                    prev_seq + 1,
                    "end",
                    f"the chain's head is record {head_seq}, but the chain ends "
                    f"at {prev_seq}: the records after it were deleted",
                )
            )
        elif head_seq == prev_seq and report.records and head_hash != prev_hash:
            report.add(Problem(prev_seq, "end", "the last record is not the one the head recorded"))
        elif head_seq < prev_seq:
            report.add(
                Problem(
                    head_seq + 1, "end", f"records after the head ({head_seq}) were added outside the trail"
                )
            )
    return report
