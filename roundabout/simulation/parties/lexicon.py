"""Shared vocabulary of the simulated sanctions list: romanisation systems, legal forms and common words.

Russian names reach a customs declaration in whatever romanisation the writer knows: BGN/PCGN on the
US list, the ICAO 9303 scheme of Russian passports (since 2014), loose trade-paper spellings ("Plus" for
Плюс, "h" for х), German-style spellings from EU paperwork ("Wektor"), anglicised ones ("Electronica")
and the scholarly system with diacritics ("Žemčug", "Ilʹmenʹ").
`distinctive_words` is the yardstick of the variants and their tests: a name's words less legal forms and
the common words below (generic trade vocabulary that honest firms share with listed ones).
"""

import re
from collections.abc import Sequence
from functools import lru_cache
from typing import NamedTuple, TypeVar

import numpy as np

from roundabout.parties.entries import ListEntry

T = TypeVar("T")

SYSTEMS = ("bgn", "icao", "informal", "german", "anglicised", "scholarly")

_BGN = {
    "а": "a", "б": "b", "в": "v", "г": "g", "д": "d", "е": "e", "ё": "yo", "ж": "zh", "з": "z", "и": "i",
    "й": "y", "к": "k", "л": "l", "м": "m", "н": "n", "о": "o", "п": "p", "р": "r", "с": "s", "т": "t",
    "у": "u", "ф": "f", "х": "kh", "ц": "ts", "ч": "ch", "ш": "sh", "щ": "shch", "ъ": "", "ы": "y", "ь": "",
    "э": "e", "ю": "yu", "я": "ya", "ә": "a", "ғ": "gh", "қ": "q", "ң": "ng", "ө": "o", "ұ": "u", "ү": "u",
    "һ": "h", "і": "i",
}  # fmt: skip
_KAZ_PLAIN = {"ғ": "g", "қ": "k", "ң": "n"}
_OVERRIDES = {
    "bgn": {},
    "icao": {"ё": "e", "й": "i", "ъ": "ie", "ю": "iu", "я": "ia", **_KAZ_PLAIN},
    "informal": {"ё": "e", "х": "h", "щ": "sch", **_KAZ_PLAIN},
    "german": {"в": "w", "ё": "jo", "ж": "sch", "з": "s", "й": "j", "х": "ch", "ц": "z", "ч": "tsch",
               "ш": "sch", "щ": "schtsch", "ю": "ju", "я": "ja", **_KAZ_PLAIN},
    "anglicised": {"ё": "e", "х": "h", "щ": "sch", **_KAZ_PLAIN},
    "scholarly": {"ё": "ë", "ж": "ž", "й": "j", "х": "x", "ц": "c", "ч": "č", "ш": "š", "щ": "šč", "ь": "ʹ",
                  "э": "è", "ю": "ju", "я": "ja", **_KAZ_PLAIN},
}  # fmt: skip
_TABLES = {system: {**_BGN, **over} for system, over in _OVERRIDES.items()}
_VOWELS = set("аеёиоуыэюяәөұүі")
_SOFTENING = set("еёиыэйюя")
_CYRILLIC = re.compile(r"[\u0400-\u04ff]")


def has_cyrillic(text: str) -> bool:
    return bool(_CYRILLIC.search(text))


def _letter(system: str, low: str, prev: str, nxt: str) -> str:
    """One letter in context: the rules a table alone cannot say (initial е, кс, -лю-, intervocalic с)."""
    rom = _TABLES[system][low]
    if low == "е" and (not prev or prev in _VOWELS or prev in "ъь"):
        return {"bgn": "ye", "german": "je"}.get(system, rom)
    if system == "german" and low == "с" and prev in _VOWELS and nxt in _VOWELS:
        return "ss"
    if system in ("informal", "anglicised"):
        if low == "ю" and prev and prev not in _VOWELS and prev not in "ъь":
            return "u"
        if low == "к" and nxt == "с":
            return "x"
        if low == "с" and prev == "к":
            return ""
        if system == "anglicised" and low == "к" and nxt not in _SOFTENING:
            return "c"
    return rom


def _romanise_word(word: str, system: str) -> str:
    if sum(c.isupper() for c in word) > 1:  # an abbreviation (ООО, ОсОО): letter by letter
        system = "bgn"
    out = []
    for i, ch in enumerate(word):
        low = ch.lower()
        if low not in _BGN:
            out.append(ch)
            continue
        prev = word[i - 1].lower() if i else ""
        nxt = word[i + 1].lower() if i + 1 < len(word) else ""
        rom = _letter(system, low, prev, nxt)
        out.append(rom[:1].upper() + rom[1:] if ch.isupper() else rom)
    text = "".join(out)
    return text.upper() if len(word) > 1 and word.isupper() else text


def romanise(text: str, system: str = "bgn") -> str:
    """Cyrillic (Russian and Kazakh letters) to Latin in one of `SYSTEMS`; other characters pass through.
    Words written in capitals (ООО, НПО) stay in capitals."""
    if system not in _TABLES:
        raise ValueError(f"unknown romanisation system {system!r}")
    return re.sub(r"[^\W\d_]+", lambda m: _romanise_word(m.group(), system), text)


#: Legal forms: key -> (Cyrillic renderings, Latin renderings). The first Latin rendering is the usual
#: abbreviation, the second the English one a translation would use.
FORMS: dict[str, tuple[tuple[str, ...], tuple[str, ...]]] = {
    "ooo": (("ООО", "Общество с ограниченной ответственностью"),
            ("OOO", "LLC", "Limited Liability Company", "Obshchestvo s Ogranichennoy Otvetstvennostyu")),
    "ao": (("АО", "Акционерное общество"), ("AO", "JSC", "Joint Stock Company", "Aktsionernoye Obshchestvo")),
    "pao": (("ПАО", "Публичное акционерное общество"), ("PAO", "PJSC", "Public Joint Stock Company")),
    "zao": (("ЗАО", "Закрытое акционерное общество"), ("ZAO", "CJSC", "Closed Joint Stock Company")),
    "npo": (("НПО", "Научно-производственное объединение"),
            ("NPO", "Scientific Production Association", "Nauchno-Proizvodstvennoye Obyedineniye")),
    "too": (("ТОО", "Товарищество с ограниченной ответственностью"),
            ("TOO", "LLP", "Limited Liability Partnership")),
    "osoo": (("ОсОО",), ("OsOO", "LLC", "Limited Liability Company")),
    "fze": ((), ("FZE", "F.Z.E.", "Free Zone Establishment")),
    "fzco": ((), ("FZCO", "FZ-CO", "Free Zone Company")),
    "llc": ((), ("LLC", "L.L.C.", "Limited Liability Company")),
    "ltd": ((), ("Limited", "Ltd", "Ltd.", "Company Limited")),
    "coltd": ((), ("Co., Ltd.", "Co. Ltd", "Co., Limited", "Company Limited")),
    "as": ((), ("A.Ş.", "AS", "A.S.", "Anonim Şirketi")),
    "sti": ((), ("Ltd. Şti.", "Ltd Sti", "Limited Şirketi")),
    "doo": (("ДОО",), ("DOO", "d.o.o.", "D.O.O.")),
    "gmbh": ((), ("GmbH", "GMBH", "Gesellschaft mit beschränkter Haftung")),
    "mchj": ((), ("MChJ", "LLC", "Mas'uliyati Cheklangan Jamiyat")),
}  # fmt: skip
FORMS_BY_COUNTRY = {
    "RU": ("ooo", "ao", "pao", "zao", "npo"), "KZ": ("too",), "KG": ("osoo",), "AE": ("fze", "fzco", "llc"),
    "HK": ("ltd",), "CN": ("coltd",), "TR": ("as", "sti"), "AM": ("llc",), "RS": ("doo",), "UZ": ("mchj",),
    "DE": ("gmbh",),
}  # fmt: skip

_COMMON = """
trade trading general technology technologies tech group components component supply supplies
engineering systems system global international industrial industries industry solutions logistics
electronics electronic microelectronics microsystems instruments equipment machinery devices materials
automation telecom radio navigation special precision avionics optics import export holding holdings
services service partners enterprises corporation corp inc development resources commercial distribution
parts and of the foreign handels dış dis ticaret sanayi ve san tic dubai sharjah ajman hong kong hk
shenzhen guangzhou dongguan ningbo xiamen yiwu istanbul ankara izmir almaty astana bishkek yerevan
tashkent belgrade berlin hamburg asia eurasia europe middle east
"""
#: Generic trade vocabulary (and place words) that honest and listed firms alike put in their names.
COMMON_WORDS = frozenset(_COMMON.split())
_QUOTES = " \t,\"'«»“”„"


def tokens(name: str) -> list[str]:
    """Lower-cased words of a name, any script; punctuation splits words."""
    return re.findall(r"[^\W_]+", name.lower())


LEGAL_TOKENS = frozenset(t for cyr, lat in FORMS.values() for form in cyr + lat for t in tokens(form))
_PLAIN = LEGAL_TOKENS | COMMON_WORDS


@lru_cache(maxsize=65536)
def distinctive_words(name: str) -> frozenset[str]:
    """Words of a name that are neither legal forms nor common words (nor single letters or numbers)."""
    return frozenset(t for t in tokens(name) if len(t) > 1 and not t.isdigit() and t not in _PLAIN)


class Split(NamedTuple):
    """A name cut into its core (quotes stripped) and its legal form, as found."""

    core: str
    form: str | None
    rendering: str
    prefix: bool


def split_legal_form(name: str, countries: tuple[str, ...] = ()) -> Split:
    """Find the legal form at the start or end of a name, looking at the forms of its countries first."""
    keys = [k for c in countries for k in FORMS_BY_COUNTRY.get(c, ())] or list(FORMS)
    keys += [k for k in FORMS if k not in keys]
    text = name.strip()
    folded = text.casefold()
    for key in keys:
        cyr, lat = FORMS[key]
        for rendering in sorted(cyr + lat, key=len, reverse=True):
            r = rendering.casefold()
            if folded.startswith(r) and text[len(r) : len(r) + 1] in (" ", "«", '"'):
                return Split(text[len(r) :].strip(_QUOTES), key, text[: len(r)], True)
            if folded.endswith(r) and text[-len(r) - 1 : -len(r)] in (" ", ","):
                return Split(text[: -len(r)].strip(_QUOTES), key, text[-len(r) :], False)
    return Split(text.strip(_QUOTES), None, "", False)


def norm(name: str) -> str:
    """A name's words joined by single spaces: what two spellings differing only in punctuation share."""
    return " ".join(tokens(name))


def core_words(core: str) -> list[str]:
    """Words of a core name; a hyphen separates words too."""
    return [w for w in re.split(r"[\s-]+", core) if w]


def latin_names(entry: ListEntry) -> list[str]:
    return [n for n in entry.all_names() if not has_cyrillic(n)]


def attach(core: str, rendering: str, prefix: bool) -> str:
    """A core with a legal form before or after it (none when `rendering` is empty)."""
    if not rendering:
        return core
    return f"{rendering} {core}" if prefix else f"{core} {rendering}"


def pick(rng: np.random.Generator, seq: Sequence[T]) -> T:
    """One element, uniformly (a Python object, not a numpy scalar)."""
    return seq[int(rng.integers(len(seq)))]


_KEYBOARDS = ("qwertyuiop", "asdfghjkl", "zxcvbnm", "йцукенгшщзхъ", "фывапролджэ", "ячсмитьбю")
_NEIGHBOURS = {
    row[i]: row[max(i - 1, 0) : i] + row[i + 1 : i + 2] for row in _KEYBOARDS for i in range(len(row))
}


def typo_spots(text: str) -> list[int]:
    """Positions of the space-separated words a typo may hit: five letters or more, not a legal form."""
    words = text.split(" ")
    return [
        i for i, w in enumerate(words) if len(re.sub(r"\W", "", w)) >= 5 and set(tokens(w)) - LEGAL_TOKENS
    ]


def typo(rng: np.random.Generator, text: str) -> str | None:
    """One or two edits (swap, drop, double, neighbouring key) in a word of five letters or more."""
    spots = typo_spots(text)
    if not spots:
        return None
    words = text.split(" ")
    i = pick(rng, spots)
    word = words[i]
    for _ in range(1 + int(rng.random() < 0.3)):
        letters = [k for k, ch in enumerate(word) if ch.isalpha()]
        k = pick(rng, letters[1:])
        op = pick(rng, ("swap", "drop", "double", "key"))
        if op == "swap" and word[k - 1].isalpha() and word[k - 1] != word[k]:
            word = word[: k - 1] + word[k] + word[k - 1] + word[k + 1 :]
        elif op == "drop":
            word = word[:k] + word[k + 1 :]
        elif op == "key" and word[k].lower() in _NEIGHBOURS:
            key = pick(rng, _NEIGHBOURS[word[k].lower()])
            word = word[:k] + (key.upper() if word[k].isupper() else key) + word[k + 1 :]
        else:
            word = word[: k + 1] + word[k:]
    words[i] = word
    return " ".join(words)


def restyle(rng: np.random.Generator, text: str) -> str:
    """Quotes, guillemets, hyphens, dots and case changed; the letters stay."""
    for _ in range(20):
        out = text
        for op in rng.choice(5, size=1 + int(rng.random() < 0.4), replace=False):
            sp = split_legal_form(out)
            if op == 0:
                out = pick(rng, (out.upper(), out.lower(), out.title()))
            elif op == 1 and re.search('[«»"]', out):
                out = re.sub('[«»"]', pick(rng, ('"', "")), out).strip()
            elif op == 1 and sp.form:
                out = attach(f'"{sp.core}"', sp.rendering, sp.prefix)
            elif op == 2 and "-" in sp.core:
                out = out.replace(sp.core, sp.core.replace("-", pick(rng, (" ", ""))), 1)
            elif op == 2 and " " in sp.core:
                out = out.replace(sp.core, sp.core.replace(" ", "-", 1), 1)
            elif op == 3 and sp.rendering.isalpha() and sp.rendering.isupper():
                out = attach(sp.core, ".".join(sp.rendering) + ".", sp.prefix)
            elif op == 4 and re.search("[.,]", out):
                out = re.sub(r"[.,]", "", out)
        if out != text:
            return out
    return text.swapcase()
