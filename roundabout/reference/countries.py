"""Country groups used by the features, the simulator and validation (ISO 3166-1 alpha-2).

Sources: EAEU treaty members; the 39 Global Export Control Coalition countries and the BIS list of
transshipment points named in the FinCEN/BIS alerts (June 2022, May 2023) and BIS guidance (Oct 2024);
ISO codes from the `pycountry` package (ISO 3166-1), plus XK (Kosovo), which customs systems use.
"""

import pycountry

#: Eurasian Economic Union: no customs checks between these.
EAEU: frozenset[str] = frozenset({"AM", "BY", "KZ", "KG", "RU"})

#: Russia and Belarus: the sanctioned destinations.
RUSSIA_BELARUS: frozenset[str] = frozenset({"RU", "BY"})

_EU27 = {
    "AT", "BE", "BG", "HR", "CY", "CZ", "DK", "EE", "FI", "FR", "DE", "GR", "HU", "IE",
    "IT", "LV", "LT", "LU", "MT", "NL", "PL", "PT", "RO", "SK", "SI", "ES", "SE",
}  # fmt: skip

#: The 39 Global Export Control Coalition countries: EU 27 plus 12 partners.
COALITION: frozenset[str] = frozenset(
    _EU27 | {"IS", "JP", "LI", "NO", "KR", "CH", "TW", "US", "GB", "CA", "AU", "NZ"}
)

#: Transshipment points named by BIS (Armenia, China incl. Hong Kong and Macau, Georgia, Kazakhstan,
#: Kyrgyzstan, Tajikistan, Turkey, UAE, Uzbekistan).
TRANSSHIPMENT_POINTS: frozenset[str] = frozenset(
    {"AM", "CN", "HK", "MO", "GE", "KZ", "KG", "TJ", "TR", "AE", "UZ"}
)

#: Every valid ISO 3166-1 alpha-2 code.
ISO_ALPHA2: frozenset[str] = frozenset({c.alpha_2 for c in pycountry.countries} | {"XK"})

assert len(COALITION) == 39, "the coalition has 39 members"
