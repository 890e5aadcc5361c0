"""Names as the matcher compares them: tokens in Latin script, legal forms set aside, generic business
words marked.

The work is rigour's (the name library behind OpenSanctions' matcher): `analyze_names` transliterates any
script to comparable Latin ("Электроника" -> "elektronika"), tags legal forms in many languages and scripts
(ООО, OOO, LLC, "Limited Liability Company", ТОО, GmbH, A.Ş. ...) and marks words that stand for a shared
concept across languages (ORG_CLASS for legal forms, SYMBOL for generic words such as "Trade", "Group",
"Holding", DOMAIN for lines of business such as "Электроника"/"Electronics"). Here each part becomes a
`NameToken` with the key it is compared on: the concept for generic and domain words (so "Электроника"
meets "Electronics"), else its comparable text.
"""

import re
from dataclasses import dataclass
from functools import lru_cache
from typing import Literal

from rigour.names import NamePartTag, NameTypeTag, SymbolCategory, analyze_names

#: generic: a word many unrelated firms share; domain: a line of business ("Technology", "Electronics"),
#: weighed more than a generic word but, like it, never enough for a match on its own; name: a distinctive
#: word.
TokenKind = Literal["name", "domain", "generic"]

_KIND_OF_CATEGORY = {SymbolCategory.SYMBOL: "generic", SymbolCategory.DOMAIN: "domain"}
#: Legal forms of the region that rigour does not know, as written in Latin letters or transliterated,
#: taken as such only first or last in a name: the Kazakh limited liability partnership (ТОО,
#: "товарищество с ограниченной ответственностью", Civil Code of the Republic of Kazakhstan, art. 77),
#: the Kyrgyz limited liability company (ОсОО, "общество с ограниченной ответственностью"), the
#: Belarusian private unitary enterprise (ЧТУП) and the Turkish joint-stock company (A.Ş., anonim şirket).
_EXTRA_LEGAL_FORMS = {"too": "LLP", "osoo": "LLC", "chtup": "PE", "as": "JSC", "npo": "NPO"}
#: Spelled-out Russian legal forms rigour reads as words, in Cyrillic, romanised and translated: the
#: scientific-production association (НПО, "научно-производственное объединение") and the (public) joint
#: stock company (АО/ПАО, "(публичное) акционерное общество" romanised), made their short forms first.
_LONG_FORMS = (
    (re.compile(r"научно[\s-]*производственное\s+объединение", re.I), " НПО "),
    (re.compile(r"nauchno[\s-]*proizvodstvenn\w*\s+ob\w*edineni\w*", re.I), " NPO "),
    (re.compile(r"scientific[\s-]+(?:and[\s-]+)?production\s+association", re.I), " NPO "),
    (re.compile(r"publichno\w*\s+aktsionerno\w*\s+obshchestvo", re.I), " PAO "),
    (re.compile(r"aktsionerno\w*\s+obshchestvo", re.I), " AO "),
)


@dataclass(frozen=True)
class NameToken:
    """One word of a name: `key` is what it is compared on, `text` its comparable Latin form, `phonetic` its
    metaphone code (empty for short words), `folded` its romanisation-blind form (`fold`)."""

    key: str
    text: str
    phonetic: str
    kind: TokenKind
    folded: str = ""


@dataclass(frozen=True)
class AnalysedName:
    """A name as compared: its tokens in order, and the legal forms it carried (e.g. ("LLC",))."""

    original: str
    tokens: tuple[NameToken, ...]
    legal_forms: tuple[str, ...]


#: How the romanisations of Cyrillic names differ in Latin letters: BGN/PCGN ("Balkhash", "Sviyaga"),
#: ISO 9 and scholarly ("Balxaš", "Ščegol"), German (Duden: "Swijaga", "Schtschegol", "Komplektazija"),
#: passport and informal spellings ("Tekh"/"Teh"/"Tex", "Zarnitsa"/"Zarnica"). Folding each to one letter
#: lets words differing only in the system compare equal; rigour transliterates other scripts to Latin but
#: does not reconcile Latin romanisations with each other. Applied in order.
_FOLDS = (
    ("shch", "s"), ("tsch", "c"), ("sch", "s"), ("sh", "s"), ("tch", "c"), ("ch", "c"), ("ts", "c"),
    ("tz", "c"), ("kh", "h"), ("x", "h"), ("zh", "j"), ("w", "v"),
    ("ya", "a"), ("ja", "a"), ("ia", "a"), ("yu", "u"), ("ju", "u"), ("iu", "u"), ("yo", "o"), ("jo", "o"),
    ("ye", "e"), ("je", "e"), ("y", "i"), ("j", "i"), ("z", "s"),
)  # fmt: skip


def fold(text: str) -> str:
    """A comparable word with romanisation differences folded away, doubled letters made single
    ("balkhash", "balxas" -> "balhas"; "sviyaga", "swijaga" -> "sviaga")."""
    for old, new in _FOLDS:
        text = text.replace(old, new)
    return "".join(c for i, c in enumerate(text) if i == 0 or c != text[i - 1])


def _type_tag(kind: str) -> NameTypeTag:
    return NameTypeTag.PER if kind == "person" else NameTypeTag.ENT


@lru_cache(maxsize=200_000)
def analyse(name: str, kind: str = "organization") -> AnalysedName:
    """Tokens of `name` (any script). Persons keep their name parts; anything else is read as an entity,
    so legal forms are recognised whether or not the caller knows it is a company."""
    short = name
    for pattern, form in _LONG_FORMS:
        short = pattern.sub(form, short)
    analysed = analyze_names(_type_tag(kind), [short])
    if not analysed:
        return AnalysedName(name, (), ())
    best = max(analysed, key=lambda n: len(n.parts))
    concept: dict[int, tuple[str, str]] = {}
    legal: list[str] = []
    for span in best.spans:
        category = span.symbol.category
        if category == SymbolCategory.ORG_CLASS:
            legal.append(str(span.symbol.id))
        elif category in _KIND_OF_CATEGORY:
            for part in span.parts:
                concept[part.index] = (f"§{span.symbol.id}", _KIND_OF_CATEGORY[category])
    parts = [p for p in best.parts if p.tag != NamePartTag.LEGAL and p.comparable]
    # the regional forms rigour lacks, taken as such at either end of what is left (ПАО НПО «Звезда»)
    while len(parts) > 1 and parts[0].comparable in _EXTRA_LEGAL_FORMS:
        legal.append(_EXTRA_LEGAL_FORMS[parts.pop(0).comparable])
    while len(parts) > 1 and parts[-1].comparable in _EXTRA_LEGAL_FORMS:
        legal.append(_EXTRA_LEGAL_FORMS[parts.pop().comparable])
    tokens = []
    for part in parts:
        key, kind_of = concept.get(part.index, (part.comparable, "name"))
        if kind_of == "name" and part.comparable.isdigit():
            kind_of = "generic"  # a number alone ("No. 1", "2000") says little about who a firm is
        phonetic = (part.metaphone or "") if len(part.comparable) >= 4 else ""
        folded = fold(part.comparable)
        tokens.append(NameToken(key, part.comparable, phonetic, kind_of, folded))  # type: ignore[arg-type]
    return AnalysedName(name, tuple(tokens), tuple(legal))
