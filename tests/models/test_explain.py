"""Reasons come from the catalogue templates, name category levels, and the anomaly gets its own."""

import numpy as np
import pytest

from roundabout.models.explain import ANOMALY, Explainer, format_reason, reason_evidence, reason_templates
from roundabout.training.fit import Fitted
from roundabout.training.split import Split


def _explainer(names: list[str]) -> Explainer:
    templates = reason_templates(names, ["trader_id"])
    levels = {"origin_country": ["CN", "DE", "US"]}
    return Explainer(names, templates, lambda f, c: levels[f][c - 1], {"origin_country"}, top_k=3)


def test_top_reasons_from_templates() -> None:
    names = ["chpl_tier_rank", "chain_lag_days", "origin_country", "te_trader_id_rate", "log_value_usd"]
    explainer = _explainer(names)
    values = np.array([1.0, 6.0, 3.0, 0.4, 10.0])
    contrib = np.array([1.2, 0.9, 0.3, 0.5, -2.0])
    reasons = explainer.reasons(values, contrib, anomaly_part=0.0, anomaly_score=0.4)
    assert [r.feature for r in reasons] == ["chpl_tier_rank", "chain_lag_days", "te_trader_id_rate"]
    assert reasons[0].text == "The goods are on the Common High Priority List (tier rank 1)"
    assert reasons[1].text == "Exported to Russia/Belarus 6 days after the trader imported the same goods"
    assert "40%" in reasons[2].text


def test_category_level_names_and_anomaly_reason() -> None:
    names = ["origin_country", "chain_lag_days"]
    explainer = _explainer(names)
    reasons = explainer.reasons(
        np.array([3.0, np.nan]), np.array([0.6, 0.9]), anomaly_part=0.8, anomaly_score=0.71
    )
    assert reasons[0].feature == ANOMALY and "0.71" in reasons[0].text
    assert reasons[1].text == "Origin US"
    assert len(reasons) == 2  # a missing value gets no text


def test_small_contributions_give_no_reason() -> None:
    explainer = _explainer(["chpl_tier_rank"])
    assert explainer.reasons(np.array([1.0]), np.array([0.01]), 0.0, 0.3) == []


def test_format_falls_back_on_bad_template() -> None:
    assert format_reason("Unit value {value:,.2f} USD per kg", "n/a") == "Unit value: n/a"


def test_model_reasons_add_up(split: Split, fitted: Fitted) -> None:
    """Contributions are shares of the fused log-odds: with the bias they rebuild the risk exactly."""
    model = fitted.model
    lines = split.data.lines[split.holdout].head(20)
    X = model.matrix(fitted.features[split.holdout].head(20), lines)
    contrib = model.classifier.contributions(model.classifier_part(X))
    scores = model.score_batch(X, explain=True)
    f = model.fusion
    odd = f.d * f.oddness_excess(scores.oddness_score)
    logit = f.a * contrib.sum(axis=1) + f.b * f.anomaly_z(scores.anomaly_score) + odd + f.c
    np.testing.assert_allclose(1 / (1 + np.exp(-logit)), scores.risk_score, atol=1e-12)
    assert odd.any(), "some of these lines are odd enough for the oddness part to count"
    for i in np.flatnonzero(odd):
        shares = scores.contributions[i]
        assert shares["oddness"] == pytest.approx(odd[i]), "the oddness part's share is d * w"
    top = max(range(20), key=lambda i: scores.risk_score[i])
    assert scores.reasons[top], "the riskiest line has reasons"
    assert all(r.text and r.contribution > 0 for r in scores.reasons[top])


def test_no_reason_claims_a_history_that_does_not_exist() -> None:
    """A rate of nobody inspected is the prior: "earlier inspections found violations" would be false."""
    names = ["te_declarant_id_rate", "te_declarant_id_n", "declarant_violation_rate", "declarant_inspections"]
    templates = reason_templates(names, ["declarant_id"])
    explainer = Explainer(
        names, templates, lambda f, c: None, set(), top_k=4, evidence=reason_evidence(names, ["declarant_id"])
    )
    contrib = np.array([0.9, 0.3, 0.8, 0.1])
    no_history = explainer.reasons(np.array([0.09, 0.0, 0.09, 0.0]), contrib, 0.0, 0.3)
    assert [r.text for r in no_history] == ["0 earlier inspections of this declarant's lines"]
    with_history = explainer.reasons(np.array([0.4, 1.6, 0.4, 3.0]), contrib, 0.0, 0.3)
    assert [r.feature for r in with_history] == [
        "te_declarant_id_rate",
        "declarant_violation_rate",
        "te_declarant_id_n",
        "declarant_inspections",
    ]
