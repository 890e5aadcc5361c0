"""Screening names: scripts, transliterations, legal forms, word order and typos match; common words alone
never do; country agreement raises a score; a match says why; blocking keeps the comparisons few."""

from datetime import date

import numpy as np
import pytest

from roundabout.parties.entries import ListEntry
from roundabout.parties.index import CANDIDATES, ListVersion, LoadedList, ScreeningIndex
from roundabout.parties.names import analyse
from roundabout.simulation.parties.names import make_listed_entities

ENTRIES = [
    ListEntry(
        "E1",
        "ООО «Электроника Плюс»",
        ("OOO Elektronika Plyus", "Electronics Plus LLC"),
        programmes=("RUSSIA-EO14024",),
        countries=("RU",),
        listed_on=date(2022, 6, 28),
    ),
    ListEntry("E2", "Orion Trade Components FZE", (), programmes=("RUSSIA-EO14024",), countries=("AE",)),
    ListEntry(
        "E3", "ТОО «Каспий Тех»", ("TOO Kaspiy Tekh",), programmes=("RUSSIA-EO14071",), countries=("KZ",)
    ),
    ListEntry(
        "E4", "АО Север Комплект", ("AO Sever Komplekt",), programmes=("BELARUS-EO14038",), countries=("RU",)
    ),
    ListEntry("E5", "Global Technology Group Ltd", (), programmes=("RUSSIA-EO14024",), countries=("HK",)),
]


@pytest.fixture(scope="module")
def index() -> ScreeningIndex:
    return ScreeningIndex.build([LoadedList(ListVersion("ofac", 3), ENTRIES)])


@pytest.mark.parametrize(
    "name",
    [
        "ООО «Электроника Плюс»",  # the listed name
        "OOO Elektronika Plyus",  # an alias
        "Elektronika Plus LLC",  # another romanisation, legal form translated
        "ELEKTRONIKA PLYUS OOO",  # legal form moved, upper case
        "Elektronika Plyus Limited Liability Company",  # legal form spelled out
        "Плюс Электроника",  # word order, no legal form
        "Elektornika Plyus",  # a typo (transposition)
        "Электроника-Плюс, ООО",  # punctuation
    ],
)
def test_spellings_of_a_listed_name_match_it(index: ScreeningIndex, name: str) -> None:
    found = index.match(name)
    assert found and found[0].entry_id == "E1", name
    assert found[0].score >= index.threshold


@pytest.mark.parametrize("name", ["ТОО Каспий Тех", "Kaspiy Tekh LLP", "T.O.O. Kaspii Tekh"])
def test_kazakh_legal_forms_are_set_aside(index: ScreeningIndex, name: str) -> None:
    assert index.match(name)[0].entry_id == "E3"
    assert "LLP" in analyse(name).legal_forms


@pytest.mark.parametrize(
    "name",
    [
        "Global Trade Components LLC",  # common words of E2 only
        "Technology Group International Ltd",  # common words of E5, not all of them
        "Trade Group LLC",
        "Sever Logistik",  # one word of E4, another distinctive one
        "Elektronika Servis",  # one word of E1
        "Plyus",  # a fragment
    ],
)
def test_common_or_partial_overlap_is_no_match(index: ScreeningIndex, name: str) -> None:
    assert index.match(name) == [], name


def test_a_name_of_common_words_only_matches_only_as_a_whole(index: ScreeningIndex) -> None:
    """E5's name is all common words: the whole name matches, a part of it never does."""
    assert index.match("Global Technology Group Ltd")[0].entry_id == "E5"
    assert index.match("Group Global Technology LLC")[0].entry_id == "E5"
    for partial in ("Global Technology Trade Ltd", "Technology Group", "Global Technology Group Holding"):
        assert index.match(partial, min_score=0.0) == [], partial


def test_country_agreement_raises_the_score_and_is_reported(index: ScreeningIndex) -> None:
    plain = index.match("Elektronika Plus", min_score=0.0)[0]
    agree = index.match("Elektronika Plus", "RU", min_score=0.0)[0]
    other = index.match("Elektronika Plus", "DE", min_score=0.0)[0]
    assert agree.score > plain.score and agree.country_agrees is True
    assert other.score == plain.score and other.country_agrees is False and plain.country_agrees is None


def test_a_match_says_why(index: ScreeningIndex) -> None:
    m = index.match("Elektronika Plus LLC", "RU")[0]
    assert (m.list_name, m.list_version, m.entry_id) == ("ofac", 3, "E1")
    assert m.matched_name == "OOO Elektronika Plyus" and m.entry_name == "ООО «Электроника Плюс»"
    words = {(q, w) for q, w, _ in m.matched_words}
    assert words == {("elektronika", "elektronika"), ("plus", "plyus")}
    assert m.programmes == ("RUSSIA-EO14024",) and m.programme_family == "russia"
    shown = m.as_dict()
    assert shown["matched_words"][0]["similarity"] <= 1.0 and shown["listed_on"] == "2022-06-28"


def test_entries_listed_after_a_day_are_left_out_as_of_that_day(index: ScreeningIndex) -> None:
    assert index.match("Elektronika Plus", as_of=date(2022, 6, 27)) == []
    assert index.match("Elektronika Plus", as_of=date(2022, 6, 28))[0].entry_id == "E1"
    later = index.match("Elektronika Plus", as_of=date(2023, 1, 1))
    assert later[0].entry_id == "E1"  # the matches of a name are kept; the day filters them
    assert index.match("Elektronika Plus", as_of=date(2022, 1, 1)) == []


def test_several_lists_at_once_and_one_match_per_entry() -> None:
    eu = ListEntry("EU.1", "Orion Trade Components FZE", ("Orion Trade Components",), countries=("AE",))
    both = ScreeningIndex.build(
        [LoadedList(ListVersion("ofac", 3), ENTRIES), LoadedList(ListVersion("eu", 7), [eu])]
    )
    found = both.match("Orion Trade Components FZE", limit=5)
    assert {(m.list_name, m.entry_id) for m in found} == {("ofac", "E2"), ("eu", "EU.1")}


def test_blocking_compares_a_name_with_a_few_candidates_of_a_big_list() -> None:
    entries = make_listed_entities(np.random.default_rng(5), 3000, 2000, date(2022, 3, 1), date(2024, 1, 1))
    index = ScreeningIndex.build([LoadedList(ListVersion("big", 1), entries)])
    assert index.size[1] > 10_000
    target = entries[1234]
    assert index.match(target.aliases[0] if target.aliases else target.name)[0].entry_id == target.entry_id
    for name in (target.name, "Orion Trade Components", "Zzyzx Holding"):
        assert len(index.candidates(name)) <= CANDIDATES


def test_empty_or_unreadable_names_match_nothing(index: ScreeningIndex) -> None:
    for name in ("", "   ", "---", "«»", "LLC", "ООО"):
        assert index.match(name) == [], repr(name)
