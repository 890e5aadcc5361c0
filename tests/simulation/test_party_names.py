"""The simulated sanctions list's names: fictional entities, declaration variants and hard negatives."""

import re
from datetime import date

import numpy as np
import pytest
from rapidfuzz.distance import OSA

from roundabout.parties.entries import ListEntry
from roundabout.simulation.parties.lexicon import (
    COMMON_WORDS,
    FORMS_BY_COUNTRY,
    LEGAL_TOKENS,
    SYSTEMS,
    distinctive_words,
    has_cyrillic,
    norm,
    romanise,
    split_legal_form,
    tokens,
)
from roundabout.simulation.parties.names import PROGRAMMES, make_listed_entities
from roundabout.simulation.parties.variants import (
    VARIANT_KINDS,
    feasible_kinds,
    front_name,
    lookalike_name,
    near_miss_name,
    pair_set,
    spelling_variant,
)

START, END = date(2022, 3, 1), date(2024, 12, 31)
N_RU, N_THIRD = 150, 100


def _make(seed: int, n_russian: int = N_RU, n_third: int = N_THIRD) -> list[ListEntry]:
    return make_listed_entities(np.random.default_rng(seed), n_russian, n_third, START, END)


@pytest.fixture(scope="module")
def entries() -> list[ListEntry]:
    return _make(11)


def _words(entry: ListEntry) -> frozenset[str]:
    """Distinctive words of all the entry's names."""
    return frozenset().union(*(distinctive_words(n) for n in entry.all_names()))


def _letters(name: str) -> str:
    return re.sub(r"[\W_]", "", name.lower())


def test_romanisation_systems_differ() -> None:
    assert romanise("ООО «Электроника Плюс»", "bgn") == "OOO «Elektronika Plyus»"
    assert romanise("Электроника Плюс", "informal") == "Elektronika Plus"
    assert romanise("Электроника Плюс", "icao") == "Elektronika Plius"
    assert romanise("Енисей", "bgn") == "Yenisey" and romanise("Енисей", "german") == "Jenissej"
    with pytest.raises(ValueError):
        romanise("Север", "klingon")


def test_distinctive_words_leave_out_legal_forms_and_common_words() -> None:
    assert distinctive_words("OOO «Sever Komplekt» Trading LLC") == {"sever", "komplekt"}
    assert distinctive_words("Shenzhen Jintong Electronics Co., Ltd.") == {"jintong"}
    assert not distinctive_words("Global Trade Group Limited")


def test_same_seed_same_output(entries: list[ListEntry]) -> None:
    assert _make(11) == entries
    assert _make(12) != entries
    outputs = []
    for _ in range(2):
        rng = np.random.default_rng(5)
        variants = [spelling_variant(rng, e) for e in entries[:30]]
        fronts = [front_name(rng, e) for e in entries[:10]]
        negatives = [lookalike_name(rng, entries), near_miss_name(rng, entries)]
        outputs.append((variants, fronts, negatives, pair_set(rng, entries, 60, 40)))
    assert outputs[0][:3] == outputs[1][:3]
    assert outputs[0][3].equals(outputs[1][3])


def test_fields(entries: list[ListEntry]) -> None:
    assert [e.entry_id for e in entries] == [f"SIM-{k:06d}" for k in range(1, len(entries) + 1)]
    assert [e.listed_on for e in entries] == sorted(e.listed_on for e in entries)  # type: ignore[type-var]
    assert all(START <= e.listed_on <= END for e in entries)  # type: ignore[operator]
    assert all(e.kind == "organization" and 1 <= len(e.addresses) <= 2 for e in entries)
    assert all(set(e.programmes) <= set(PROGRAMMES) for e in entries)
    assert sum("RUSSIA-EO14024" in e.programmes for e in entries) / len(entries) > 0.9
    assert sum(e.programmes == ("RUSSIA-EO14024",) for e in entries) / len(entries) > 0.6
    countries = [e.countries[0] for e in entries]
    assert countries.count("RU") == N_RU
    assert set(countries) - {"RU"} <= set(FORMS_BY_COUNTRY) and len(set(countries)) >= 6
    with pytest.raises(ValueError):
        make_listed_entities(np.random.default_rng(0), 1, 1, END, START)


def test_names_distinct_even_for_thousands() -> None:
    big = _make(3, 2500, 1500)
    assert len({e.name.lower() for e in big}) == len(big)
    assert len({norm(split_legal_form(e.name, e.countries).core) for e in big}) == len(big)


def test_russian_names_cyrillic_with_latin_aliases(entries: list[ListEntry]) -> None:
    russian = [e for e in entries if e.countries == ("RU",)]
    for e in russian:
        assert has_cyrillic(e.name)
        assert e.name.split()[0] in ("ООО", "АО", "ПАО", "ЗАО", "НПО")
        assert 1 <= len(e.aliases) <= 4
        assert not any(has_cyrillic(a) for a in e.aliases)
    assert any("«" in e.name for e in russian)
    english = ("electronics", "instruments", "technologies", "systems", "components", "supply")
    assert any(set(tokens(a)) & set(english) for e in russian for a in e.aliases)
    assert any(set(tokens(a)) & {"llc", "jsc", "ooo", "ao"} for e in russian for a in e.aliases)


def test_aliases_carry_two_romanisations(entries: list[ListEntry]) -> None:
    both = 0
    for e in (e for e in entries if e.countries == ("RU",)):
        core = split_legal_form(e.name, e.countries).core
        alias_cores = {norm(split_legal_form(a, e.countries).core) for a in e.aliases}
        used = {norm(romanise(core, s)) for s in SYSTEMS} & alias_cores
        both += len(used) >= 2
    assert both >= 0.25 * N_RU


def test_third_country_legal_forms(entries: list[ListEntry]) -> None:
    for e in (e for e in entries if e.countries != ("RU",)):
        assert split_legal_form(e.name, e.countries).form in FORMS_BY_COUNTRY[e.countries[0]]
        assert has_cyrillic(e.name) == (e.countries[0] in ("KZ", "KG"))


@pytest.mark.parametrize("kind", VARIANT_KINDS)
def test_each_variant_kind_differs_from_the_listed_names(entries: list[ListEntry], kind: str) -> None:
    rng = np.random.default_rng(VARIANT_KINDS.index(kind))
    able = [e for e in entries if kind in feasible_kinds(e)]
    assert len(able) >= 20
    new_words = 0
    for e in able[:40]:
        text, got = spelling_variant(rng, e, kind)
        names = e.all_names()
        assert got == kind and text not in names
        if kind != "punctuation_case":
            assert norm(text) not in {norm(n) for n in names}
        if kind == "transliteration":
            assert not has_cyrillic(text)
            new_words += all(distinctive_words(text) != distinctive_words(n) for n in names)
        elif kind == "legal_form":
            assert any(distinctive_words(text) == distinctive_words(n) for n in names)
        elif kind == "word_order":
            assert any(sorted(tokens(text)) == sorted(tokens(n)) for n in names)
        elif kind == "punctuation_case":
            assert any(_letters(text) == _letters(n) for n in names)
        elif kind == "typo":
            base = min(names, key=lambda n: OSA.distance(text, n))
            assert 1 <= OSA.distance(text, base) <= 2
            assert set(tokens(text)) & LEGAL_TOKENS == set(tokens(base)) & LEGAL_TOKENS
        else:
            assert has_cyrillic(text) and distinctive_words(text) == distinctive_words(e.name)
    if kind == "transliteration":
        assert new_words >= 0.8 * min(len(able), 40)


def test_drawn_variants_cover_kinds_and_combinations(entries: list[ListEntry]) -> None:
    rng = np.random.default_rng(2)
    kinds = {spelling_variant(rng, entries[k % len(entries)])[1] for k in range(400)}
    assert {k.partition("+")[0] for k in kinds} == set(VARIANT_KINDS)
    assert any("+" in k for k in kinds)


def test_fronts_echo_a_listed_name_but_are_not_listed(entries: list[ListEntry]) -> None:
    rng = np.random.default_rng(4)
    listed = {norm(n) for e in entries for n in e.all_names()}
    for e in entries[::5]:
        front = front_name(rng, e, entries)
        assert norm(front) not in listed
        core = split_legal_form(e.name, e.countries).core
        echoes = _words(e).union(*(distinctive_words(romanise(core, s)) for s in SYSTEMS))
        assert distinctive_words(front) & echoes
        assert split_legal_form(front).form is not None


def test_lookalikes_share_only_common_words(entries: list[ListEntry]) -> None:
    rng = np.random.default_rng(6)
    vocab = frozenset().union(*map(_words, entries))
    for _ in range(100):
        name = lookalike_name(rng, entries)
        assert not distinctive_words(name) & vocab, name
        assert set(tokens(name)) & COMMON_WORDS, name


def test_near_misses_share_exactly_one_distinctive_word(entries: list[ListEntry]) -> None:
    rng = np.random.default_rng(8)
    for _ in range(100):
        name = near_miss_name(rng, entries)
        assert len(distinctive_words(name)) >= 2, name
        assert max(len(distinctive_words(name) & _words(e)) for e in entries) == 1, name


def test_pair_set_counts_and_balance(entries: list[ListEntry]) -> None:
    pairs = pair_set(np.random.default_rng(9), entries, 300, 200)
    assert list(pairs.columns) == ["query", "query_country", "entry_id", "label", "kind"]
    assert len(pairs) == 500 and pairs["query"].str.casefold().is_unique
    assert (pairs.label == 1).sum() == 300 and (pairs.label == 0).sum() == 200
    neg = pairs[pairs.label == 0]
    assert neg.kind.isin(["lookalike", "near_miss"]).sum() == 100
    assert set(neg.kind) == {"lookalike", "near_miss", "unrelated"}
    assert (neg.entry_id == "").equals(neg.kind == "unrelated")
    pos = pairs[pairs.label == 1]
    base = pos.kind.str.partition("+")[0].value_counts()
    assert set(base.index) == set(VARIANT_KINDS) and base.min() >= 25
    ids = {e.entry_id for e in entries}
    assert set(pairs.entry_id) - {""} <= ids and set(pos.entry_id) <= ids
    assert set(pairs.query_country) <= set(FORMS_BY_COUNTRY) | {"RU", ""}
    owner = {norm(n): e.entry_id for e in entries for n in e.all_names()}
    assert not neg["query"].map(norm).isin(owner.keys()).any()
    assert all(owner.get(norm(q), eid) == eid for q, eid in zip(pos["query"], pos.entry_id, strict=True))
