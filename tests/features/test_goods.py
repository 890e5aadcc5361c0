"""Goods family: CHPL tier on the first six digits, Tier 1-2 flag, chipmaker brands in the description."""

from datetime import date

from roundabout.features import build_features
from roundabout.features.goods import brand_of


def test_chpl_tier_and_brand(hist, fitted) -> None:
    data = hist.data_of(
        [
            hist.line("ic", date(2023, 1, 2), hs_code="8542310000", description="MCU by Texas Instruments"),
            hist.line("shoes", date(2023, 1, 2), hs_code="6403990000", description="leather shoes"),
            hist.line("odd", date(2023, 1, 2), hs_code="6403990000", description="Xilinx FPGA"),
            hist.line("bear", date(2023, 1, 2), hs_code="8482100000", description=None),
        ]
    )
    f = build_features(data, fitted(data))
    assert f.loc["ic", "chpl_tier_rank"] == 1 and f.loc["ic", "chpl_tier12"] == 1
    assert f.loc["shoes", "chpl_tier_rank"] == 0 and f.loc["shoes", "chpl_tier12"] == 0
    assert f.loc["bear", "chpl_tier_rank"] == 4  # 848210 is Tier 3.B
    assert f.loc["ic", "chipmaker_brand"] == 1 and f.loc["ic", "brand_code_mismatch"] == 0
    assert f.loc["odd", "chipmaker_brand"] == 1 and f.loc["odd", "brand_code_mismatch"] == 1
    assert f.loc["shoes", "chipmaker_brand"] == 0
    assert f["chipmaker_brand"].isna()["bear"]  # no description: unknown, not "no brand"
    assert f.loc["ic", "hs_heading"] == 8542


def test_brand_is_matched_as_a_whole_word() -> None:
    assert brand_of("Altera Cyclone FPGA") == "Intel"
    assert brand_of("MAXIM integrated DAC") == "Analog Devices"
    assert brand_of("maximum load bearings") is None
    assert brand_of("intelligent lighting") is None
