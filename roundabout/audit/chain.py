"""Records chained by hash: each carries the hash of the one before it and of its own content, so editing,
deleting, inserting or reordering any record breaks every hash after it.

A record's hash is SHA-256 over one header line, the canonical JSON array
`[seq, at, kind, actor, subject, prev_hash]` (`at` in UTC as `YYYY-MM-DDTHH:MM:SS.ffffffZ`), a newline, and
its content, canonical JSON text (keys sorted, no spaces, UTF-8) stored exactly as hashed. The procedure
is the same wherever it runs (`docs/reliability.md` gives it in ten lines of Python), so an auditor needs
nothing of roundabout to check an export.
"""

import hashlib
import json
import math
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import UTC, date, datetime
from decimal import Decimal
from typing import Any

#: The `prev_hash` of the first record.
GENESIS = "0" * 64


def _plain(value: Any) -> Any:
    if isinstance(value, datetime):
        return utc_text(value)
    if isinstance(value, date):
        return value.isoformat()
    if isinstance(value, Decimal):
        return str(value)
    if hasattr(value, "item"):  # numpy scalars
        return value.item()
    if isinstance(value, set | frozenset):
        return sorted(value)
    raise TypeError(f"cannot put a {type(value).__name__} in an audit record")


def _finite(value: Any) -> Any:
    """NaN and infinities as null (JSON has neither)."""
    if isinstance(value, float) and not math.isfinite(value):
        return None
    if isinstance(value, dict):
        return {k: _finite(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [_finite(v) for v in value]
    return value


def canonical(value: Any) -> str:
    """`value` as canonical JSON: sorted keys, no spaces, dates as ISO text, NaN as null."""
    try:
        return json.dumps(
            value, sort_keys=True, separators=(",", ":"), ensure_ascii=False, default=_plain, allow_nan=False
        )
    except ValueError:
        return json.dumps(
            _finite(value),
            sort_keys=True,
            separators=(",", ":"),
            ensure_ascii=False,
            default=_plain,
            allow_nan=False,
        )


def utc_text(moment: datetime) -> str:
    """A time as the chain writes it: UTC, microseconds, `Z` (a naive time is taken as UTC)."""
    if moment.tzinfo is not None:
        moment = moment.astimezone(UTC).replace(tzinfo=None)
    return moment.isoformat(timespec="microseconds") + "Z"


#: The header's encoder, made once (a `json.dumps` with options builds one per call).
_HEADER = json.JSONEncoder(separators=(",", ":"), ensure_ascii=False)


def record_hash(
    seq: int, at: str, kind: str, actor: str, subject: str | None, content: str, prev: str
) -> str:
    """The SHA-256 hex of one record (see the module docstring)."""
    header = _HEADER.encode([seq, at, kind, actor, subject, prev])
    return hashlib.sha256(f"{header}\n{content}".encode()).hexdigest()


@dataclass(frozen=True)
class Entry:
    """What happened, before it takes its place in the chain: its kind, who did it (a key id, `cli`,
    `service`), what it is about (a line id, a model version, a list name) and the facts as a mapping."""

    kind: str
    actor: str
    subject: str | None
    content: Mapping[str, Any]


@dataclass(frozen=True)
class Chained:
    """A record in the chain, as stored."""

    seq: int
    at: str
    kind: str
    actor: str
    subject: str | None
    content: str
    prev_hash: str
    hash: str

    def expected_hash(self) -> str:
        return record_hash(
            self.seq, self.at, self.kind, self.actor, self.subject, self.content, self.prev_hash
        )

    def as_row(self) -> dict[str, Any]:
        return {
            "seq": self.seq,
            "at": datetime.fromisoformat(self.at[:-1]).replace(tzinfo=UTC),
            "kind": self.kind,
            "actor": self.actor,
            "subject": self.subject,
            "content": self.content,
            "prev_hash": self.prev_hash,
            "hash": self.hash,
        }


def link(entries: Iterable[Entry], after_seq: int, after_hash: str, at: datetime) -> list[Chained]:
    """`entries` chained after the record (`after_seq`, `after_hash`), all stamped `at`."""
    stamp = utc_text(at)
    out: list[Chained] = []
    seq, prev = after_seq, after_hash
    for entry in entries:
        seq += 1
        content = canonical(entry.content)
        digest = record_hash(seq, stamp, entry.kind, entry.actor, entry.subject, content, prev)
        out.append(Chained(seq, stamp, entry.kind, entry.actor, entry.subject, content, prev, digest))
        prev = digest
    return out
