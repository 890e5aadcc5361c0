"""The rules baseline flags what customs' rules flag and ranks the sanctions rule first."""

import numpy as np
import pandas as pd

from roundabout.training.baseline import RulesBaseline


def _lines() -> pd.DataFrame:
    rows = [
        # id, kind, direction, hs_code, dest, value, mass, trader (BIN YYMM), date
        ("chips_to_ru", "SNT", "export", "8542310000", "RU", 1_000.0, 1.0, "150140000001", "2024-05-01"),
        ("chips_to_kg", "SNT", "export", "8542310000", "KG", 1_000.0, 1.0, "150140000001", "2024-05-01"),
        ("tier3_to_by", "SNT", "export", "8471500000", "BY", 1_000.0, 1.0, "150140000001", "2024-05-01"),
        ("big_import", "DT", "import", "7308900000", "KZ", 500_000.0, 1000.0, "150140000002", "2024-05-01"),
        ("cheap_import", "DT", "import", "7308900000", "KZ", 10.0, 1000.0, "150140000002", "2024-05-01"),
        ("new_trader", "DT", "import", "7308900000", "KZ", 5_000.0, 1000.0, "240340000003", "2024-05-01"),
        ("plain", "DT", "import", "7308900000", "KZ", 5_000.0, 1000.0, "150140000002", "2024-05-01"),
    ]
    frame = pd.DataFrame(
        rows,
        columns=["line_id", "document_kind", "direction", "hs_code", "destination_country", "value_usd",
                 "net_mass_kg", "trader_id", "date"],
    )  # fmt: skip
    frame["date"] = pd.to_datetime(frame["date"])
    return frame


def test_rules_hit_the_right_lines() -> None:
    lines = _lines()
    baseline = RulesBaseline().fit(lines)
    hits = baseline.rules(lines).set_index(lines["line_id"])
    assert hits.loc["chips_to_ru", "sanctions"] and not hits.loc["chips_to_kg", "sanctions"]
    assert not hits.loc["tier3_to_by", "sanctions"]  # tier 3 is outside the rule
    assert hits.loc["big_import", "high_value"]
    assert hits.loc["cheap_import", "low_unit_value"]
    assert hits.loc["new_trader", "new_trader"] and not hits.loc["plain", "new_trader"]
    assert not hits.loc["plain"].any()


def test_ranking_puts_sanctions_first_and_breaks_ties_by_value() -> None:
    lines = _lines()
    scores = RulesBaseline().fit(lines).score(lines)
    order = list(lines["line_id"].to_numpy()[np.argsort(-scores, kind="stable")])
    assert order[0] == "chips_to_ru"
    assert order[-1] in {"chips_to_kg", "tier3_to_by"}  # no rule, smallest values
    assert len(set(scores)) == len(scores)
