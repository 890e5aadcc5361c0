"""The simulated world's list as a file: OpenSanctions' `targets.simple.csv` format (see
`roundabout.parties.formats.opensanctions`), which `roundabout lists load --format opensanctions` reads
back like any published list."""

import csv
import io
from pathlib import Path

from roundabout.errors import writing
from roundabout.parties.entries import ListEntry

HEADER = (
    "id", "schema", "name", "aliases", "birth_date", "countries", "addresses", "identifiers", "sanctions",
    "phones", "emails", "dataset", "first_seen", "last_seen", "last_change",
)  # fmt: skip
DATASET = "roundabout simulated sanctions list"
_SCHEMA = {"organization": "Company", "person": "Person", "vessel": "Vessel", "aircraft": "Airplane"}


def _multi(values: tuple[str, ...] | list[str]) -> str:
    """A multi-valued cell: one line of ";"-separated CSV (a value holding ";" is quoted)."""
    out = io.StringIO()
    csv.writer(out, delimiter=";", lineterminator="").writerow(sorted(values))
    return out.getvalue()


def write_targets(entries: list[ListEntry], path: Path) -> Path:
    """Write the entries as a targets.simple.csv at `path` (its folder is made)."""
    with writing(path):
        path.parent.mkdir(parents=True, exist_ok=True)
        with path.open("w", newline="", encoding="utf-8") as fh:
            writer = csv.writer(fh, quoting=csv.QUOTE_ALL, lineterminator="\n")
            writer.writerow(HEADER)
            for e in entries:
                listed = e.listed_on.isoformat() + "T00:00:00" if e.listed_on else ""
                sanctions = [f"{p} - {e.listed_on.isoformat()}" if e.listed_on else p for p in e.programmes]
                writer.writerow([
                    e.entry_id, _SCHEMA.get(e.kind, "LegalEntity"), e.name, _multi(e.aliases), "",
                    _multi([c.lower() for c in e.countries]), _multi(e.addresses), "", _multi(sanctions),
                    "", "", DATASET, listed, listed, listed,
                ])  # fmt: skip
    return path
