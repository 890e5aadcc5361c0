"""How listed names show up in customs declarations, and the honest names a matcher must not flag.

A declarant types a counterparty's name from an invoice or a contract: in another romanisation, with the
legal form translated, moved or dropped, words swapped, quotes and case changed, with typos, or in the
Cyrillic original. Procurement networks also trade through fronts whose names echo a listed one (the
front and shell companies of FinCEN & BIS alerts FIN-2022-Alert003 and FIN-2023-Alert004). Honest firms
share generic words ("Trade", "Components", legal forms) with listed ones, and some share one distinctive
word ("Sever Logistik" beside a listed "Sever Komplekt"): the hard negatives of `pair_set`.
"""

from collections.abc import Callable, Iterable
from dataclasses import dataclass

import numpy as np
import pandas as pd

from roundabout.parties.entries import ListEntry
from roundabout.simulation.parties import names as nm
from roundabout.simulation.parties.lexicon import (
    FORMS,
    FORMS_BY_COUNTRY,
    SYSTEMS,
    attach,
    core_words,
    distinctive_words,
    has_cyrillic,
    latin_names,
    norm,
    pick,
    restyle,
    romanise,
    split_legal_form,
    typo,
    typo_spots,
)

VARIANT_KINDS = ("transliteration", "legal_form", "word_order", "punctuation_case", "typo", "cyrillic")
NEGATIVE_KINDS = ("lookalike", "near_miss", "unrelated")
PAIR_COLUMNS = ["query", "query_country", "entry_id", "label", "kind"]


def feasible_kinds(entry: ListEntry) -> tuple[str, ...]:
    """The variant kinds this entry's names allow (no transliteration of a name born in Latin script)."""
    cyr = has_cyrillic(entry.name)
    splits = [split_legal_form(n, entry.countries) for n in latin_names(entry)]
    ok = {
        "transliteration": cyr,
        "legal_form": any(s.form for s in splits),
        "word_order": any(len(core_words(s.core)) > 1 for s in splits),
        "punctuation_case": True,
        "typo": any(typo_spots(n) for n in latin_names(entry)),
        "cyrillic": cyr,
    }
    return tuple(k for k in VARIANT_KINDS if ok[k])


def _transliteration(rng: np.random.Generator, entry: ListEntry) -> str:
    """A romanisation the list does not carry (German-style, anglicised, ...) where there is one."""
    sp = split_legal_form(entry.name, entry.countries)
    listed = {norm(split_legal_form(n, entry.countries).core) for n in latin_names(entry)}
    systems = [s for s in SYSTEMS if norm(romanise(sp.core, s)) not in listed]
    latin = FORMS[sp.form][1] if sp.form else ("",)
    form = latin[0] if systems else pick(rng, latin)  # no new romanisation: at least another form
    return attach(romanise(sp.core, pick(rng, systems or SYSTEMS)), form, rng.random() < 0.5)


def _legal_form(rng: np.random.Generator, entry: ListEntry) -> str:
    """The legal form dropped, moved, or rendered otherwise (OOO -> LLC -> Limited Liability Company)."""
    splits = [split_legal_form(n, entry.countries) for n in latin_names(entry)]
    sp = pick(rng, [s for s in splits if s.form])
    others = [r for r in FORMS[sp.form or "llc"][1] if r.casefold() != sp.rendering.casefold()]
    u = rng.random()
    if u < 0.2:
        return sp.core
    if u < 0.4:
        return attach(sp.core, sp.rendering, not sp.prefix)
    return attach(sp.core, pick(rng, others), rng.random() < 0.3)


def _word_order(rng: np.random.Generator, entry: ListEntry) -> str:
    """Words of the core swapped; a Chinese city moved into brackets, as in "Brand Co. (Shenzhen)"."""
    splits = [split_legal_form(n, entry.countries) for n in latin_names(entry)]
    sp = pick(rng, [s for s in splits if len(core_words(s.core)) > 1])
    words = core_words(sp.core)
    if words[0] in nm.CN_CITIES:
        core = f"{' '.join(words[1:])} ({words[0]})"
    else:
        cut = int(rng.integers(1, len(words)))
        core = " ".join(words[cut:] + words[:cut])
    return attach(core, sp.rendering, sp.prefix)


def _cyrillic(rng: np.random.Generator, entry: ListEntry) -> str:
    """The Cyrillic original with another legal form: full or short, dropped, moved, or a reorganised
    company's new form (ЗАО became АО under the 2014 civil code reform)."""
    sp = split_legal_form(entry.name, entry.countries)
    cyr = FORMS[sp.form][0] if sp.form else ()
    options = [r for r in cyr if r != sp.rendering] + ["", "<after>"]
    reorganised = {"zao": "АО", "ao": "ПАО", "pao": "АО"}.get(sp.form or "")
    options += [reorganised] if reorganised else []
    choice = pick(rng, options)
    core = pick(rng, ("«{}»", '"{}"', "{}")).format(sp.core)
    if choice == "<after>":
        return f"{core} {sp.rendering}"
    return attach(core, choice, True)


_BASE: dict[str, Callable[[np.random.Generator, ListEntry], str]] = {
    "transliteration": _transliteration,
    "legal_form": _legal_form,
    "word_order": _word_order,
    "cyrillic": _cyrillic,
    "typo": lambda rng, e: typo(rng, pick(rng, [n for n in latin_names(e) if typo_spots(n)])) or "",
    "punctuation_case": lambda rng, e: restyle(rng, pick(rng, e.all_names())),
}
_ON_TEXT = {"typo": typo, "punctuation_case": restyle}


def spelling_variant(rng: np.random.Generator, entry: ListEntry, kind: str | None = None) -> tuple[str, str]:
    """A name as a declarant would type it for this listed party, and its kind: one of `VARIANT_KINDS`,
    or two joined by "+" (the second "typo" or "punctuation_case"). `kind` forces one; by default a
    feasible kind is drawn and one time in seven a typo or a case change is added on top."""
    feasible = feasible_kinds(entry)
    names = entry.all_names()
    norms = {norm(n) for n in names}
    for _ in range(50):
        first, _, second = (kind or pick(rng, feasible)).partition("+")
        if first not in feasible:
            raise ValueError(f"{entry.entry_id}: no {first} variant of {entry.name!r}")
        if kind is None and rng.random() < 1 / 7:
            second = pick(rng, [k for k in _ON_TEXT if k != first])
        text = _BASE[first](rng, entry)
        both = _ON_TEXT[second](rng, text) if second else None
        text, second = (both, second) if both else (text, "")  # no word long enough for a typo: one kind
        plain = first == "punctuation_case" and not second
        if text and text not in names and (plain or norm(text) not in norms):
            return text, f"{first}+{second}" if second else first
    raise ValueError(f"{entry.entry_id}: no {kind or 'spelling'} variant of {entry.name!r} found")


def front_name(rng: np.random.Generator, entry: ListEntry, avoid: Iterable[ListEntry] = ()) -> str:
    """An unlisted front echoing a listed name: its distinctive words (perhaps romanised otherwise) with
    another business word, maybe a place word, and a third-country legal form. Pass the whole list as
    `avoid` so that the front is named like no listed party."""
    norms = {norm(n) for e in (entry, *avoid) for n in e.all_names()}
    sp = split_legal_form(entry.name, entry.countries)
    for _ in range(50):
        core = romanise(sp.core, pick(rng, SYSTEMS[:4])) if has_cyrillic(sp.core) else sp.core
        parts = [w for w in core_words(core) if distinctive_words(w)] or core_words(core)
        if rng.random() < 0.3:
            parts.append(pick(rng, nm.FRONT_PLACES))
        name = " ".join([*parts, pick(rng, nm.FRONT_WORDS), pick(rng, nm.FRONT_FORMS)])
        if norm(name) not in norms:
            return name
    raise ValueError(f"no front name for {entry.name!r}")


@dataclass
class _Index:
    """What the negative generators check against: every distinctive word and name of the list."""

    entries: list[ListEntry]
    vocab: frozenset[str]
    names: dict[str, int]
    templates: list[tuple[int, str]]  # Latin names with a common word: models for look-alikes
    pairs: list[tuple[int, str]]  # names with two distinctive words or more: models for near misses


def _index(entries: list[ListEntry]) -> _Index:
    if not entries:
        raise ValueError("no listed entries")
    named = [(i, n) for i, e in enumerate(entries) for n in e.all_names()]
    vocab = frozenset(w for _, n in named for w in distinctive_words(n))
    cores = [(i, n, split_legal_form(n, entries[i].countries).core) for i, n in named]
    templates = [(i, n) for i, n, c in cores if not has_cyrillic(n) and any(map(_plain, core_words(c)))]
    pairs = [(i, n) for i, n, c in cores if sum(bool(distinctive_words(w)) for w in core_words(c)) > 1]
    return _Index(entries, vocab, {norm(n): i for i, n in named}, templates, pairs)


def _plain(word: str) -> bool:
    """A common word or legal form, not an initial: what a look-alike may share with a listed name."""
    return len(word) > 1 and not distinctive_words(word)


def _honest_stem(rng: np.random.Generator, chinese: bool) -> str:
    first, second = nm.HONEST_PINYIN if chinese else (nm.HONEST_FIRST, nm.HONEST_SECOND)
    return pick(rng, first) + pick(rng, second)


def _clean(idx: _Index, name: str, shared: int) -> bool:
    return len(distinctive_words(name) & idx.vocab) == shared and norm(name) not in idx.names


def _lookalike(rng: np.random.Generator, idx: _Index) -> tuple[str, int]:
    for _ in range(200):
        i, model = pick(rng, idx.templates) if idx.templates else (0, "Trade LLC")
        sp = split_legal_form(model, idx.entries[i].countries)
        words = core_words(sp.core)
        spot = next((k for k, w in enumerate(words) if distinctive_words(w)), len(words))
        plain = [w for w in words if _plain(w)]
        stem = _honest_stem(rng, bool(words) and words[0] in nm.CN_CITIES)
        at = spot if all(w in nm.CN_CITIES for w in words[:spot]) else 0
        core = " ".join([*plain[:at], stem, *plain[at:]])
        form = pick(rng, (sp.rendering, sp.rendering, *FORMS[sp.form][1][:2])) if sp.form else "LLC"
        name = attach(core, form, sp.prefix)
        if _clean(idx, name, 0):
            return name, i
    raise ValueError("no look-alike name found")


def _near_miss(rng: np.random.Generator, idx: _Index) -> tuple[str, int]:
    if not idx.pairs:
        raise ValueError("no listed name has two distinctive words")
    for _ in range(200):
        i, model = pick(rng, idx.pairs)
        entry = idx.entries[i]
        sp = split_legal_form(model, entry.countries)
        words = core_words(sp.core)
        spots = [k for k, w in enumerate(words) if distinctive_words(w)]
        keep = spots[0] if rng.random() < 0.8 else pick(rng, spots[1:])
        swap = next(k for k in spots if k != keep)
        if has_cyrillic(words[swap]):
            words[swap] = pick(rng, nm.NEAR_CYRILLIC)
        elif entry.countries[:1] in (("RU",), ("KZ",), ("KG",)):
            words[swap] = romanise(pick(rng, nm.NEAR_CYRILLIC), pick(rng, SYSTEMS[:3]))
        else:
            words[swap] = pick(rng, nm.NEAR_LATIN)
        core = " ".join(w for k, w in enumerate(words) if k in (keep, swap) or k not in spots)
        name = attach(core, sp.rendering, sp.prefix)
        if _clean(idx, name, 1):
            return name, i
    raise ValueError("no near-miss name found")


def _unrelated(rng: np.random.Generator, idx: _Index) -> tuple[str, str]:
    for _ in range(200):
        country = pick(rng, sorted(FORMS_BY_COUNTRY))
        form = pick(rng, FORMS_BY_COUNTRY[country])
        name = f"{_honest_stem(rng, country == 'CN')} {pick(rng, nm.UNRELATED_WORDS)} {FORMS[form][1][0]}"
        if _clean(idx, name, 0):
            return name, country
    raise ValueError("no unrelated name found")


def lookalike_name(rng: np.random.Generator, entries: list[ListEntry]) -> str:
    """An honest firm sharing only common words and legal forms with the list ("Maplewood Components Ltd")."""
    return _lookalike(rng, _index(entries))[0]


def near_miss_name(rng: np.random.Generator, entries: list[ListEntry]) -> str:
    """An honest firm sharing exactly one distinctive word with a listed name, its other word changed."""
    return _near_miss(rng, _index(entries))[0]


def pair_set(
    rng: np.random.Generator, entries: list[ListEntry], n_positive: int, n_negative: int
) -> pd.DataFrame:
    """Labelled name pairs to measure a matcher: variants of listed names (label 1, kinds cycled evenly, one
    in seven with a typo or case change on top) and honest names (label 0): a quarter look-alikes, a
    quarter near misses (both against the entry they imitate), half unrelated (no entry)."""
    idx = _index(entries)
    able = {k: [i for i, e in enumerate(entries) if k in feasible_kinds(e)] for k in VARIANT_KINDS}
    rows: list[tuple[str, str, str, int, str]] = []
    seen: set[str] = set()

    def add(query: str, i: int | None, label: int, kind: str, country: str) -> None:
        entry_id = entries[i].entry_id if i is not None else ""
        owner = idx.names.get(norm(query))
        if query.casefold() not in seen and (owner is None or (label and owner == i)):
            seen.add(query.casefold())
            rows.append((query, country, entry_id, label, kind))

    for attempt in range(50 * (n_positive + 1)):
        if len(rows) >= n_positive:
            break
        kind = VARIANT_KINDS[attempt % len(VARIANT_KINDS)]
        i = pick(rng, able[kind] or range(len(entries)))
        kind = kind if kind in feasible_kinds(entries[i]) else "punctuation_case"
        if rng.random() < 1 / 7:
            kind += "+" + pick(rng, [k for k in _ON_TEXT if k != kind])
        text, label_kind = spelling_variant(rng, entries[i], kind)
        add(text, i, 1, label_kind, entries[i].countries[0] if rng.random() < 0.6 else "")
    hard = n_negative // 2
    quotas = {"near_miss": hard // 2, "lookalike": hard - hard // 2, "unrelated": n_negative - hard}
    for kind, quota in quotas.items():
        target = len(rows) + quota
        for _ in range(50 * (quota + 1)):
            if len(rows) >= target:
                break
            if kind == "unrelated":
                text, country = _unrelated(rng, idx)
                add(text, None, 0, kind, country if rng.random() < 0.6 else "")
                continue
            text, i = _near_miss(rng, idx) if kind == "near_miss" else _lookalike(rng, idx)
            add(text, i, 0, kind, entries[i].countries[0] if rng.random() < 0.6 else "")
    if len(rows) != n_positive + n_negative:
        raise ValueError(f"drew {len(rows)} distinct pairs, asked for {n_positive + n_negative}")
    frame = pd.DataFrame(rows, columns=PAIR_COLUMNS)
    return frame.iloc[rng.permutation(len(frame))].reset_index(drop=True)
