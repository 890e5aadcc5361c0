"""Reasons for oddness name the odd trait with the line's own figures and what is usual for its goods."""

from datetime import date, timedelta

from roundabout.features import FeatureArtifacts
from roundabout.features.oddities import amount, describe_oddity
from tests.support.histories import data_of, line

START = date(2023, 1, 2)


def _artifacts() -> FeatureArtifacts:
    rows = [
        line(
            f"c{i}",
            START + timedelta(days=i),
            hs_code="7214200000",
            value_usd=600.0 + 10 * (i % 7),
            net_mass_kg=1000.0,
            gross_mass_kg=1050.0 + 5 * (i % 5),
            quantity=1000.0,
            origin_country="RU" if i % 4 else "CN",
        )
        for i in range(60)
    ]
    return FeatureArtifacts().fit(data_of(rows).lines)


def _later(**fields) -> dict:
    base = {"hs_code": "7214200000", "value_usd": 620.0, "net_mass_kg": 1000.0, "quantity": 1000.0}
    return line("x", START + timedelta(days=200), **{**base, **fields})


def test_a_value_never_seen_with_the_code_is_named_with_the_counts() -> None:
    text = describe_oddity(_artifacts(), _later(origin_country="AU"), "origin_surprise")
    assert text == "Origin AU was never seen on import lines of HS 721420 (60 seen in training)"
    text = describe_oddity(_artifacts(), _later(origin_country="CN"), "origin_surprise")
    assert text == "Origin CN is rare on import lines of HS 721420: 15 of 60 seen in training"
    text = describe_oddity(_artifacts(), _later(transport_mode="post"), "mode_surprise")
    assert text.startswith("Transport mode post was never seen on import lines of HS 721420")


def test_a_ratio_is_given_with_the_usual_range_and_where_it_falls() -> None:
    text = describe_oddity(_artifacts(), _later(gross_mass_kg=6000.0), "gross_net_z")
    assert text.startswith("Gross-to-net mass ratio 6.00 against a usual 1.0")
    assert text.endswith("for import lines of HS 721420 (above all 60 seen)")


def test_a_unit_value_is_given_in_dollars_against_the_usual_range() -> None:
    text = describe_oddity(_artifacts(), _later(value_usd=415_000.0, origin_country="RU"), "uv_kg_z")
    assert text.startswith("Value per kg USD 415 against a usual USD 0.")
    assert "for lines of HS 721420 from RU" in text and "times the median" in text
    low = describe_oddity(_artifacts(), _later(value_usd=2.0, origin_country="RU"), "uv_kg_z")
    assert "1/" in low and "of the median" in low


def test_no_text_without_the_figures_it_needs() -> None:
    artifacts = _artifacts()
    assert describe_oddity(artifacts, _later(origin_country=None), "origin_surprise") is None
    assert describe_oddity(artifacts, _later(quantity=None), "qty_per_kg_z") is None
    assert describe_oddity(artifacts, None, "uv_kg_z") is None


def test_amounts_have_the_digits_an_officer_needs() -> None:
    assert [amount(v) for v in (415_000.0, 2.4, 0.01234)] == ["415,000", "2.40", "0.0123"]
