"""Readers for the publishers' own sanctions list files, each into `ListEntry`s (`entries.py`).

One module per format (`ofac`, `eu`, `uk`, `opensanctions`), each with a `read_<format>(path)`; `read_list`
picks one by name. What they share lives here: reading the bytes with the encodings a publisher is known
to use (and a clear error when none fits), CSV records with the line each starts on (the row number a
`BadRow` reports), names cleaned the same way, country names or codes to ISO 3166-1 alpha-2, and the
accumulation of an entry over the many rows that formats with one row per alias give it.

Readers are imported when asked for (`importlib`), so they can import these helpers without a cycle.
"""

import csv
import importlib
import io
import re
from collections.abc import Callable, Iterable, Iterator, Sequence
from dataclasses import dataclass, field
from datetime import date, datetime
from functools import lru_cache
from pathlib import Path

import pycountry
from rigour.territories import lookup_territory

from roundabout.errors import ConfigError, InvalidInputError, NotFoundError
from roundabout.parties.entries import BadRow, EntityKind, ListEntry, ParsedList
from roundabout.reference.countries import ISO_ALPHA2

#: The formats `read_list` knows, by the name a user gives.
FORMATS: tuple[str, ...] = ("ofac", "eu", "uk", "opensanctions")

_ENCODING_NAMES = {"utf-8-sig": "UTF-8", "utf-8": "UTF-8", "cp1252": "Windows-1252"}
_DATE_PARTS = {"%Y": "yyyy", "%m": "mm", "%d": "dd", "%b": "Mon"}
_QUOTES = "\"'`“”„«»‘’‚"


def read_list(fmt: str, path: Path) -> ParsedList:
    """Read `path` as a list in format `fmt` (one of `FORMATS`)."""
    if fmt not in FORMATS:
        raise ConfigError(f"unknown sanctions list format {fmt!r}: use one of {', '.join(FORMATS)}")
    module = importlib.import_module(f"{__name__}.{fmt}")
    reader: Callable[[Path], ParsedList] = getattr(module, f"read_{fmt}")
    return reader(Path(path))


def read_text(path: Path, encodings: Sequence[str] = ("utf-8-sig",)) -> str:
    """The text of a list file, decoded with the first of `encodings` that fits.

    Raises NotFoundError when there is no such file, InvalidInputError("file", ...) when it is a folder,
    unreadable, empty, binary (NUL bytes: UTF-16 or a spreadsheet/archive) or fits none of the encodings.
    """
    if not path.exists():
        raise NotFoundError(f"sanctions list file not found: {path}")
    if path.is_dir():
        raise InvalidInputError("file", f"{path} is a folder, not a list file")
    try:
        data = path.read_bytes()
    except OSError as exc:
        raise InvalidInputError("file", f"cannot read {path}: {exc.strerror or exc}") from exc
    if not data.removeprefix(b"\xef\xbb\xbf").strip(b" \t\r\n\x1a"):
        raise InvalidInputError("file", f"{path.name} is empty")
    if b"\x00" in data:
        reason = "holds NUL bytes: UTF-16 text or a binary file (.xlsx, .ods, .zip?), not CSV text"
        raise InvalidInputError("file", f"{path.name} {reason}")
    failure: UnicodeDecodeError | None = None
    for encoding in encodings:
        try:
            return data.decode(encoding)
        except UnicodeDecodeError as exc:
            failure = failure or exc
    names = " or ".join(dict.fromkeys(_ENCODING_NAMES.get(e, e) for e in encodings))
    where = f": byte 0x{data[failure.start]:02x} at offset {failure.start}" if failure else ""
    raise InvalidInputError("file", f"{path.name} is not {names} text{where}")


def csv_rows(text: str, delimiter: str = ",") -> Iterator[tuple[int, list[str]]]:
    """Each CSV record that is not blank, with the 1-based line it starts on (quoted fields may span
    lines, so the record count is not the line number)."""
    reader = csv.reader(io.StringIO(text, newline=""), delimiter=delimiter)
    start = 1
    try:
        for row in reader:
            line, start = start, reader.line_num + 1
            if any(cell.strip() for cell in row):
                yield line, row
    except csv.Error as exc:
        raise InvalidInputError("file", f"line {start} cannot be read as CSV: {exc}") from exc


def clean(value: str | None) -> str:
    """A value as published, without surrounding whitespace or quotes and with runs of whitespace
    (line breaks inside a quoted cell) as one space; the script is kept."""
    text = " ".join((value or "").split())
    while len(text) >= 2 and text[0] in _QUOTES and text[-1] in _QUOTES:
        text = text[1:-1].strip()
    return text


@lru_cache(maxsize=4096)
def country_code(value: str) -> str | None:
    """The ISO 3166-1 alpha-2 code (upper case) of a code or an English country name, else None.

    Two letters are taken as a code. A name is looked up in ISO 3166 (`pycountry`: names, official and
    common names), then in the names OpenSanctions keeps for territories (`rigour`: "Russia", "Korea,
    North", "Turkey", "Burma", "UAE"...), then fuzzily; a part of a country (Crimea "ua-cri") counts as it.
    """
    text = clean(value)
    if len(text) == 2:
        return text.upper() if text.upper() in ISO_ALPHA2 else None
    if not text or text.lower() in {"undetermined", "unknown", "n/a"}:
        return None
    if re.fullmatch(r"[A-Za-z]{2}-[A-Za-z0-9]{1,4}", text):
        return text[:2].upper() if text[:2].upper() in ISO_ALPHA2 else None
    try:
        return str(pycountry.countries.lookup(text).alpha_2)
    except LookupError:
        pass
    territory = lookup_territory(text) or lookup_territory(text, fuzzy=True)
    code = territory.code.split("-")[0].upper() if territory else ""
    return code if code in ISO_ALPHA2 else None


def to_date(value: str, formats: Sequence[str]) -> date | None:
    """`value` read with the first of `formats` (strptime) that fits; None when empty. ValueError when
    none fits."""
    text = clean(value)
    if not text:
        return None
    for fmt in formats:
        try:
            return datetime.strptime(text, fmt).date()
        except ValueError:
            continue
    shown = " or ".join(re.sub(r"%[Ymdb]", lambda m: _DATE_PARTS[m.group()], f) for f in formats)
    raise ValueError(f"not a date ({shown})")


def guess_format(first_line: str) -> str | None:
    """Which of `FORMATS` a file's first line (or header) looks like, for a hint in an error message."""
    cells = {clean(c).lower() for c in re.split(r"[;,]", first_line.removeprefix("\ufeff"))}
    if "entity_logicalid" in cells:
        return "eu"
    if cells & {"name 6", "group id", "unique id", "last updated"} or first_line.startswith("Report Date:"):
        return "uk"
    if {"id", "schema", "name"} <= cells:
        return "opensanctions"
    first = first_line.split(",", 1)[0].strip()
    if first.isdigit() and "-0-" in first_line:
        return "ofac"
    return None


class Columns:
    """A header's columns by name (case and surrounding whitespace ignored), to read rows by name."""

    def __init__(self, header: Sequence[str]) -> None:
        self.header = [clean(h.removeprefix("\ufeff")) for h in header]
        self._index = {name.lower(): i for i, name in reversed(list(enumerate(self.header)))}

    def __contains__(self, name: str) -> bool:
        return name.lower() in self._index

    def missing(self, names: Iterable[str]) -> list[str]:
        return [n for n in names if n not in self]

    def get(self, row: Sequence[str], name: str) -> str:
        """The cleaned value of column `name` in `row`; "" when the column or the cell is absent."""
        i = self._index.get(name.lower())
        return clean(row[i]) if i is not None and i < len(row) else ""

    def width_problem(self, row: Sequence[str]) -> str | None:
        """Why `row` does not line up with the header (fewer cells, or more cells holding values)."""
        if len(row) < len(self.header) or any(c.strip() for c in row[len(self.header) :]):
            return f"expected {len(self.header)} fields as in the header, found {len(row)}"
        return None


def wrong_columns(path: Path, label: str, missing: Sequence[str], first_line: str) -> InvalidInputError:
    """The error for a file that is not in the format it was given as: names the missing columns, shows
    the start of its first line and, when it looks like another format, which."""
    shown = first_line.removeprefix("\ufeff").strip()
    shown = shown if len(shown) <= 80 else shown[:77] + "..."
    hint = guess_format(first_line)
    reason = f"{path.name} is not {label}: missing column(s) {', '.join(missing)}; its first line: {shown!r}"
    if hint:
        reason += f" (it looks like the {hint!r} format)"
    return InvalidInputError(missing[0] if missing else "file", reason)


def add_unique(items: list[str], *values: str) -> None:
    """Append each non-empty value not already in `items` (order kept: the first seen comes first)."""
    for value in values:
        if value and value not in items:
            items.append(value)


@dataclass
class EntryBuilder:
    """An entry being gathered from its rows: `row` is the first row it was seen on."""

    entry_id: str
    row: int
    kind: EntityKind = "organization"
    name: str = ""
    primary: bool = False
    aliases: list[str] = field(default_factory=list)
    programmes: list[str] = field(default_factory=list)
    countries: list[str] = field(default_factory=list)
    addresses: list[str] = field(default_factory=list)
    listed_on: date | None = None

    def add_name(self, name: str, primary: bool = False) -> None:
        """The first name seen is the entry's name unless a later one is marked primary; the rest are
        aliases."""
        if not name:
            return
        if not self.name:
            self.name, self.primary = name, primary
        elif primary and not self.primary and name != self.name:
            self.aliases.insert(0, self.name)
            self.name, self.primary = name, True
        elif name != self.name:
            add_unique(self.aliases, name)

    def add_date(self, listed: date | None) -> None:
        """Keep the earliest listing date."""
        if listed and (self.listed_on is None or listed < self.listed_on):
            self.listed_on = listed

    def build(self) -> ListEntry:
        return ListEntry(
            entry_id=self.entry_id,
            name=self.name,
            aliases=tuple(a for a in self.aliases if a != self.name),
            kind=self.kind,
            programmes=tuple(self.programmes),
            countries=tuple(self.countries),
            addresses=tuple(self.addresses),
            listed_on=self.listed_on,
        )


@dataclass
class Entries:
    """The entries of one file by id (in the order first seen) and the rows refused."""

    by_id: dict[str, EntryBuilder] = field(default_factory=dict)
    bad_rows: list[BadRow] = field(default_factory=list)
    _reported: set[tuple[str, str, str]] = field(default_factory=set, repr=False)

    def entry(self, entry_id: str, row: int, kind: EntityKind = "organization") -> EntryBuilder:
        """The entry with this id, started on `row` with `kind` when first seen."""
        if entry_id not in self.by_id:
            self.by_id[entry_id] = EntryBuilder(entry_id, row, kind)
        return self.by_id[entry_id]

    def refuse(self, row: int, column: str, reason: str, value: str = "", once: bool = False) -> None:
        """Report a problem on `row`; with `once`, only the first row with the same column, reason and value
        (formats that repeat an entry's value on each of its rows would report it on every one)."""
        if once and (column, reason, value) in self._reported:
            return
        self._reported.add((column, reason, value))
        self.bad_rows.append(BadRow(row, column, reason, value))

    def result(self, name_column: str, published: date | None = None) -> ParsedList:
        """The entries that have a name (one without any is refused on its first row) and the refusals
        in file order (a column named "file.csv:column" is from that file, after the main file's)."""
        entries = []
        for builder in self.by_id.values():
            if builder.name:
                entries.append(builder.build())
            else:
                self.refuse(builder.row, name_column, "no name on any row of this entry", builder.entry_id)
        bad = sorted(self.bad_rows, key=lambda b: (b.field.rpartition(":")[0], b.row))
        return ParsedList(entries=entries, bad_rows=bad, published=published)


def header_columns(
    path: Path, text: str, rows: Iterator[tuple[int, list[str]]], required: Sequence[str], label: str
) -> Columns:
    """The columns of the file's first record, its header; a file without the `required` ones is refused,
    named as not being `label`."""
    header = next(rows, None)
    cols = Columns(header[1] if header else [])
    if missing := cols.missing(required):
        raise wrong_columns(path, label, missing, text.split("\n", 1)[0])
    return cols


def records(
    path: Path, rows: Iterator[tuple[int, list[str]]], cols: Columns, entries: "Entries"
) -> Iterator[tuple[int, list[str]]]:
    """The records after the header, each with its line: one of the wrong width is refused (its line and
    why) and the others yielded; a header with no record after it is refused as a whole."""
    count = 0
    for line, row in rows:
        count += 1
        if problem := cols.width_problem(row):
            entries.refuse(line, "columns", problem)
            continue
        yield line, row
    if not count:
        raise InvalidInputError("file", f"{path.name} has a header but no records")
