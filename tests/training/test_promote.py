"""Promotion: the pure rule, and the gate that validates a registered version before ANY alias is set."""

import math
from typing import Any

import pytest

from roundabout.models.risk_model import RiskModel
from roundabout.training.fit import Fitted
from roundabout.training.metrics import rate_key
from roundabout.training.promote import decide, promote
from roundabout.training.split import Split
from tests.training.conftest import small_config


def test_promotion_rule() -> None:
    assert decide("m", 0.5, None, None, 0.0).promoted
    assert decide("m", 0.6, "3", 0.5, 0.0).alias == "champion"
    assert decide("m", 0.5, "3", 0.5, 0.0).alias == "challenger"  # a tie does not displace
    assert decide("m", 0.55, "3", 0.5, 0.1).alias == "challenger"


class FakeRegistry:
    """The part of MlflowService promotion uses, in memory; `models` maps a version to its model, or to
    the exception loading it raises."""

    def __init__(self, models: dict[str, RiskModel | Exception], champion: str | None) -> None:
        self.models = models
        self.aliases: dict[str, str] = {"champion": champion} if champion else {}

    def alias_version(self, name: str, alias: str) -> str | None:
        return self.aliases.get(alias)

    def load_model(self, uri: str) -> RiskModel:
        ref = uri.removeprefix("models:/risk")  # "/2" or "@champion"
        found = self.models[self.aliases[ref[1:]] if ref.startswith("@") else ref[1:]]
        if isinstance(found, Exception):
            raise found
        return found

    def set_alias(self, name: str, alias: str, version: str) -> None:
        self.aliases[alias] = version


def _report(value: float) -> dict[str, Any]:
    p = small_config().promotion
    return {p.against: {"rates": {rate_key(p.rate): {p.metric: value}}}}


def _with_nan_fusion(model: RiskModel) -> RiskModel:
    """A copy whose every risk score is NaN."""
    import copy

    broken = copy.copy(model)
    broken.fusion = copy.copy(model.fusion)
    broken.fusion.c = math.nan
    return broken


@pytest.mark.parametrize("value", [1.0, 0.0], ids=["would-be-champion", "would-be-challenger"])
@pytest.mark.parametrize("bad", ["unloadable", "nan-scores"])
def test_a_version_that_fails_validation_gets_no_alias(
    split: Split, fitted: Fitted, value: float, bad: str
) -> None:
    broken: RiskModel | Exception = (
        ValueError("corrupt") if bad == "unloadable" else _with_nan_fusion(fitted.model)
    )
    registry = FakeRegistry({"1": fitted.model, "2": broken}, champion="1")
    decision = promote(registry, "risk", "2", _report(value), split, fitted, small_config())  # type: ignore[arg-type]
    assert decision.alias == "" and not decision.promoted
    assert decision.reason.startswith("refused:")
    assert registry.aliases == {"champion": "1"}


def test_a_sound_version_gets_the_alias_it_earns(split: Split, fitted: Fitted) -> None:
    registry = FakeRegistry({"1": fitted.model, "2": fitted.model}, champion="1")
    lose = promote(registry, "risk", "2", _report(0.0), split, fitted, small_config())  # type: ignore[arg-type]
    assert lose.alias == "challenger" and registry.aliases == {"champion": "1", "challenger": "2"}
    win = promote(registry, "risk", "2", _report(1.0), split, fitted, small_config())  # type: ignore[arg-type]
    assert win.alias == "champion" and win.champion_value is not None and registry.aliases["champion"] == "2"


@pytest.mark.parametrize("champion", ["1", None], ids=["champion", "no-champion"])
def test_a_holdout_without_outcomes_moves_no_champion(
    split: Split, fitted: Fitted, champion: str | None
) -> None:
    """Nothing to compare on: the version becomes challenger, the champion (or its absence) stays."""
    config = small_config(promotion={"against": "outcomes"})
    registry = FakeRegistry({"1": fitted.model, "2": fitted.model}, champion=champion)
    absent = {"outcomes": {"lines": 0, "positives": 0, "absent": "no inspected line"}}
    decision = promote(registry, "risk", "2", absent, split, fitted, config)  # type: ignore[arg-type]
    assert (decision.alias, decision.promoted, decision.new_value) == ("challenger", False, None)
    stays = "@champion stays version 1" if champion else "no version is @champion"
    assert decision.reason.startswith(
        f"not compared: the holdout has no outcomes (no inspected line); {stays}"
    )
    assert registry.aliases == ({"champion": "1"} if champion else {}) | {"challenger": "2"}


def test_an_unusable_champion_is_replaced(split: Split, fitted: Fitted) -> None:
    registry = FakeRegistry({"1": OSError("gone"), "2": fitted.model}, champion="1")
    decision = promote(registry, "risk", "2", _report(0.0), split, fitted, small_config())  # type: ignore[arg-type]
    assert decision.alias == "champion" and decision.reason.startswith("champion unusable")
    assert registry.aliases["champion"] == "2"
