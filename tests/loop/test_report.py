"""The loop's summary reads its per-period table right: the price of exploring before the new scheme, and
the period the new scheme is first detected (half its lines selected)."""

from datetime import date

import pandas as pd
import pytest

from roundabout.loop.config import LoopConfig, PolicySpec
from roundabout.loop.report import summary
from roundabout.loop.run import LoopResult


def _rows(policy: str, found: list[int], selected: list[int], scheme: list[int]) -> list[dict[str, object]]:
    return [
        {
            "policy": policy,
            "period": k + 1,
            "start": date(2024, k + 1, 1),
            "lines": 1000,
            "inspections": 100,
            "explored": 0 if policy == "greedy" else 20,
            "violations_found": f,
            "circumvention": 50,
            "circumvention_selected": 30,
            "circumvention_found": f,
            "value_caught": 0.5,
            "new_scheme_lines": n,
            "new_scheme_selected": s,
            "new_scheme_found": s,
        }
        for k, (f, s, n) in enumerate(zip(found, selected, scheme, strict=True))
    ]


def test_summary_prices_exploration_and_dates_the_detection() -> None:
    config = LoopConfig(
        lines=20_000,
        periods=5,
        new_scheme_starts=date(2024, 3, 1),
        policies=[PolicySpec(name="greedy"), PolicySpec(name="uniform-5", exploration_rate=0.05)],
    )
    periods = pd.DataFrame(
        _rows("greedy", [40, 40, 30, 30, 30], [0, 0, 1, 2, 3], [0, 0, 20, 30, 30])
        + _rows("uniform-5", [36, 38, 30, 35, 40], [0, 0, 3, 12, 20], [0, 0, 20, 30, 30])
    )
    retrains = pd.DataFrame(
        [{"policy": "uniform-5", "period": 3, "truth": 0.30, "ipw_estimate": 0.32, "naive_estimate": 0.45}]
    )
    table = summary(LoopResult(periods, retrains, config))
    assert table.loc["greedy", "found_before"] == 80 and table.loc["uniform-5", "found_before"] == 74
    assert table.loc["uniform-5", "vs_greedy"] == pytest.approx(74 / 80)
    assert pd.isna(table.loc["greedy", "detected_after"])  # never half of the scheme's lines
    assert table.loc["uniform-5", "detected_after"] == 3  # periods 3, 4, 5 of the run: the third
    assert pd.isna(table.loc["uniform-5", "detected_90_after"])  # 20 of 30 at best
    assert table.loc["uniform-5", "ipw_error"] == pytest.approx(2.0)
    assert table.loc["uniform-5", "naive_error"] == pytest.approx(15.0)
