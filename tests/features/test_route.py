"""Route family: Russia/Belarus bound, EAEU, coalition origin of CHPL goods, hubs, countries, usual mode."""

from datetime import date

from roundabout.features import build_features


def test_route_flags(hist, fitted) -> None:
    ru = hist.line(
        "ru", date(2023, 5, 1), direction="export", procedure="10", destination_country="RU",
        counterparty_country="RU", origin_country="US", dispatch_country="KZ", trading_country="AE",
    )  # fmt: skip
    hub = hist.line("hub", date(2023, 5, 1), origin_country="DE", dispatch_country="AE", trading_country="HK")
    plain = hist.line(
        "plain", date(2023, 5, 1), hs_code="6403990000", origin_country="CN", dispatch_country="CN",
        trading_country="CN", destination_country="KZ",
    )  # fmt: skip
    data = hist.data_of([ru, hub, plain])
    f = build_features(data, fitted(data))
    assert f.loc["ru", "destination_ru_by"] == 1 and f.loc["ru", "counterparty_ru_by"] == 1
    assert f.loc["ru", "destination_eaeu"] == 1
    assert f.loc["ru", "coalition_origin_chpl"] == 1  # US-made Tier 1 goods
    assert f.loc["ru", "dispatch_transshipment_hub"] == 0  # dispatched from KZ itself
    assert f.loc["ru", "countries_all_different"] == 1  # US / KZ / AE
    assert f.loc["hub", "dispatch_transshipment_hub"] == 1
    assert f.loc["hub", "countries_all_different"] == 1
    assert f.loc["plain", "destination_ru_by"] == 0 and f.loc["plain", "destination_eaeu"] == 0
    assert f.loc["plain", "coalition_origin_chpl"] == 0
    assert f.loc["plain", "dispatch_transshipment_hub"] == 1  # China is one of the alert's points
    assert f.loc["plain", "countries_all_different"] == 0


def test_unusual_transport_mode_for_the_heading(hist, fitted) -> None:
    rows = [
        hist.line(f"r{i}", date(2023, 5, 1), transport_mode="road", customs_office="55201") for i in range(38)
    ]
    rows += [hist.line("air", date(2023, 5, 2), transport_mode="air", customs_office="55201")]
    rows += [hist.line("rail", date(2023, 5, 2), transport_mode="rail", customs_office="99999")]
    data = hist.data_of(rows)
    f = build_features(data, fitted(data))
    assert f.loc["r0", "transport_mode_share_heading"] == 38 / 40
    assert f.loc["air", "transport_mode_share_heading"] == 1 / 40
    assert f.loc["rail", "customs_office_share_heading"] == 1 / 40
    # categorical levels: road is a fitted level, air (1 line) falls into "other" = 0
    assert f.loc["r0", "transport_mode"] >= 1 and f.loc["air", "transport_mode"] == 0
