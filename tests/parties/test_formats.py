"""The sanctions list readers: each publisher's file into entries, broken rows reported with their line and
reason while the good rows load, and files that cannot be read refused with a message naming the problem.

The fixtures (tests/parties/fixtures) are written in each publisher's format with fictional entities.
"""

import shutil
from datetime import date
from pathlib import Path

import pytest

from roundabout.errors import ConfigError, InvalidInputError, NotFoundError
from roundabout.parties.entries import ListEntry, ParsedList
from roundabout.parties.formats import FORMATS, clean, country_code, read_list
from roundabout.parties.formats.ofac import split_programmes
from roundabout.parties.formats.opensanctions import split_values
from roundabout.reference.countries import ISO_ALPHA2

FIXTURES = Path(__file__).parent / "fixtures"
GOOD = {
    "ofac": FIXTURES / "ofac",
    "eu": FIXTURES / "eu.csv",
    "uk": FIXTURES / "uk_conlist.csv",
    "opensanctions": FIXTURES / "targets.simple.csv",
}
BROKEN = {
    "ofac": FIXTURES / "ofac_broken",
    "eu": FIXTURES / "eu_broken.csv",
    "uk": FIXTURES / "uk_conlist_broken.csv",
    "opensanctions": FIXTURES / "targets_broken.csv",
}


def _by_id(parsed: ParsedList) -> dict[str, ListEntry]:
    return {e.entry_id: e for e in parsed.entries}


def _bad(parsed: ParsedList) -> list[tuple[int, str]]:
    return [(b.row, b.field) for b in parsed.bad_rows]


# --- OFAC SDN (sdn.csv, alt.csv, add.csv) -------------------------------------------------------------------


def test_ofac_reads_the_three_files_of_a_folder() -> None:
    parsed = read_list("ofac", GOOD["ofac"])
    entries = _by_id(parsed)
    assert len(entries) == 9 and parsed.bad_rows == [] and parsed.published is None
    vector = entries["90001"]
    assert vector.name == "SEVERNYI VEKTOR OOO"
    assert vector.aliases == (
        "SEVERNYI VEKTOR LLC",
        "ООО СЕВЕРНЫЙ ВЕКТОР",
        "NORTHERN VECTOR LIMITED LIABILITY COMPANY",
    )
    assert vector.programmes == ("RUSSIA-EO14024", "UKRAINE-EO13662")
    assert vector.kind == "organization" and vector.countries == ("RU",) and vector.listed_on is None
    assert vector.addresses == ("ul. Promyshlennaya 1, office 2, Moscow 100000, Russia",)
    assert entries["90002"].aliases == ("KARAVAN LOGISTICS LLP", "ТОО КАРАВАН ЛОГИСТИКА")
    assert entries["90002"].countries == ("KZ",)
    assert (entries["90003"].kind, entries["90003"].name) == ("person", "IVANOVSKIY, Pyotr Sergeyevich")
    assert (entries["90004"].kind, entries["90004"].countries) == ("vessel", ("RU",))  # the flag
    assert entries["90007"].kind == "aircraft" and entries["90007"].programmes == ("RUSSIA-EO14071",)
    assert entries["90006"].countries == ("HK", "CN")
    assert entries["90006"].programmes == ("RUSSIA-EO14024", "IRAN-EO13846")
    assert entries["90008"].countries == ("TR",)  # "Turkiye"
    # "undetermined" is no country: the address stays, only its country is left out
    assert entries["90005"].countries == ("AE",)
    assert "P.O. Box 0000, Free Zone, undetermined" in entries["90005"].addresses


def test_ofac_reads_sdn_csv_with_its_siblings_or_alone(tmp_path: Path) -> None:
    assert read_list("ofac", GOOD["ofac"] / "sdn.csv") == read_list("ofac", GOOD["ofac"])
    shutil.copy(GOOD["ofac"] / "sdn.csv", tmp_path / "SDN.CSV")
    alone = _by_id(read_list("ofac", tmp_path))
    assert len(alone) == 9 and alone["90001"].aliases == () and alone["90001"].addresses == ()
    assert alone["90004"].countries == ("RU",)


def test_ofac_broken_rows_are_reported_and_the_rest_loads() -> None:
    parsed = read_list("ofac", BROKEN["ofac"])
    entries = _by_id(parsed)
    assert sorted(entries) == ["91001", "91004", "91006"]
    assert entries["91001"].name == "VOSTOK TRADE OOO"  # the duplicate's name is not taken
    assert entries["91001"].aliases == ("VOSTOK TRADING LLC",)
    assert entries["91004"].countries == ("KZ",)
    assert _bad(parsed) == [
        (2, "SDN_Name"),
        (3, "ent_num"),
        (4, "columns"),
        (5, "ent_num"),
        (9, "ent_num"),  # line 9: the record before it spans lines 7-8
        (2, "add.csv:columns"),
        (2, "alt.csv:ent_num"),
        (3, "alt.csv:alt_name"),
    ]
    reasons = {(b.row, b.field): b for b in parsed.bad_rows}
    assert "duplicate id" in reasons[3, "ent_num"].reason and reasons[3, "ent_num"].value == "91001"
    assert reasons[5, "ent_num"].reason == "no id"
    assert reasons[9, "ent_num"].reason == "not a number"
    assert "no entry" in reasons[2, "alt.csv:ent_num"].reason
    assert str(reasons[2, "SDN_Name"]) == "row 2: SDN_Name: no name; got '91002'"


def test_ofac_takes_windows_1252_and_the_end_of_file_mark(tmp_path: Path) -> None:
    row = '90101,"MÜLLER HANDELS GMBH",-0- ,"RUSSIA-EO14024",-0- ,-0- ,-0- ,-0- ,-0- ,-0- ,-0- ,-0- \r\n\x1a'
    (tmp_path / "sdn.csv").write_bytes(row.encode("cp1252"))
    assert [e.name for e in read_list("ofac", tmp_path).entries] == ["MÜLLER HANDELS GMBH"]


def test_ofac_refuses_bytes_neither_utf8_nor_windows_1252(tmp_path: Path) -> None:
    (tmp_path / "sdn.csv").write_bytes(b'90101,"BAD \x81\x8d NAME",-0- ,"SDGT"\r\n')
    with pytest.raises(InvalidInputError, match=r"not UTF-8 or Windows-1252 text: byte 0x81") as caught:
        read_list("ofac", tmp_path)
    assert caught.value.field == "file"


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        ("RUSSIA-EO14024] [UKRAINE-EO13662", ["RUSSIA-EO14024", "UKRAINE-EO13662"]),
        ("[IRAN] [SDGT] [IFSR]", ["IRAN", "SDGT", "IFSR"]),
        ("SDGT", ["SDGT"]),
        ("-0- ", []),
    ],
)
def test_ofac_programmes_are_split_on_their_brackets(value: str, expected: list[str]) -> None:
    assert split_programmes(value) == expected


# --- EU FSF csvFullSanctionsList v1.1 -----------------------------------------------------------------------


def test_eu_groups_the_rows_of_each_entity() -> None:
    parsed = read_list("eu", GOOD["eu"])
    entries = _by_id(parsed)
    assert len(entries) == 6 and parsed.bad_rows == [] and parsed.published == date(2025, 3, 14)
    techno = entries["9001"]
    assert techno.name == "OOO TEKHNOSFERA-URAL"  # the first name alias
    assert techno.aliases == (
        "Obshchestvo s ogranichennoi otvetstvennostyu Tekhnosfera-Ural",
        "ООО «ТЕХНОСФЕРА-УРАЛ»",
    )
    assert (techno.kind, techno.programmes, techno.countries) == ("organization", ("RUS",), ("RU",))
    assert techno.listed_on == date(2024, 2, 23)
    assert techno.addresses == ("ul. Fiktivnaya 7, Yekaterinburg, 620000, RUSSIAN FEDERATION",)
    person = entries["9002"]
    assert (person.kind, person.name, person.aliases) == (
        "person",
        "Olga Petrovna SMIRNITSKAYA",
        ("Ольга Петровна СМИРНИЦКАЯ",),
    )
    assert person.countries == ("RU",) and person.programmes == ("UKR",)  # the citizenship
    assert entries["9003"].aliases == ("ТОО «Алтын Жол Логистикс»", "Altyn Zhol Logistics LLP")
    assert entries["9004"].countries == ("TR",) and entries["9005"].countries == ("AE", "HK")
    assert (entries["9006"].programmes, entries["9006"].countries) == (("BLR",), ("BY",))


def test_eu_broken_rows_are_reported_and_the_rest_loads() -> None:
    parsed = read_list("eu", BROKEN["eu"])
    entries = _by_id(parsed)
    assert sorted(entries) == ["9101", "9103"]
    assert entries["9101"].aliases == ("ООО «ВОСТОК-ТРЕЙД»",)
    assert entries["9103"].listed_on is None  # its date is not one: loaded without it, and said so
    assert _bad(parsed) == [
        (4, "Entity_LogicalId"),
        (5, "NameAlias_WholeName"),
        (6, "Entity_Regulation_PublicationDate"),
        (8, "columns"),
    ]
    reasons = [b.reason for b in parsed.bad_rows]
    assert reasons[0] == "no id" and "no name" in reasons[1] and "yyyy-mm-dd" in reasons[2]
    assert "118 fields" in reasons[3]


def test_eu_reads_a_trimmed_file_whichever_column_holds_the_subject_code(tmp_path: Path) -> None:
    text = (
        "Entity_LogicalId;Entity_SubjectType;Entity_SubjectType_ClassificationCode;NameAlias_WholeName;"
        "Citizenship_CountryIso2Code\n"
        "7;person;P;Ivan Ivanovich PETROV;00\n"
        '8;enterprise;E;"""TOO KARAVAN"" LLP";kz\n'
    )
    (tmp_path / "eu.csv").write_text(text, encoding="utf-8")
    entries = _by_id(read_list("eu", tmp_path / "eu.csv"))
    assert (entries["7"].kind, entries["7"].countries) == ("person", ())  # "00": country unknown
    # quotes that do not wrap the whole name are part of it
    assert (entries["8"].kind, entries["8"].name, entries["8"].countries) == (
        "organization",
        '"TOO KARAVAN" LLP',
        ("KZ",),
    )


def test_eu_refuses_a_file_that_is_not_utf8(tmp_path: Path) -> None:
    text = "Entity_LogicalId;NameAlias_WholeName\n1;GÜNEŞ MAKİNE\n"
    (tmp_path / "eu.csv").write_bytes(text.encode("utf-8").replace("Ü".encode(), b"\xdc"))
    with pytest.raises(InvalidInputError, match=r"eu\.csv is not UTF-8 text"):
        read_list("eu", tmp_path / "eu.csv")


# --- UK: OFSI ConList.csv and the FCDO UK Sanctions List ----------------------------------------------------


def test_uk_conlist_groups_names_and_takes_the_primary_one() -> None:
    parsed = read_list("uk", GOOD["uk"])
    entries = _by_id(parsed)
    assert len(entries) == 7 and parsed.bad_rows == [] and parsed.published == date(2025, 3, 14)
    techno = entries["16001"]  # its AKA row comes first in the file: the primary name still wins
    assert techno.name == "TEKHNOSFERA-URAL LLC"
    assert techno.aliases == ("OOO TEKHNOSFERA-URAL", "ООО «ТЕХНОСФЕРА-УРАЛ»")
    assert (techno.programmes, techno.countries, techno.listed_on) == (
        ("Russia",),
        ("RU",),
        date(2023, 3, 15),
    )
    assert techno.addresses == ("ul. Fiktivnaya 7, Yekaterinburg, 620000, Russia",)
    person = entries["16002"]  # Names 1-5 then Name 6, the surname
    assert (person.kind, person.name) == ("person", "Olga Petrovna SMIRNITSKAYA")
    assert person.aliases == ("Ольга Петровна СМИРНИЦКАЯ", "Olga SMIRNITSKAIA")
    assert entries["16003"].kind == "vessel"
    assert entries["16005"].countries == ("AE", "HK") and entries["16005"].aliases == ("GULF BRIDGE FZE",)
    assert entries["16006"].countries == ("TR",)
    assert (entries["16007"].programmes, entries["16007"].countries) == (("Belarus",), ("BY",))


def test_uk_reads_the_fcdo_uk_sanctions_list_too() -> None:
    parsed = read_list("uk", FIXTURES / "uk_sanctions_list.csv")
    entries = _by_id(parsed)
    assert sorted(entries) == ["RUS9001", "RUS9002", "RUS9003"] and parsed.published == date(2025, 3, 14)
    techno = entries["RUS9001"]
    assert techno.name == "TEKHNOSFERA-URAL LLC"
    assert techno.aliases == ("ООО «ТЕХНОСФЕРА-УРАЛ»", "OOO TEKHNOSFERA-URAL")
    assert techno.programmes == ("The Russia (Sanctions) (EU Exit) Regulations 2019",)
    assert (techno.countries, techno.listed_on) == (("RU",), date(2023, 3, 15))
    assert (entries["RUS9002"].kind, entries["RUS9002"].countries) == ("person", ("RU",))
    assert entries["RUS9003"].kind == "vessel"


def test_uk_broken_rows_are_reported_and_the_rest_loads() -> None:
    parsed = read_list("uk", BROKEN["uk"])
    assert sorted(_by_id(parsed)) == ["16101", "16103"]
    assert _bad(parsed) == [(4, "Group ID"), (5, "Name 6"), (6, "Listed On"), (7, "columns")]
    assert [b.reason for b in parsed.bad_rows][:2] == ["no id", "no name"]
    assert parsed.bad_rows[0].value == "NO GROUP TRADING" and "dd/mm/yyyy" in parsed.bad_rows[2].reason


def test_uk_takes_windows_1252_and_spreadsheet_ids(tmp_path: Path) -> None:
    header = (GOOD["uk"].read_text(encoding="utf-8").splitlines()[1]).split(",")
    row = dict.fromkeys(header, "") | {
        "Name 6": "GÜNTHER HANDEL GMBH",
        "Group ID": "12345.0",
        "Group Type": "Entity",
    }
    text = "Last Updated,01/02/2024\r\n" + ",".join(header) + "\r\n" + ",".join(row.values()) + "\r\n"
    (tmp_path / "ConList.csv").write_bytes(text.encode("cp1252"))
    parsed = read_list("uk", tmp_path / "ConList.csv")
    assert [(e.entry_id, e.name) for e in parsed.entries] == [("12345", "GÜNTHER HANDEL GMBH")]
    assert parsed.published == date(2024, 2, 1)


# --- OpenSanctions targets.simple.csv -----------------------------------------------------------------------


def test_opensanctions_reads_targets() -> None:
    parsed = read_list("opensanctions", GOOD["opensanctions"])
    entries = _by_id(parsed)
    assert len(entries) == 7 and parsed.bad_rows == [] and parsed.published is None
    techno = entries["NK-Fx7TekhnosferaUral01"]
    assert techno.name == "Tekhnosfera-Ural LLC" and techno.aliases == (
        "OOO Tekhnosfera-Ural",
        "ООО «ТЕХНОСФЕРА-УРАЛ»",
    )
    assert (techno.kind, techno.programmes) == ("organization", ("RUS", "RUSSIA-EO14024"))
    assert (techno.countries, techno.listed_on) == (("RU",), date(2023, 5, 19))
    kinds = {e.entry_id[-2:]: e.kind for e in parsed.entries}
    assert kinds == {
        "01": "organization", "02": "person", "03": "vessel", "04": "aircraft", "05": "organization",
        "06": "organization", "07": "organization",
    }  # fmt: skip
    # a sanction whose text holds ";" is one value; its programme is the part before " - "
    assert entries["NK-Fx7GulfBridge000006"].programmes == ("RUS", "RUSSIA-EO14024")
    assert entries["NK-Fx7GulfBridge000006"].countries == ("AE", "HK")
    assert entries["NK-Fx7PriborAvto00007"].countries == ("BY",)  # "suhh" (Soviet Union) is no ISO country


def test_opensanctions_broken_rows_are_reported_and_repeated_ids_merged() -> None:
    parsed = read_list("opensanctions", BROKEN["opensanctions"])
    entries = _by_id(parsed)
    assert sorted(entries) == ["NK-Fx7Mayak0000000103", "NK-Fx7Vostok000000101"]
    merged = entries["NK-Fx7Vostok000000101"]
    assert merged.name == "Vostok-Treid LLC" and merged.aliases == ("ООО «ВОСТОК-ТРЕЙД»", "Vostok Trade OOO")
    assert merged.programmes == ("RUS", "RUSSIA-EO14024") and merged.countries == ("RU", "KZ")
    assert merged.listed_on == date(2023, 1, 10)  # the earlier first_seen
    assert _bad(parsed) == [(3, "id"), (4, "name"), (6, "first_seen"), (7, "columns")]


def test_opensanctions_prefers_program_ids_when_the_export_has_them(tmp_path: Path) -> None:
    text = (
        "id,schema,name,aliases,countries,sanctions,program_ids,first_seen\n"
        '"NK-1","Company","Karavan TOO","","kz","RUS - Regulation 833/2014","EU-RUS;GB-RUS",'
        '"2024-01-02T03:04:05"\n'
    )
    (tmp_path / "targets.simple.csv").write_text(text, encoding="utf-8")
    (entry,) = read_list("opensanctions", tmp_path / "targets.simple.csv").entries
    assert entry.programmes == ("EU-RUS", "GB-RUS") and entry.listed_on == date(2024, 1, 2)


@pytest.mark.parametrize(
    ("cell", "values"),
    [("a;b", ["a", "b"]), ('"x; y";z', ["x; y", "z"]), ('"say ""hi""";b', ['say "hi"', "b"]), ("", [])],
)
def test_opensanctions_multi_values_are_a_line_of_semicolon_csv(cell: str, values: list[str]) -> None:
    assert split_values(cell) == values


# --- what every format shares -------------------------------------------------------------------------------


@pytest.mark.parametrize("fmt", FORMATS)
def test_every_entry_is_clean(fmt: str) -> None:
    for entry in read_list(fmt, GOOD[fmt]).entries:
        assert entry.entry_id and entry.name and entry.name == clean(entry.name)
        assert all(alias == clean(alias) and alias != entry.name for alias in entry.aliases)
        assert all(c in ISO_ALPHA2 for c in entry.countries)


@pytest.mark.parametrize(
    ("value", "code"),
    [
        ("Russia", "RU"), (" RUSSIAN FEDERATION ", "RU"), ("Korea, North", "KP"), ("Turkiye", "TR"),
        ("Türkiye", "TR"), ("Hong Kong", "HK"), ("UAE", "AE"), ("hk", "HK"), ("ua-cri", "UA"),
        ("Burma", "MM"),
        ("undetermined", None), ("suhh", None), ("00", None), ("", None), ("Atlantis", None),
    ],
)  # fmt: skip
def test_country_names_and_codes_become_iso_alpha2(value: str, code: str | None) -> None:
    assert country_code(value) == code


@pytest.mark.parametrize(
    ("value", "cleaned"),
    [
        ('  "ROMASHKA"  ', "ROMASHKA"),
        ("«Ромашка»", "Ромашка"),
        ('ООО "Ромашка"', 'ООО "Ромашка"'),
        ("A\n  B", "A B"),
    ],
)
def test_names_lose_surrounding_whitespace_and_quotes_only(value: str, cleaned: str) -> None:
    assert clean(value) == cleaned


def test_an_unknown_format_names_the_known_ones() -> None:
    with pytest.raises(
        ConfigError, match="unknown sanctions list format 'xml': use one of ofac, eu, uk, opensanctions"
    ):
        read_list("xml", GOOD["eu"])


@pytest.mark.parametrize("fmt", FORMATS)
def test_a_missing_file_is_not_found(fmt: str, tmp_path: Path) -> None:
    with pytest.raises(NotFoundError, match="not found"):
        read_list(fmt, tmp_path / "absent.csv")


@pytest.mark.parametrize("fmt", FORMATS)
@pytest.mark.parametrize("content", [b"", b"\xef\xbb\xbf\r\n  \r\n"])
def test_an_empty_file_is_refused(fmt: str, content: bytes, tmp_path: Path) -> None:
    (tmp_path / "sdn.csv").write_bytes(content)
    with pytest.raises(InvalidInputError, match=r"sdn\.csv is empty") as caught:
        read_list(fmt, tmp_path / "sdn.csv")
    assert caught.value.field == "file"


@pytest.mark.parametrize("fmt", ["eu", "uk", "opensanctions"])
def test_a_header_without_records_is_refused(fmt: str, tmp_path: Path) -> None:
    lines = GOOD[fmt].read_text(encoding="utf-8-sig").splitlines(keepends=True)
    (tmp_path / "list.csv").write_text("".join(lines[: 2 if fmt == "uk" else 1]), encoding="utf-8")
    with pytest.raises(InvalidInputError, match="has a header but no records"):
        read_list(fmt, tmp_path / "list.csv")


def test_a_binary_file_is_refused(tmp_path: Path) -> None:
    (tmp_path / "list.xlsx").write_bytes(b"PK\x03\x04\x14\x00\x00\x00binary")
    with pytest.raises(InvalidInputError, match="NUL bytes"):
        read_list("eu", tmp_path / "list.xlsx")


@pytest.mark.parametrize(
    ("fmt", "path", "field", "looks_like"),
    [
        ("uk", GOOD["eu"], "Group ID", "'eu'"),
        ("eu", GOOD["uk"], "Entity_LogicalId", "'uk'"),
        ("opensanctions", GOOD["eu"], "id", "'eu'"),
        ("eu", GOOD["ofac"] / "sdn.csv", "Entity_LogicalId", "'ofac'"),
        ("ofac", GOOD["opensanctions"], "file", "'opensanctions'"),
        ("uk", GOOD["opensanctions"], "Group ID", "'opensanctions'"),
    ],
)
def test_a_file_of_another_format_names_the_problem(
    fmt: str, path: Path, field: str, looks_like: str
) -> None:
    with pytest.raises(InvalidInputError, match=f"{path.name} is not") as caught:
        read_list(fmt, path)
    assert caught.value.field == field
    assert f"it looks like the {looks_like} format" in caught.value.message
    if field != "file":
        assert "missing column(s)" in caught.value.message
