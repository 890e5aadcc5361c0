"""Countries and customs offices of the synthetic world, as integer-indexed tables.

Lines carry countries and offices as small integers while they are generated (vectorised numpy), and the
assembler turns them into ISO codes and office codes at the end. Office codes are 5-digit, in the style of
Kazakhstan's customs posts; the names are for the docs only.
"""

import numpy as np

from roundabout.reference import COALITION, EAEU, ISO_ALPHA2

#: Every country the world uses (ISO 3166-1 alpha-2). Order is part of the seed contract: append only.
COUNTRIES: tuple[str, ...] = (
    "KZ", "RU", "BY", "KG", "AM", "CN", "HK", "TW", "KR", "JP", "US", "DE", "IT", "FR", "NL", "PL",
    "LT", "GB", "CH", "SE", "FI", "CZ", "AT", "ES", "BE", "HU", "SI", "TR", "AE", "UZ", "TJ", "TM",
    "AF", "MN", "IN", "MY", "SG", "VN", "TH", "PH", "IL", "GE", "AZ", "IR", "BR", "AR", "EC", "KE",
    "LK", "BD", "CA",
)  # fmt: skip
C: dict[str, int] = {code: i for i, code in enumerate(COUNTRIES)}
COUNTRY_CODES = np.array(COUNTRIES, dtype=object)

IS_COALITION = np.array([c in COALITION for c in COUNTRIES])
IS_EAEU = np.array([c in EAEU for c in COUNTRIES])
IS_RU_BY = np.array([c in ("RU", "BY") for c in COUNTRIES])

#: Customs offices: (code, kind, name). Kinds: air, post, sea, cn_road, cn_rail, ru_border, south_uz,
#: south_kg, inland.
OFFICES: tuple[tuple[str, str, str], ...] = (
    ("55204", "air", "Almaty airport"),
    ("62202", "air", "Astana airport"),
    ("55301", "post", "Almaty international post"),
    ("51101", "sea", "Aktau sea port"),
    ("58108", "cn_road", "Khorgos"),
    ("58115", "cn_road", "Bakhty"),
    ("50302", "cn_rail", "Dostyk"),
    ("58120", "cn_rail", "Altynkol"),
    ("59106", "ru_border", "Petropavlovsk"),
    ("63103", "ru_border", "Kostanay - Karasu"),
    ("60105", "ru_border", "Kurmangazy"),
    ("61102", "ru_border", "Sharbakty"),
    ("52108", "south_uz", "Zhibek Zholy"),
    ("53104", "south_uz", "Saryagash"),
    ("56103", "south_kg", "Korday"),
    ("56104", "south_kg", "Ak-Zhol"),
    ("55101", "inland", "Almaty"),
    ("62101", "inland", "Astana"),
    ("57101", "inland", "Shymkent"),
    ("47101", "inland", "Karaganda"),
    ("54101", "inland", "Aktobe"),
    ("64101", "inland", "Ust-Kamenogorsk"),
    ("61101", "inland", "Pavlodar"),
    ("60102", "inland", "Atyrau"),
)
OFFICE_CODES = np.array([o[0] for o in OFFICES], dtype=object)
OFFICE_KINDS = np.array([o[1] for o in OFFICES], dtype=object)
#: Inland offices and how much of the inland clearance each gets.
INLAND_WEIGHTS = {"55101": 0.36, "62101": 0.22, "57101": 0.1, "47101": 0.09, "54101": 0.07,
                  "64101": 0.06, "61101": 0.05, "60102": 0.05}  # fmt: skip

assert set(COUNTRIES) <= ISO_ALPHA2, "every simulated country is a valid ISO code"
assert len(set(COUNTRIES)) == len(COUNTRIES)


def idx(codes: list[str] | tuple[str, ...]) -> np.ndarray:
    """Country codes as an index array."""
    return np.array([C[c] for c in codes], dtype=np.int16)


def weights(spec: dict[str, float]) -> tuple[np.ndarray, np.ndarray]:
    """A {country: weight} spec as (index array, probabilities)."""
    keys = list(spec)
    p = np.array([spec[k] for k in keys], dtype=float)
    return idx(keys), p / p.sum()


def offices_of(kind: str) -> np.ndarray:
    """Indices of the offices of one kind."""
    return np.flatnonzero(kind == OFFICE_KINDS)
