"""Simulated inspections: the propensity each one records is the exact probability the legacy procedure had
of picking the line (checked by repeating the draw), `selection` says which part of the procedure picked it,
`inspect_selected` finds what the hidden truth holds at the configured rates (less for documentary
checks), and the world hands its hidden truth over in line order, also in the foreign shape."""

import numpy as np
import pandas as pd
import pytest

from roundabout.data.schema import INSPECTION_COLUMNS
from roundabout.simulation import SimulationConfig
from roundabout.simulation.config import InspectionConfig
from roundabout.simulation.inspections import (
    RED,
    SCHEME_VIOLATION,
    YELLOW,
    HiddenTruth,
    inspect,
    inspect_selected,
    legacy_rules,
    legacy_selection,
)
from roundabout.simulation.trade_arrays import HONEST_VIOLATIONS, LEG_IMPORT, SCHEMES
from roundabout.simulation.world import SimulatedWorld, simulate_world

N = 20_000


@pytest.fixture(scope="module")
def world() -> SimulatedWorld:
    return simulate_world(SimulationConfig(n_lines=N, seed=4))


@pytest.fixture(scope="module")
def hits(world: SimulatedWorld) -> np.ndarray:
    return legacy_rules(world.data.lines, InspectionConfig()).to_numpy().sum(axis=1)


def _groups(hits: np.ndarray) -> list[np.ndarray]:
    return [np.flatnonzero(hits == h) for h in np.unique(hits)]


def test_legacy_propensity_is_the_inclusion_probability(hits: np.ndarray) -> None:
    cfg = InspectionConfig()
    runs = 1_000
    chosen = np.zeros(len(hits))
    by_rule = np.zeros(len(hits))
    first = legacy_selection(np.random.default_rng(0), hits, cfg)
    for seed in range(runs):
        picked = legacy_selection(np.random.default_rng(seed), hits, cfg)
        assert np.array_equal(picked.propensity, first.propensity), "fixed by the lines, not the draw"
        chosen += picked.chosen
        by_rule += picked.by_rule
    freq, p = chosen / runs, first.propensity
    assert p.sum() == pytest.approx(round(cfg.capacity * len(hits))), (
        "inclusion probabilities sum to capacity"
    )
    assert ((p > 0) & (p <= 1)).all()
    partial = False
    for rows in _groups(hits):
        f = by_rule[rows].mean() / runs  # share of the group the rules pick
        partial |= 0 < f < 1
        assert freq[rows].mean() == pytest.approx(p[rows].mean(), rel=0.01, abs=2e-4), hits[rows[0]]
        assert np.ptp(p[rows]) == 0, "one propensity per hit count"
    assert partial, "the rules' capacity ends inside a group: the case the formula is about"
    z = (freq - p) / np.sqrt(p * (1 - p) / runs + 1e-12)
    assert np.abs(z).max() < 6


def test_inspect_records_selection_and_propensity_of_its_draws(world: SimulatedWorld) -> None:
    # a small capacity so the rules' share ends inside the one-hit group and the quota is sizeable
    lines = world.data.lines.iloc[:3_000].reset_index(drop=True)
    hidden = world.hidden.take(np.arange(3_000))
    cfg = InspectionConfig(capacity=0.05, random_quota=0.3)
    runs = 200
    seen = np.zeros(len(lines))
    reported = np.full(len(lines), np.nan)
    position = pd.Series(np.arange(len(lines)), index=lines["line_id"])
    for seed in range(runs):
        out = inspect(np.random.default_rng(seed), lines, hidden, cfg)
        assert tuple(out.columns) == INSPECTION_COLUMNS
        assert len(out) == round(cfg.capacity * len(lines))
        rows = position[out["line_id"]].to_numpy()
        assert (np.diff(rows) > 0).all(), "in line order"
        prior, now = reported[rows], out["propensity"].to_numpy()
        known = ~np.isnan(prior)
        assert np.allclose(prior[known], now[known]), "the same line, the same propensity, whatever the draw"
        reported[rows] = now
        seen[rows] += 1
        assert set(out["selection"]) == {"rule", "exploration"}
        assert out["selection"].eq("rule").sum() == round(len(out) * (1 - cfg.random_quota))
    hits = legacy_rules(lines, cfg).to_numpy().sum(axis=1)
    expected = legacy_selection(np.random.default_rng(0), hits, cfg).propensity
    inspected = ~np.isnan(reported)
    assert np.allclose(reported[inspected], expected[inspected])
    for rows in _groups(hits):
        assert seen[rows].mean() / runs == pytest.approx(expected[rows].mean(), rel=0.05, abs=1e-3)


def test_the_world_records_why_and_how_likely_each_inspection(world: SimulatedWorld, hits) -> None:
    insp = world.data.inspections
    assert tuple(insp.columns) == INSPECTION_COLUMNS
    rows = pd.Series(np.arange(N), index=world.data.lines["line_id"])[insp["line_id"]].to_numpy()
    rule = insp["selection"].eq("rule").to_numpy()
    assert (hits[rows][rule] > 0).all(), "the rules pick flagged lines only"
    assert insp["selection"].isin(["rule", "exploration"]).all()
    assert 0.75 < rule.mean() < 0.85, "80% by the rules, the random quota for the rest"
    p = insp["propensity"].to_numpy()
    assert ((p > 0) & (p <= 1)).all()
    assert p[hits[rows] == 0].max() < 0.02 < p[hits[rows] > 0].min(), "flagged lines are far likelier"


def test_inspect_selected_finds_what_the_truth_holds(world: SimulatedWorld) -> None:
    lines, hidden = world.data.lines, world.hidden
    cfg = InspectionConfig(detection_rate=0.8, chain_import_detection=0.4, documentary_detection=0.5)
    rows = np.tile(np.arange(N), 5)  # every line five times: enough inspections of every kind
    for channel, factor in ((RED, 1.0), (YELLOW, 0.5)):
        out = inspect_selected(np.random.default_rng(1), lines, hidden, rows, channel, "model", 0.25, cfg)
        assert tuple(out.columns) == INSPECTION_COLUMNS and len(out) == len(rows)
        assert out["line_id"].equals(pd.Series(lines["line_id"].to_numpy()[rows], dtype="str"))
        assert out["selection"].eq("model").all() and out["propensity"].eq(0.25).all()
        delay = (out["inspected_on"] - lines["date"].to_numpy()[rows]).dt.days
        assert delay.between(0, cfg.max_delay_days).all()
        found = out["outcome"].eq("violation").to_numpy()
        scheme, violation, leg = hidden.scheme[rows], hidden.violation[rows], hidden.leg[rows]
        circ = scheme > 0
        groups = {
            "circumvention": (circ & (leg != LEG_IMPORT), 0.8),
            "import legs of chains": (circ & (leg == LEG_IMPORT), 0.8 * 0.4),
            "ordinary violations": (~circ & (violation > 0), 0.8),
        }
        for name, (mask, rate) in groups.items():
            assert mask.sum() > 1_000, name
            assert found[mask].mean() == pytest.approx(rate * factor, abs=0.03), (channel, name)
        assert not found[~circ & (violation == 0)].any(), "no violation is found where there is none"
        types = out["violation_type"].to_numpy(dtype=object)
        names = np.array(SCHEMES, dtype=object)[scheme]
        want = np.where(
            circ, [SCHEME_VIOLATION.get(s, "") for s in names], np.array(HONEST_VIOLATIONS)[violation]
        )
        assert (types[found] == want[found]).all()
        assert out.loc[~found, "violation_type"].isna().all()
    nothing = cfg.model_copy(update={"documentary_detection": 0.0})
    out = inspect_selected(np.random.default_rng(2), lines, hidden, rows, YELLOW, "model", 1.0, nothing)
    assert out["outcome"].eq("clean").all()


def test_inspect_selected_rejects_what_the_schema_would(world: SimulatedWorld) -> None:
    lines, hidden, cfg = world.data.lines, world.hidden, InspectionConfig()
    rows = np.arange(10)
    rng = np.random.default_rng(0)
    with pytest.raises(ValueError, match="channel"):
        inspect_selected(rng, lines, hidden, rows, "green", "model", 0.5, cfg)
    with pytest.raises(ValueError, match="selection"):
        inspect_selected(rng, lines, hidden, rows, RED, "hunch", 0.5, cfg)
    with pytest.raises(ValueError, match="propensity"):
        inspect_selected(rng, lines, hidden, rows, RED, "model", 0.0, cfg)
    with pytest.raises(ValueError):
        InspectionConfig(documentary_detection=1.5)
    mixed = inspect_selected(
        rng, lines, hidden, rows, np.array([RED, YELLOW] * 5), "rule", np.linspace(0.1, 1, 10), cfg
    )
    assert mixed["propensity"].tolist() == pytest.approx(np.linspace(0.1, 1, 10).tolist())


def test_the_hidden_truth_follows_the_lines(world: SimulatedWorld) -> None:
    hidden, truth, lines = world.hidden, world.data.truth, world.data.lines
    assert truth is not None and len(hidden) == len(lines) == N
    assert np.array_equal(
        np.array(SCHEMES, dtype=object)[hidden.scheme], truth["scheme"].to_numpy(dtype=object)
    )
    assert not (hidden.violation[hidden.scheme > 0]).any(), "ordinary violations are honest lines'"
    legs = hidden.leg == LEG_IMPORT
    assert legs.any() and (hidden.scheme[legs] > 0).all()
    assert lines.loc[legs, "procedure"].eq("40").all(), "import legs are DT imports"
    insp = world.data.inspections
    rows = pd.Series(np.arange(N), index=lines["line_id"])[insp["line_id"]].to_numpy()
    found = insp["outcome"].eq("violation").to_numpy()
    assert ((hidden.scheme[rows] > 0) | (hidden.violation[rows] > 0))[found].all()


def test_a_foreign_world_hands_over_the_truth_of_its_own_lines() -> None:
    world = simulate_world(SimulationConfig(n_lines=8_000, seed=5, shape="foreign"))
    lines, truth, hidden = world.data.lines, world.data.truth, world.hidden
    assert truth is not None and len(hidden) == len(lines) < 8_000
    assert np.array_equal(hidden.scheme > 0, truth["is_circumvention"].to_numpy(dtype=bool))
    insp = world.data.inspections
    assert tuple(insp.columns) == INSPECTION_COLUMNS
    assert insp["selection"].isna().all() and insp["propensity"].isna().all(), "the label and its date only"
    out = inspect_selected(
        np.random.default_rng(0), lines, hidden, np.arange(50), RED, "model", 0.5, InspectionConfig()
    )
    assert out["line_id"].tolist() == lines["line_id"].iloc[:50].tolist()


def test_hidden_truth_takes_rows_in_order() -> None:
    hidden = HiddenTruth(np.array([0, 1, 2]), np.array([3, 0, 0]), np.array([0, 1, 0]))
    part = hidden.take(np.array([2, 0]))
    assert (part.scheme.tolist(), part.violation.tolist(), part.leg.tolist()) == ([2, 0], [0, 3], [0, 0])
    assert len(part) == 2
