"""OFAC's Specially Designated Nationals (SDN) list in its legacy delimited release: sdn.csv with alt.csv
(alternate names) and add.csv (addresses) beside it.

Format, from OFAC's data specification (dat_spec.txt, linked from "SDN List Data Formats & Data Schemas",
https://ofac.treasury.gov/sdn-list-data-formats-data-schemas):
- three comma-separated files with no header; text fields in double quotes; a null is "-0-" (OFAC writes
  it followed by a space, `-0- `); records end with CR LF. The spec calls them ASCII text; old releases
  carry Windows-1252 bytes (accented names), so UTF-8 is tried first, then Windows-1252. A trailing
  Ctrl-Z (0x1A, the old DOS end-of-file mark) is ignored.
- sdn.csv: ent_num, SDN_Name, SDN_Type, Program, Title, Call_Sign, Vess_type, Tonnage, GRT, Vess_flag,
  Vess_owner, Remarks. ent_num is the unique listing identifier, so a repeated one is refused. SDN_Type is
  empty (-0-) for an entity, else "individual", "vessel" or "aircraft" (any other: kind "other"). Several
  programmes share the Program field as `IRAN] [SDGT] [IFSR` (the XML's programme list, flattened).
- alt.csv: ent_num, alt_num, alt_type (aka, fka, nka), alt_name, alt_remarks.
- add.csv: ent_num, add_num, Address, City/State/Province/Postal Code, Country (an English name such as
  "Russia", "Korea, North", "undetermined"), Add_remarks.

Not read: Remarks (weak a.k.a.s, identity documents, nationality, as free text), sdn_comments.csv (the
overflow of Remarks) and the vessel details but the flag, which counts as one of a vessel's countries. The
CSV release states neither a publication date nor listing dates, so both are None.
"""

import re
from pathlib import Path

from roundabout.errors import InvalidInputError, NotFoundError
from roundabout.parties.entries import EntityKind, ParsedList
from roundabout.parties.formats import (
    Entries,
    add_unique,
    clean,
    country_code,
    csv_rows,
    guess_format,
    read_text,
)

SDN_COLUMNS = (
    "ent_num", "SDN_Name", "SDN_Type", "Program", "Title", "Call_Sign", "Vess_type", "Tonnage", "GRT",
    "Vess_flag", "Vess_owner", "Remarks",
)  # fmt: skip
ALT_COLUMNS = ("ent_num", "alt_num", "alt_type", "alt_name", "alt_remarks")
ADD_COLUMNS = ("ent_num", "add_num", "Address", "City/State/Province/Postal Code", "Country", "Add_remarks")
ENCODINGS = ("utf-8-sig", "cp1252")
KINDS: dict[str, EntityKind] = {
    "": "organization",
    "entity": "organization",
    "individual": "person",
    "vessel": "vessel",
    "aircraft": "aircraft",
}


def read_ofac(path: Path) -> ParsedList:
    """Read the SDN list from a folder holding sdn.csv (alt.csv and add.csv optional) or from sdn.csv."""
    sdn = _sdn_file(path)
    entries = Entries()
    _read_sdn(sdn, entries)
    alt, add = _beside(sdn.parent, "alt.csv"), _beside(sdn.parent, "add.csv")
    if alt is not None:
        _read_alt(alt, entries)
    if add is not None:
        _read_add(add, entries)
    return entries.result("SDN_Name")


def split_programmes(value: str) -> list[str]:
    """`RUSSIA-EO14024] [UKRAINE-EO13662` (outer brackets or not) -> ["RUSSIA-EO14024", "UKRAINE-EO13662"]."""
    parts = (p.strip(" []") for p in re.split(r"\]\s*\[", _value(value)))
    return [p for p in parts if p]


def _value(cell: str) -> str:
    """A cell without OFAC's null mark."""
    return "" if cell.strip() == "-0-" else clean(cell)


def _beside(folder: Path, name: str) -> Path | None:
    """The file `name` in `folder`, whatever the case of its name (OFAC's archives used SDN.CSV)."""
    exact = folder / name
    if exact.is_file():
        return exact
    return next((p for p in sorted(folder.iterdir()) if p.name.lower() == name and p.is_file()), None)


def _sdn_file(path: Path) -> Path:
    if not path.exists():
        raise NotFoundError(f"OFAC SDN list not found: {path}")
    if path.is_dir():
        found = _beside(path, "sdn.csv")
        if found is None:
            raise NotFoundError(f"no sdn.csv in {path} (the OFAC SDN list folder)")
        return found
    return path


def _records(path: Path, columns: tuple[str, ...], role: str) -> list[tuple[int, list[str]]]:
    """The records of one of the three files, after checking the file has their columns at all."""
    text = read_text(path, ENCODINGS).rstrip().rstrip("\x1a")
    rows = list(csv_rows(text))
    if rows and rows[0][1][0].strip().lower() == "ent_num":
        rows = rows[1:]  # a header row someone added: the published files have none
    if not rows:
        raise InvalidInputError("file", f"{path.name} has no records")
    if not any(len(row) == len(columns) for _, row in rows):
        line, first = rows[0]
        hint = guess_format(text.split("\n", 1)[0])
        reason = (
            f"{path.name} is not an OFAC {role}: expected {len(columns)} comma-separated "
            f"columns ({', '.join(columns)}), line {line} has {len(first)}"
        )
        looks_like = f" (it looks like the {hint!r} format)" if hint and hint != "ofac" else ""
        raise InvalidInputError("file", reason + looks_like)
    return rows


def _read_sdn(path: Path, entries: Entries) -> None:
    for line, row in _records(path, SDN_COLUMNS, "sdn.csv"):
        if len(row) != len(SDN_COLUMNS):
            entries.refuse(line, "columns", f"expected {len(SDN_COLUMNS)} columns, found {len(row)}")
            continue
        ent_num, name, sdn_type = _value(row[0]), _value(row[1]), _value(row[2]).lower()
        if not ent_num:
            entries.refuse(line, "ent_num", "no id")
        elif not ent_num.isdigit():
            entries.refuse(line, "ent_num", "not a number", ent_num)
        elif not name:
            entries.refuse(line, "SDN_Name", "no name", ent_num)
        elif ent_num in entries.by_id:
            first = entries.by_id[ent_num].row
            reason = f"duplicate id (ids are unique in sdn.csv; first on row {first})"
            entries.refuse(line, "ent_num", reason, ent_num)
        else:
            entry = entries.entry(ent_num, line, KINDS.get(sdn_type, "other"))
            entry.add_name(name, primary=True)
            add_unique(entry.programmes, *split_programmes(row[3]))
            add_unique(entry.countries, country_code(_value(row[9])) or "")


def _read_alt(path: Path, entries: Entries) -> None:
    for line, row in _records(path, ALT_COLUMNS, "alt.csv"):
        if len(row) != len(ALT_COLUMNS):
            entries.refuse(line, "alt.csv:columns", f"expected {len(ALT_COLUMNS)} columns, found {len(row)}")
            continue
        ent_num, name = _value(row[0]), _value(row[3])
        if not ent_num:
            entries.refuse(line, "alt.csv:ent_num", "no id")
        elif ent_num not in entries.by_id:
            entries.refuse(line, "alt.csv:ent_num", "no entry with this ent_num in sdn.csv", ent_num)
        elif not name:
            entries.refuse(line, "alt.csv:alt_name", "no name", ent_num)
        else:
            entries.by_id[ent_num].add_name(name)


def _read_add(path: Path, entries: Entries) -> None:
    for line, row in _records(path, ADD_COLUMNS, "add.csv"):
        if len(row) != len(ADD_COLUMNS):
            entries.refuse(line, "add.csv:columns", f"expected {len(ADD_COLUMNS)} columns, found {len(row)}")
            continue
        ent_num, street, city, country = (_value(row[i]) for i in (0, 2, 3, 4))
        if not ent_num:
            entries.refuse(line, "add.csv:ent_num", "no id")
        elif ent_num not in entries.by_id:
            entries.refuse(line, "add.csv:ent_num", "no entry with this ent_num in sdn.csv", ent_num)
        else:
            entry = entries.by_id[ent_num]
            add_unique(entry.addresses, ", ".join(p for p in (street, city, country) if p))
            add_unique(entry.countries, country_code(country) or "")
