"""One shape for an entry of any sanctions list, and the snapshot of a loaded list.

Each publisher's format (`formats/`) is read into `ListEntry` rows: the entry's id as the publisher gives
it, its primary name and aliases, the programmes (regimes) it is listed under, its countries and, where
the list says, the date it was listed. Rows that break a rule are kept apart as `BadRow`s with the
1-based row number and the reason, as ingest reports bad goods lines.
"""

import hashlib
import json
from dataclasses import asdict, dataclass, field
from datetime import date
from typing import Literal

#: What an entry is: screening compares organisations with organisations; persons are kept for the
#: screening endpoint (a declarant may be a person), vessels and aircraft are not parties to a goods line.
EntityKind = Literal["organization", "person", "vessel", "aircraft", "other"]


@dataclass(frozen=True)
class ListEntry:
    """One listed party. `entry_id` is unique within its list; names are as published (any script)."""

    entry_id: str
    name: str
    aliases: tuple[str, ...] = ()
    kind: EntityKind = "organization"
    programmes: tuple[str, ...] = ()
    countries: tuple[str, ...] = ()  # ISO 3166-1 alpha-2, upper case
    addresses: tuple[str, ...] = ()
    listed_on: date | None = None

    def all_names(self) -> tuple[str, ...]:
        """The primary name then each distinct alias."""
        seen = [self.name]
        for alias in self.aliases:
            if alias and alias not in seen:
                seen.append(alias)
        return tuple(seen)

    def as_dict(self) -> dict[str, object]:
        out = asdict(self)
        out["listed_on"] = self.listed_on.isoformat() if self.listed_on else None
        for key in ("aliases", "programmes", "countries", "addresses"):
            out[key] = list(out[key])
        return out

    @classmethod
    def from_dict(cls, d: dict[str, object]) -> "ListEntry":
        listed = d.get("listed_on")
        return cls(
            entry_id=str(d["entry_id"]),
            name=str(d["name"]),
            aliases=tuple(d.get("aliases") or ()),  # type: ignore[arg-type]
            kind=d.get("kind", "organization"),  # type: ignore[arg-type]
            programmes=tuple(d.get("programmes") or ()),  # type: ignore[arg-type]
            countries=tuple(d.get("countries") or ()),  # type: ignore[arg-type]
            addresses=tuple(d.get("addresses") or ()),  # type: ignore[arg-type]
            listed_on=date.fromisoformat(str(listed)) if listed else None,
        )


@dataclass(frozen=True)
class BadRow:
    """A row of a list file that was not loaded: 1-based row (line) number, the field and the reason."""

    row: int
    field: str
    reason: str
    value: str = ""

    def __str__(self) -> str:
        shown = f"; got {self.value!r}" if self.value else ""
        return f"row {self.row}: {self.field}: {self.reason}{shown}"


@dataclass
class ParsedList:
    """What a format reader found in a file: the entries, the rows it refused, and the publication date
    the file states (None when the format does not carry one)."""

    entries: list[ListEntry]
    bad_rows: list[BadRow] = field(default_factory=list)
    published: date | None = None


def content_hash(entries: list[ListEntry]) -> str:
    """SHA-256 of the entries in a canonical form: the same list content gives the same hash whatever the
    order of the file's rows."""
    digest = hashlib.sha256()
    for entry in sorted(entries, key=lambda e: e.entry_id):
        digest.update(json.dumps(entry.as_dict(), sort_keys=True, ensure_ascii=False).encode())
        digest.update(b"\n")
    return digest.hexdigest()
