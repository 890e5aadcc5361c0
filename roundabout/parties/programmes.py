"""Programme families: the sanctions regimes an entry is listed under, folded into the few families a risk
model can learn from. Publishers spell them differently (OFAC `RUSSIA-EO14024`, `UKRAINE-EO13662`; the EU
`RUS`, `UKR`, `BLR`; the UK `Russia`, `Belarus`; OpenSanctions dataset names such as `us_ofac_sdn`), so
the family is read from the words in the code.
"""

import re

#: Families in order of precedence (an entry listed under Russia and Iran programmes counts as "russia");
#: none of these: "other".
_PATTERNS = (
    (
        "russia",
        re.compile(r"RUSSIA|\bRUS\b|UKRAINE|\bUKR\b|CRIMEA|\bRU\b|EO14024|EO14071|EO14068|EO13660", re.I),
    ),
    ("belarus", re.compile(r"BELARUS|\bBLR\b|\bBY\b|EO14038", re.I)),
)


def programme_family(programmes: tuple[str, ...] | list[str]) -> str:
    """The family of the programmes ("russia", "belarus" or "other"); "other" also when none is given."""
    text = " ".join(programmes)
    for family, pattern in _PATTERNS:
        if pattern.search(text):
            return family
    return "other"
