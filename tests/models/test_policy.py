"""The selection policy: deterministic draws at the configured rate, propensities that are the true chance of
inspection (checked by simulating the draw under many keys), thresholds that keep the stated capacity with
exploration included, and office-day budgets."""

import numpy as np
import pytest

from roundabout.models.channels import GREEN, RED, YELLOW, Thresholds
from roundabout.models.policy import (
    EXPLORATION,
    MODEL,
    RULE,
    SelectionPolicy,
    cap_per_office_day,
    draw,
    draws,
    fill_budget,
)

IDS = np.array([f"DT-{i:07d}/{i % 7 + 1}" for i in range(40_000)], dtype=object)


def _traffic(n: int = 40_000, seed: int = 3) -> tuple[np.ndarray, np.ndarray]:
    rng = np.random.default_rng(seed)
    risk = rng.beta(0.4, 8.0, n)
    evidence = np.where(rng.random(n) < 0.1, rng.exponential(1.5, n), 0.0)
    return risk, evidence


def test_the_draw_is_a_keyed_hash_of_the_line_id() -> None:
    first = draws(b"key-1", IDS[:1000])
    assert np.array_equal(first, draws(b"key-1", IDS[:1000]))  # a retried call draws the same
    assert draw(b"key-1", str(IDS[5])) == first[5]
    assert not np.array_equal(first, draws(b"key-2", IDS[:1000]))  # without the key, no telling
    assert ((first >= 0) & (first < 1)).all()


@pytest.mark.parametrize("rate", [0.002, 0.02, 0.1])
def test_uniform_exploration_draws_the_configured_share_of_lines(rate: float) -> None:
    risk, evidence = _traffic()
    policy = SelectionPolicy.fit(rate, "uniform", RED, 0.25, risk, evidence)
    thresholds = policy.thresholds(risk, evidence, 0.2, 0.1)
    chosen = policy.select(thresholds, risk, np.zeros(len(risk), bool), evidence, draws(b"k", IDS))
    share = (chosen.selection == EXPLORATION).mean()
    sd = np.sqrt(rate * (1 - rate) / len(risk))
    assert abs(share - rate) < 4 * sd


@pytest.mark.parametrize("strategy", ["uniform", "risk", "anomaly"])
@pytest.mark.parametrize("channel", [RED, YELLOW])
def test_propensities_are_the_chance_of_inspection(strategy: str, channel: str) -> None:
    """Simulate the policy under 400 keys: each line's share of inspections (red or yellow) matches its
    recorded propensity, and the thresholds keep the stated red and yellow shares."""
    risk, evidence = _traffic(2_000)
    rule = np.zeros(len(risk), dtype=bool)
    rule[:10] = True
    policy = SelectionPolicy.fit(0.05, strategy, channel, 0.25, risk, evidence)
    thresholds = policy.thresholds(risk, evidence, 0.1, 0.15)
    inspected = np.zeros(len(risk))
    red = yellow = 0
    keys = 400
    propensity = None
    for k in range(keys):
        chosen = policy.select(thresholds, risk, rule, evidence, draws(f"key{k}".encode(), IDS[:2000]))
        inspected += chosen.channel != GREEN
        red += (chosen.channel == RED).sum()
        yellow += (chosen.channel == YELLOW).sum()
        if propensity is None:
            propensity = chosen.propensity
        assert np.array_equal(propensity, chosen.propensity)  # the propensity does not depend on the draw
        assert (chosen.selection[rule] == RULE).all() and (chosen.propensity[rule] == 1).all()
    assert propensity is not None
    frequency = inspected / keys
    sd = np.sqrt(propensity * (1 - propensity) / keys)
    assert (np.abs(frequency - propensity) <= 4.5 * sd + 1e-9).mean() > 0.995
    assert abs(red / keys / len(risk) - 0.1) < 0.01
    assert abs(yellow / keys / len(risk) - 0.15) < 0.015


def test_a_non_uniform_strategy_spends_draws_where_its_weight_is_and_keeps_a_floor() -> None:
    risk, evidence = _traffic()
    policy = SelectionPolicy.fit(0.02, "anomaly", RED, 0.25, risk, evidence)
    e = policy.probabilities(risk, evidence)
    assert abs(e.mean() - 0.02) < 0.0005  # the rate is the mean over the reference traffic
    assert e[evidence > 2].mean() > 5 * e[evidence == 0].mean()
    assert np.isclose(e[evidence == 0].min(), 0.02 * 0.25)  # the floor: nobody's chance is zero


def test_without_draws_nothing_is_explored_and_without_a_rate_every_green_line_has_no_chance() -> None:
    risk, evidence = _traffic(1000)
    thresholds = Thresholds.from_scores(risk, 0.05, 0.1)
    policy = SelectionPolicy.fit(0.02, "uniform", RED, 0.25, risk, evidence)
    chosen = policy.select(thresholds, risk, np.zeros(1000, bool), evidence, None)
    assert (chosen.selection == MODEL).all()
    assert np.array_equal(chosen.channel, thresholds.channel(risk))
    closed = SelectionPolicy().select(thresholds, risk, np.zeros(1000, bool), evidence, np.zeros(1000))
    assert (closed.propensity[closed.channel == GREEN] == 0).all()
    assert (closed.selection == MODEL).all()


def test_the_single_line_path_agrees_with_the_batch() -> None:
    risk, evidence = _traffic(3000)
    rule = np.zeros(len(risk), dtype=bool)
    rule[::97] = True
    for channel in (RED, YELLOW):
        policy = SelectionPolicy.fit(0.05, "risk", channel, 0.25, risk, evidence)
        thresholds = policy.thresholds(risk, evidence, 0.1, 0.2)
        u = draws(b"k", IDS[:3000])
        batch = policy.select(thresholds, risk, rule, evidence, u)
        for i in range(len(risk)):
            one = policy.select_one(
                thresholds, float(risk[i]), bool(rule[i]), float(evidence[i]), float(u[i])
            )
            assert one == (
                batch.channel[i],
                batch.selection[i],
                pytest.approx(batch.propensity[i]),
                pytest.approx(batch.exploration[i]),
            )


def test_a_quota_that_does_not_fit_the_capacity_is_refused() -> None:
    from pydantic import ValidationError

    from roundabout.training.config import ChannelConfig

    with pytest.raises(ValidationError, match="exploration_rate"):
        ChannelConfig(red_share=0.01, exploration_rate=0.02)
    assert ChannelConfig(
        red_share=0.01, yellow_share=0.1, exploration_rate=0.02, exploration_channel="yellow"
    )
    with pytest.raises(ValueError, match="strategy"):
        SelectionPolicy(0.01, "greedy")


def test_office_day_budgets_keep_rules_and_exploration_and_fill_the_rest_by_risk() -> None:
    risk = np.array([0.9, 0.8, 0.7, 0.6, 0.5, 0.95, 0.1, 0.85])
    office = np.array(["A", "A", "A", "A", "A", "A", "A", "B"], dtype=object)
    day = np.array([1, 1, 1, 1, 1, 1, 1, 1])
    rule = np.array([False, False, False, False, False, True, False, False])
    thresholds = Thresholds(0.45, 0.2, 0.5, 0.1)
    policy = SelectionPolicy(0.1, "uniform", RED)
    u = np.array([0.5, 0.5, 0.5, 0.5, 0.5, 0.5, 0.01, 0.5])  # line 6 is drawn
    chosen = policy.select(thresholds, risk, rule, np.zeros(8), u)
    assert chosen.channel.tolist() == [RED] * 8
    capped = cap_per_office_day(chosen, risk, office, day, red=3, yellow=1)
    # office A: the rule line and the drawn line keep red, one place left goes to the riskiest model line
    assert capped.channel.tolist() == [RED, YELLOW, GREEN, GREEN, GREEN, RED, RED, RED]
    assert capped.selection.tolist() == [MODEL] * 5 + [RULE, EXPLORATION, MODEL]
    assert capped.propensity.tolist() == [1, 1, 0.1, 0.1, 0.1, 1, 0.1, 1]  # the drawn line: its chance
    assert cap_per_office_day(chosen, risk, office, day, None, None) is chosen


def test_a_budget_is_filled_exactly_with_rules_and_draws_first_and_honest_propensities() -> None:
    risk, evidence = _traffic(5000)
    rule = np.zeros(5000, dtype=bool)
    rule[:7] = True
    policy = SelectionPolicy.fit(0.02, "uniform", RED, 0.25, risk, evidence)
    e = policy.probabilities(risk, evidence)
    u = draws(b"k", IDS[:5000])
    chosen = fill_budget(risk, rule, e, u, 400)
    assert (chosen.channel != GREEN).sum() == 400
    assert (chosen.selection[rule] == RULE).all()
    drawn = (u < e) & ~rule
    assert (chosen.selection[drawn] == EXPLORATION).all() and (chosen.channel[drawn] == RED).all()
    by_model = chosen.selection == MODEL
    taken = risk[by_model & (chosen.channel == RED)]
    assert taken.min() >= risk[by_model & (chosen.channel == GREEN)].max()  # the model takes the riskiest
    # a line is certain exactly when the model's share would take it; otherwise its chance is its draw's
    certain = chosen.propensity == 1
    assert (risk[certain & ~rule] >= taken.min()).all()
    assert np.allclose(chosen.propensity[~certain], e[~certain])
