"""Country groups used by the features, the simulator and validation (ISO 3166-1 alpha-2).

Sources: the members of the Treaty on the Eurasian Economic Union (29 May 2014, Armenia and Kyrgyzstan
acceding in 2015); the 39 countries of the Global Export Control Coalition (BIS); the common transshipment
points named by the FinCEN/BIS joint alert FIN-2022-Alert003 (28 June 2022); ISO codes from the `pycountry`
package (ISO 3166-1), plus XK (Kosovo), which customs systems use.
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

#: The common transshipment points "through which restricted or controlled exports have been known to pass
#: before reaching destinations in Russia or Belarus", all 18 the FinCEN/BIS joint alert FIN-2022-Alert003
#: (28 June 2022, "FinCEN and the U.S. Department of Commerce's Bureau of Industry and Security Urge
#: Increased Vigilance for Potential Russian and Belarusian Export Control Evasion Attempts") names:
#: Armenia, Brazil, China, Georgia, India, Israel, Kazakhstan, Kyrgyzstan, Mexico, Nicaragua, Serbia,
#: Singapore, South Africa, Taiwan, Tajikistan, Turkey, the United Arab Emirates and Uzbekistan. The alert
#: says the list is not exhaustive. China includes Hong Kong and Macau, which customs data code apart
#: (ISO HK, MO): BIS has treated Hong Kong as China under the EAR since December 2020; Macau, China's other
#: special administrative region, is counted with it by this project, not by the alert.
TRANSSHIPMENT_POINTS: frozenset[str] = frozenset(
    {"AM", "BR", "CN", "HK", "MO", "GE", "IN", "IL", "KZ", "KG", "MX", "NI", "RS", "SG", "ZA", "TW", "TJ",
     "TR", "AE", "UZ"}
)  # fmt: skip

#: Every valid ISO 3166-1 alpha-2 code.
ISO_ALPHA2: frozenset[str] = frozenset({c.alpha_2 for c in pycountry.countries} | {"XK"})

assert len(COALITION) == 39, "the coalition has 39 members"
