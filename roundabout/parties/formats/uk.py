"""The UK's sanctions lists in CSV: OFSI's Consolidated List of Financial Sanctions Targets (ConList.csv) and
the FCDO's UK Sanctions List (UK_Sanctions_List.csv); which one a file is, its header tells.

OFSI ConList.csv (HM Treasury, "Financial sanctions: consolidated list of targets" and its format guide,
https://www.gov.uk/government/publications/financial-sanctions-consolidated-list-of-targets): comma-
separated, a first line `Last Updated,dd/mm/yyyy`, then the header (the "2022 format", 36 columns):
`Name 6,Name 1,Name 2,Name 3,Name 4,Name 5,Title,Name Non-Latin Script,Non-Latin Script Type,Non-Latin
Script Language,DOB,Town of Birth,Country of Birth,Nationality,Passport Number,Passport Details,National
Identification Number,National Identification Details,Position,Address 1,...,Address 6,Post/Zip Code,
Country,Other Information,Group Type,Alias Type,Alias Quality,Regime,Listed On,UK Sanctions List Date
Designated,Last Updated,Group ID`. One row per name of a group (`Group ID`); Name 6 is the surname or the
organisation's name, Names 1-5 the given names; Alias Type says "Primary name", "Primary name variation",
"AKA" or "FKA"; Group Type is Individual, Entity or Ship; dates are dd/mm/yyyy. Older ConList.csv files are
not UTF-8 (OpenSanctions' former crawler read them as Latin-1), so UTF-8 is tried first, then Windows-1252.

FCDO UK Sanctions List CSV (https://www.gov.uk/government/publications/the-uk-sanctions-list): a first line
`Report Date: dd-Mon-yyyy`, then a 58-column header `Last Updated,Unique ID,OFSI Group ID,UN Reference
Number,Name 6,Name 1,...,Name 5,Name type,Alias strength,Title,Name non-latin script,Non-latin script
type,Non-latin script language,Regime Name,Designation Type,Designation source,Sanctions Imposed,Other
Information,UK Statement of Reasons,Address Line 1,...,Address Line 6,Address Postal Code,Address Country,
...,Date Designated,D.O.B,Nationality(/ies),...`; one row per name (and repeated detail) of a designation
(`Unique ID`); Designation Type is Individual, Entity or Ship.

Read here: the primary name (Names 1-5 then Name 6), the other names and the non-Latin-script name as
aliases, the regime as the programme, the countries of addresses and nationalities, listed_on (Listed On /
Date Designated, the earliest) and published (the first line's date).
"""

import re
from dataclasses import dataclass
from datetime import date
from pathlib import Path

from roundabout.parties.entries import EntityKind, ParsedList
from roundabout.parties.formats import (
    Columns,
    Entries,
    EntryBuilder,
    add_unique,
    country_code,
    csv_rows,
    read_text,
    records,
    to_date,
    wrong_columns,
)

ENCODINGS = ("utf-8-sig", "cp1252")
NAMES = ("Name 1", "Name 2", "Name 3", "Name 4", "Name 5", "Name 6")
KINDS: dict[str, EntityKind] = {"individual": "person", "entity": "organization", "ship": "vessel"}


@dataclass(frozen=True)
class Layout:
    """Where a variant of the UK CSV keeps what is read."""

    id: str
    kind: str
    name_type: str
    non_latin: str
    regime: str
    listed: str
    country: str
    nationality: str
    address: tuple[str, ...]


CONLIST = Layout(
    "Group ID", "Group Type", "Alias Type", "Name Non-Latin Script", "Regime", "Listed On", "Country",
    "Nationality",
    ("Address 1", "Address 2", "Address 3", "Address 4", "Address 5", "Address 6", "Post/Zip Code"),
)  # fmt: skip
FCDO = Layout(
    "Unique ID", "Designation Type", "Name type", "Name non-latin script", "Regime Name", "Date Designated",
    "Address Country", "Nationality(/ies)",
    ("Address Line 1", "Address Line 2", "Address Line 3", "Address Line 4", "Address Line 5",
     "Address Line 6", "Address Postal Code"),
)  # fmt: skip


def read_uk(path: Path) -> ParsedList:
    """Read an OFSI ConList.csv or an FCDO UK Sanctions List CSV."""
    text = read_text(path, ENCODINGS)
    rows = csv_rows(text)
    preamble: list[list[str]] = []
    header: list[str] | None = None
    for _, row in rows:  # the header follows at most a line or two of preamble
        if any(cell.strip().lower() == "name 6" for cell in row):
            header = row
            break
        preamble.append(row)
        if len(preamble) > 2:
            break
    cols = Columns(header or [])
    layout = FCDO if "Unique ID" in cols else CONLIST
    missing = cols.missing((layout.id, *NAMES)) if header else [layout.id, *NAMES]
    if missing:
        label = "a UK sanctions list CSV (OFSI ConList.csv or the FCDO UK Sanctions List)"
        raise wrong_columns(path, label, missing, text.split("\n", 1)[0])
    entries = Entries()
    for line, row in records(path, rows, cols, entries):
        _add_row(cols, layout, row, line, entries)
    return entries.result("Name 6", _published(preamble))


def _published(preamble: list[list[str]]) -> date | None:
    """The date on the line before the header: `Last Updated,dd/mm/yyyy` or `Report Date: dd-Mon-yyyy`."""
    text = " ".join(cell for row in preamble for cell in row)
    for pattern, fmt in ((r"\d{1,2}/\d{1,2}/\d{4}", "%d/%m/%Y"), (r"\d{1,2}-[A-Za-z]{3}-\d{4}", "%d-%b-%Y")):
        if found := re.search(pattern, text):
            try:
                return to_date(found.group(), (fmt,))
            except ValueError:
                return None
    return None


def _add_row(cols: Columns, layout: Layout, row: list[str], line: int, entries: Entries) -> None:
    """Add one row (one name of an entry) to its entry, or refuse it."""
    entry_id = re.sub(r"^(\d+)\.0$", r"\1", cols.get(row, layout.id))  # a spreadsheet's "6897.0"
    given = [cols.get(row, n) for n in NAMES[:5]]
    name = " ".join(p for p in (*given, cols.get(row, "Name 6")) if p)
    non_latin = cols.get(row, layout.non_latin)
    if not entry_id:
        entries.refuse(line, layout.id, "no id", name or non_latin)
        return
    if not name and not non_latin:
        entries.refuse(line, "Name 6", "no name", entry_id)
        return
    kind = KINDS.get(cols.get(row, layout.kind).lower(), "other")
    entry = entries.by_id.get(entry_id) or entries.entry(entry_id, line, kind)
    name_type = cols.get(row, layout.name_type).lower()
    entry.add_name(name or non_latin, primary=name_type == "primary name")
    entry.add_name(non_latin)
    add_unique(entry.programmes, cols.get(row, layout.regime))
    _add_places(cols, layout, row, entry)
    listed = cols.get(row, layout.listed)
    try:
        entry.add_date(to_date(listed, ("%d/%m/%Y",)))
    except ValueError as exc:
        entries.refuse(line, layout.listed, f"{exc}; the entry is loaded without it", listed, once=True)


def _add_places(cols: Columns, layout: Layout, row: list[str], entry: EntryBuilder) -> None:
    """The row's address and the countries of its address and nationality (several may be written
    "(1) Russia (2) Kazakhstan")."""
    country = cols.get(row, layout.country)
    lines = [cols.get(row, c) for c in layout.address]
    if any(lines):
        add_unique(entry.addresses, ", ".join(p for p in (*lines, country) if p))
    for value in (country, cols.get(row, layout.nationality)):
        for part in re.split(r"\(\d+\)", value):
            add_unique(entry.countries, country_code(part) or "")
