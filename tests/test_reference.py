"""Reference data match their sources."""

from collections import Counter

from roundabout.reference import (
    COALITION,
    EAEU,
    ISO_ALPHA2,
    TRANSSHIPMENT_POINTS,
    chpl_table,
    chpl_tier_of,
    chpl_tier_rank,
)


def test_chpl_has_50_codes_in_the_published_tiers() -> None:
    table = chpl_table()
    assert len(table) == 50 and table["hs6"].str.fullmatch(r"\d{6}").all()
    counts = Counter(table["tier"])
    assert [counts[t] for t in ("Tier 1", "Tier 2", "Tier 3.A", "Tier 3.B", "Tier 4.A", "Tier 4.B")] == [
        4,
        5,
        16,
        9,
        11,
        5,
    ]


def test_tier_join_on_the_first_six_digits() -> None:
    assert chpl_tier_of("8542310000") == "Tier 1"
    assert chpl_tier_rank("8542310000") == 1
    assert chpl_tier_rank("0101210000") == 0


def test_country_groups() -> None:
    assert len(COALITION) == 39 and "US" in COALITION and "RU" not in COALITION
    assert {"AM", "BY", "KZ", "KG", "RU"} == EAEU
    assert EAEU <= ISO_ALPHA2 and COALITION <= ISO_ALPHA2


def test_transshipment_points_are_the_18_the_june_2022_alert_names() -> None:
    named = {
        "Armenia": "AM", "Brazil": "BR", "China": "CN", "Georgia": "GE", "India": "IN", "Israel": "IL",
        "Kazakhstan": "KZ", "Kyrgyzstan": "KG", "Mexico": "MX", "Nicaragua": "NI", "Serbia": "RS",
        "Singapore": "SG", "South Africa": "ZA", "Taiwan": "TW", "Tajikistan": "TJ", "Turkey": "TR",
        "United Arab Emirates": "AE", "Uzbekistan": "UZ",
    }  # fmt: skip
    assert len(named) == 18
    assert set(named.values()) | {"HK", "MO"} == TRANSSHIPMENT_POINTS  # China with Hong Kong and Macau
    assert TRANSSHIPMENT_POINTS <= ISO_ALPHA2
