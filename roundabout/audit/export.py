"""The export an auditor takes away: JSON Lines, a header then one record per line, verifiable with the
public key alone (`roundabout audit verify --file`, or the procedure in docs/reliability.md).

The header (`{"format": "roundabout-audit-export/1", ...}`) names the period, the record the export follows
(`after`: its seq and hash; seq 0 and the genesis hash when it starts the chain), the public keys that
signed its checkpoints (PEM, by key id) and those checkpoints. Each record line holds the stored columns:
`seq`, `at`, `kind`, `actor`, `subject`, `content` (text, exactly as hashed), `prev_hash`, `hash`.
"""

import json
from collections.abc import Iterable, Iterator
from dataclasses import asdict
from pathlib import Path
from typing import IO, Any

from roundabout.audit.chain import Chained
from roundabout.audit.verify import Checkpoint
from roundabout.errors import InvalidInputError

FORMAT = "roundabout-audit-export/1"
RECORD_FIELDS = ("seq", "at", "kind", "actor", "subject", "content", "prev_hash", "hash")


def write_export(
    out: IO[str], header: dict[str, Any], checkpoints: Iterable[Checkpoint], records: Iterable[Chained]
) -> int:
    """Write the export; how many records it holds."""
    head = {"format": FORMAT, **header, "checkpoints": [asdict(cp) for cp in checkpoints]}
    out.write(json.dumps(head, ensure_ascii=False) + "\n")
    n = 0
    for record in records:
        out.write(json.dumps(asdict(record), ensure_ascii=False) + "\n")
        n += 1
    return n


class ExportFile:
    """An export read back: its header, checkpoints and records (streamed)."""

    def __init__(self, path: Path) -> None:
        self.path = path
        try:
            with path.open(encoding="utf-8") as f:
                first = f.readline()
            header = json.loads(first)
        except (OSError, UnicodeDecodeError, json.JSONDecodeError) as exc:
            raise InvalidInputError("file", f"{path} is not an audit export: {exc}") from None
        if not isinstance(header, dict) or header.get("format") != FORMAT:
            raise InvalidInputError(
                "file", f"{path} is not an audit export (its first line names no {FORMAT})"
            )
        self.header = header
        try:
            self.checkpoints = [Checkpoint(**cp) for cp in header.get("checkpoints", [])]
            after = header.get("after") or {"seq": 0, "hash": "0" * 64}
            self.start = (int(after["seq"]), str(after["hash"]))
        except (TypeError, KeyError, ValueError) as exc:
            raise InvalidInputError("file", f"{path}: the header is malformed: {exc}") from None

    def records(self) -> Iterator[Chained]:
        with self.path.open(encoding="utf-8") as f:
            f.readline()
            for number, text in enumerate(f, start=2):
                try:
                    row = json.loads(text)
                    yield Chained(**{k: row[k] for k in RECORD_FIELDS})
                except (json.JSONDecodeError, KeyError, TypeError) as exc:
                    raise InvalidInputError(
                        "file", f"{self.path} line {number} is not a record: {exc}"
                    ) from None
