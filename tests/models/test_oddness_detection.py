"""The oddness suite, small: lines altered into consignments unlike any of their goods, in a world the
model never saw, with their labels dropped, are found by the risk score and given reasons that say what is
odd (`bench/bench_oddness.py` is the full run: docs/models.md)."""

import json

import pandas as pd
import pytest

from roundabout.data.io import CanonicalData
from roundabout.simulation import SimulationConfig, simulate
from roundabout.simulation.oddities import AlteredWorld
from roundabout.training.fit import Fitted
from roundabout.training.split import Split
from tests.support.oddness import altered_world, recall_by_kind

pytestmark = pytest.mark.slow

#: What each kind's reason must speak of (its oddest trait, or the other one of a combination).
WORDS = {
    "value_per_kg_high": ("Value per",),
    "value_per_kg_low": ("Value per",),
    "quantity_per_kg": ("Quantity per kg", "Value per unit"),
    "gross_net": ("Gross-to-net",),
    "origin_unseen": ("Origin", "Route"),
    "dispatch_unseen": ("Dispatch country", "Route"),
    "mode_unseen": ("Transport mode", "Route"),
    "office_unseen": ("Customs office",),
    "partner_unseen": ("Counterparty country",),
}


@pytest.fixture(scope="module")
def suite(split: Split, fitted: Fitted) -> tuple[AlteredWorld, pd.DataFrame]:
    test = simulate(SimulationConfig(n_lines=20_000, seed=5))
    altered = altered_world(split.data, test, per_kind=6)
    return altered, fitted.model.score_data(altered.data, explain=True)


def _imports(data: CanonicalData, scores: pd.DataFrame, column: str) -> pd.Series:
    imports = (data.lines["direction"] == "import").to_numpy()
    return scores.set_index("line_id").loc[imports, column]


def test_odd_lines_are_found_by_the_risk_score(suite) -> None:
    altered, scores = suite
    by_risk = recall_by_kind(_imports(altered.data, scores, "risk_score"), altered.manifest)
    by_anomaly = recall_by_kind(_imports(altered.data, scores, "anomaly_score"), altered.manifest)
    by_oddness = recall_by_kind(_imports(altered.data, scores, "oddness_score"), altered.manifest)
    # On this small world (20,000 training lines) the figures are 0.83 by oddness, 0.49 and 0.56 by risk
    # and 0.20 by the forest alone; the code before the oddness detector found 0.1 or less by risk
    # (docs/models.md has the full suite).
    assert by_oddness["all"]["at_5pct"] >= 0.75
    assert by_risk["all"]["at_5pct"] >= 0.4
    assert by_risk["all combos"]["at_5pct"] >= 0.45
    assert by_risk["all"]["at_5pct"] > 2 * by_anomaly["all"]["at_5pct"]


def test_flagged_odd_lines_say_what_is_odd(suite) -> None:
    altered, scores = suite
    by_id = scores.set_index("line_id")
    checked = named = 0
    for row in altered.manifest.itertuples():
        shares = json.loads(by_id.loc[row.line_id, "contributions"])
        if by_id.loc[row.line_id, "channel"] == "green" or max(shares, key=shares.get) != "oddness":
            continue  # not flagged, or flagged mostly for what the classifier reads (with its own reasons)
        reasons = json.loads(by_id.loc[row.line_id, "reasons"])
        odd = [r for r in reasons if r["feature"] == "oddness"]
        assert odd, f"{row.kind} line {row.line_id} flagged without an oddness reason: {reasons}"
        words = tuple(w for kind in row.kind.split("+") for w in WORDS[kind])
        # A line may have been odd before it was altered (its own quantity, say): then that is named.
        named += odd[0]["text"].startswith(words)
        checked += 1
    assert checked >= len(altered.manifest) // 4
    assert named >= 0.9 * checked
