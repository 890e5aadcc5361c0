"""The EU's consolidated list of persons, groups and entities subject to financial sanctions, in the
Financial Sanctions Files (FSF) CSV release v1.1 ("csvFullSanctionsList_1_1").

Publisher: the European Commission, https://webgate.ec.europa.eu/fsd/fsf (the files and their format
documentation), also listed on data.europa.eu as "Consolidated list of persons, groups and entities
subject to EU financial sanctions".

Format: UTF-8 (the file starts with a byte-order mark), fields separated by ";", one header line. Each line
joins an entity with one of its name aliases, addresses, birth dates, identity documents or citizenships,
so an entity spans many lines sharing `Entity_LogicalId`, and a line that carries an address may carry no
name. The header runs `fileGenerationDate;Entity_LogicalId;Entity_EU_ReferenceNumber;Entity_UnitedNationId;
Entity_DesignationDate;Entity_DesignationDetails;Entity_Remark;Entity_SubjectType;
Entity_SubjectType_ClassificationCode;Entity_Regulation_Type;Entity_Regulation_OrganisationType;
Entity_Regulation_PublicationDate;Entity_Regulation_EntryIntoForceDate;Entity_Regulation_NumberTitle;
Entity_Regulation_Programme;Entity_Regulation_PublicationUrl;NameAlias_LastName;NameAlias_FirstName;
NameAlias_MiddleName;NameAlias_WholeName;...`, then the NameAlias_*, Address_* (Address_City,
Address_Street, Address_ZipCode, Address_CountryIso2Code, Address_CountryDescription...), BirthDate_*,
Identification_* and Citizenship_* (Citizenship_CountryIso2Code...) groups. The subject type is a code,
"P" (person) or "E" (enterprise), with its word ("person", "enterprise"); copies differ on which of
`Entity_SubjectType` and `Entity_SubjectType_ClassificationCode` holds which, so both are read.
`fileGenerationDate` is dd/mm/yyyy, the other dates yyyy-mm-dd; "00" stands for an unknown country.

Read here: the first name alias of an entity is its name (the EU lists the primary name first), the others
aliases; the programme (`Entity_Regulation_Programme`, e.g. RUS, UKR, BLR); countries from addresses and
citizenships; listed_on, the earliest of the designation date and the regulation's publication date;
published, the fileGenerationDate. Only the columns named here are needed: a trimmed file reads too.
"""

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
    header_columns,
    read_text,
    records,
    to_date,
)

REQUIRED = ("Entity_LogicalId", "NameAlias_WholeName")
KINDS: dict[str, EntityKind] = {
    "p": "person",
    "person": "person",
    "e": "organization",
    "enterprise": "organization",
}
_ADDRESS = ("Address_Street", "Address_PoBox", "Address_City", "Address_ZipCode", "Address_Region")
_DATES = ("%Y-%m-%d", "%d/%m/%Y")


def read_eu(path: Path) -> ParsedList:
    """Read an EU FSF csvFullSanctionsList v1.1 file."""
    text = read_text(path)
    rows = csv_rows(text, delimiter=";")
    label = "an EU consolidated sanctions list CSV (';'-separated, FSF v1.1)"
    cols = header_columns(path, text, rows, REQUIRED, label)
    entries = Entries()
    published = None
    for line, row in records(path, rows, cols, entries):
        entity_id = cols.get(row, "Entity_LogicalId")
        if not entity_id:
            entries.refuse(line, "Entity_LogicalId", "no id", cols.get(row, "NameAlias_WholeName"))
            continue
        if published is None:
            published = _date(cols, row, "fileGenerationDate", line, entries)
        entry = entries.by_id.get(entity_id) or entries.entry(entity_id, line, _kind(cols, row))
        _add_row(cols, row, line, entry, entries)
    return entries.result("NameAlias_WholeName", published)


def _kind(cols: Columns, row: list[str]) -> EntityKind:
    columns = ("Entity_SubjectType_ClassificationCode", "Entity_SubjectType")
    codes = (cols.get(row, c).lower() for c in columns)
    return next((KINDS[c] for c in codes if c in KINDS), "other")


def _add_row(cols: Columns, row: list[str], line: int, entry: EntryBuilder, entries: Entries) -> None:
    """What one line adds to its entity: a name, an address, a citizenship, the programme and dates."""
    parts = ("NameAlias_FirstName", "NameAlias_MiddleName", "NameAlias_LastName")
    name = cols.get(row, "NameAlias_WholeName") or " ".join(p for p in (cols.get(row, c) for c in parts) if p)
    entry.add_name(name)
    add_unique(entry.programmes, cols.get(row, "Entity_Regulation_Programme"))
    description = cols.get(row, "Address_CountryDescription")
    address = [cols.get(row, c) for c in _ADDRESS]
    if any(address):
        add_unique(entry.addresses, ", ".join(p for p in (*address, description) if p))
    address_country = country_code(cols.get(row, "Address_CountryIso2Code")) or country_code(description)
    citizenship = country_code(cols.get(row, "Citizenship_CountryIso2Code")) or country_code(
        cols.get(row, "Citizenship_CountryDescription")
    )
    add_unique(entry.countries, address_country or "", citizenship or "")
    for column in ("Entity_DesignationDate", "Entity_Regulation_PublicationDate"):
        entry.add_date(_date(cols, row, column, line, entries))


def _date(cols: Columns, row: list[str], column: str, line: int, entries: Entries) -> date | None:
    """The date in `column`; a value that is not a date is reported (once) and read as none."""
    value = cols.get(row, column)
    try:
        return to_date(value, _DATES)
    except ValueError as exc:
        entries.refuse(line, column, f"{exc}; the entry is loaded without it", value, once=True)
        return None
