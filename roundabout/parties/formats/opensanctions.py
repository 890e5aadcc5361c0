"""OpenSanctions' simplified CSV export of a dataset's targets, `targets.simple.csv`.

Publisher: OpenSanctions, https://www.opensanctions.org/docs/bulk/csv/ (bulk data, "Targets as simplified
CSV"); written by `SimpleCSVExporter` in https://github.com/opensanctions/opensanctions
(zavod/zavod/exporters/simplecsv.py).

Format: UTF-8, comma-separated, every field quoted (Python's `csv.unix_dialect`), records ending in LF.
Header: `id,schema,name,aliases,birth_date,countries,addresses,identifiers,sanctions,phones,emails,dataset,
first_seen,last_seen,last_change`; some exports add `program_ids`. A multi-valued cell is itself a line of
CSV with ";" as the separator (a value holding ";" is quoted inside the cell), values sorted. `name` is the
entity's caption, `aliases` its other names (any script); `schema` the FollowTheMoney schema (Person,
Organization, Company, LegalEntity, Vessel, Airplane...); `countries` lower-case codes (ISO alpha-2, plus
a few of FollowTheMoney's own such as "suhh", the Soviet Union, which are dropped); each `sanctions` value
is "program - reason - status - start date - end date" with the parts that exist, so its first part is
taken as the programme when there are no `program_ids`; `first_seen` an ISO timestamp.

Ids are unique in an export; rows repeating an id are merged into one entry. The export states no
publication date (published is None); listed_on is first_seen, the date OpenSanctions first saw the entity.
"""

import csv
import io
from pathlib import Path

from roundabout.parties.entries import EntityKind, ParsedList
from roundabout.parties.formats import (
    Columns,
    Entries,
    EntryBuilder,
    add_unique,
    clean,
    country_code,
    csv_rows,
    header_columns,
    read_text,
    records,
    to_date,
)

REQUIRED = ("id", "schema", "name")
KINDS: dict[str, EntityKind] = {
    "person": "person",
    "organization": "organization",
    "company": "organization",
    "legalentity": "organization",
    "publicbody": "organization",
    "vessel": "vessel",
    "airplane": "aircraft",
}


def read_opensanctions(path: Path) -> ParsedList:
    """Read an OpenSanctions targets.simple.csv."""
    text = read_text(path)
    rows = csv_rows(text)
    cols = header_columns(path, text, rows, REQUIRED, "an OpenSanctions targets.simple.csv")
    entries = Entries()
    for line, row in records(path, rows, cols, entries):
        entity_id, name = cols.get(row, "id"), cols.get(row, "name")
        if not entity_id:
            entries.refuse(line, "id", "no id", name)
            continue
        if not name:
            entries.refuse(line, "name", "no name", entity_id)
            continue
        kind = KINDS.get(cols.get(row, "schema").lower(), "other")
        entry = entries.by_id.get(entity_id) or entries.entry(entity_id, line, kind)
        _add_row(cols, row, line, entry, entries)
    return entries.result("name")


def _add_row(cols: Columns, row: list[str], line: int, entry: EntryBuilder, entries: Entries) -> None:
    """What one row adds to its entry (more than one row only when an id repeats)."""
    for name in (cols.get(row, "name"), *split_values(cols.get(row, "aliases"))):
        entry.add_name(name)
    sanctions = split_values(cols.get(row, "sanctions"))
    programmes = split_values(cols.get(row, "program_ids")) or [clean(s.split(" - ")[0]) for s in sanctions]
    add_unique(entry.programmes, *programmes)
    countries = split_values(cols.get(row, "countries"))
    add_unique(entry.countries, *(country_code(c) or "" for c in countries))
    add_unique(entry.addresses, *split_values(cols.get(row, "addresses")))
    seen = cols.get(row, "first_seen")
    try:
        entry.add_date(to_date(seen[:10], ("%Y-%m-%d",)))
    except ValueError as exc:
        entries.refuse(line, "first_seen", f"{exc}; the entry is loaded without it", seen)


def split_values(cell: str) -> list[str]:
    """The values of a multi-valued cell: `a;"b;c";d` -> ["a", "b;c", "d"] (cleaned, empty ones dropped)."""
    if not cell:
        return []
    reader = csv.reader(io.StringIO(cell, newline=""), delimiter=";")
    return [v for v in (clean(value) for row in reader for value in row) if v]
