"""The sanctions-list rule: a hit is lifted into the red band above every non-hit ranked below it, keeps
the order among hits, and its reason comes first; models without the party features have no rule."""

import numpy as np

from roundabout.models.explain import Reason
from roundabout.models.list_rule import REASON_WEIGHT, ListRule

BASE = ["log_value_usd", "counterparty_list_score", "trader_list_score"]


def test_hits_are_rows_with_a_party_at_the_threshold() -> None:
    rule = ListRule.for_inputs(BASE)
    X = np.array([[1, 0.95, 0.0], [1, 0.5, np.nan], [1, np.nan, 0.81], [1, np.nan, np.nan], [1, 0.79, 0.79]])
    assert rule.hits(X).tolist() == [True, False, True, False, False]


def test_a_hit_goes_red_and_keeps_its_order_among_hits() -> None:
    risk = np.array([0.01, 0.2, 0.97, 0.5])
    hits = np.array([True, True, False, False])
    lifted = ListRule.lift(risk, hits, red=0.9)
    assert (lifted[hits] >= 0.9).all() and lifted[0] < lifted[1]
    assert (lifted >= risk).all() and lifted[2] == 0.97 and lifted[3] == 0.5


def test_the_reason_of_a_hit_comes_first_and_names_the_party() -> None:
    rule = ListRule.for_inputs(BASE)
    learned = [Reason("counterparty_list_score", 0.9, 0.3, "x"), Reason("log_value_usd", 9.0, 0.2, "y")]
    reasons = rule.first(np.array([1.0, 0.62, 0.91]), learned, k=2)
    assert [r.feature for r in reasons] == ["trader_list_score", "counterparty_list_score"]
    assert reasons[0].contribution == REASON_WEIGHT and "0.91" in reasons[0].text
    assert rule.first(np.array([1.0, 0.9, 0.0]), learned, k=0) == []


def test_no_rule_without_the_features_or_when_switched_off() -> None:
    X = np.array([[1.0, 0.99, 0.99]])
    assert not ListRule.for_inputs(["log_value_usd"]).hits(X[:, :1]).any()
    assert not ListRule.for_inputs(BASE, enabled=False).hits(X).any()


def test_a_match_that_inspections_keep_clearing_is_no_hit() -> None:
    """An honest firm named like a listed one: after three or more mostly clean inspections of its lines
    the name match no longer forces red (its score still reaches the learned parts)."""
    base = ["counterparty_list_score", "counterparty_inspections", "counterparty_violation_rate"]
    rule = ListRule.for_inputs(base, prior=0.1)
    X = np.array(
        [
            [0.95, 5, 0.02],  # inspected five times, mostly clean: cleared
            [0.95, 5, 0.30],  # inspected, violations found: a hit
            [0.95, 2, 0.02],  # too few inspections to clear it
            [0.95, np.nan, np.nan],  # never inspected
        ]
    )
    assert rule.hits(X).tolist() == [False, True, True, True]
