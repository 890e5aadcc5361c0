"""Learning from the data which inputs and settings serve it: the significance gate, the id screen,
family selection, tuning, and the configuration that reproduces the choice."""

import time

import numpy as np
import pandas as pd

from roundabout.models.target_stats import TargetStats
from roundabout.training.classifier_data import ClassifierData
from roundabout.training.config import ClassifierConfig, TrainConfig
from roundabout.training.screening import screen_id_family
from roundabout.training.search import chosen_config, search_classifier
from roundabout.training.selection import select_families
from roundabout.training.significance import paired_gain
from roundabout.training.tuning import tune


def _labels(n: int, rng: np.random.Generator, rate: float = 0.1) -> np.ndarray:
    return (rng.random(n) < rate).astype(float)


def test_a_ranking_is_better_only_beyond_chance() -> None:
    rng = np.random.default_rng(0)
    y = _labels(2000, rng)
    good = y + rng.normal(0, 0.7, len(y))
    noisy = good + rng.normal(0, 0.05, len(y))
    assert paired_gain(y, good, rng.random(len(y))).beats(0.003, 2.0)
    same = paired_gain(y, noisy, good)
    assert abs(same.gain) < 2 * same.se + 0.003 and not same.beats(0.003, 2.0)
    assert paired_gain(y, good, good).gain == 0.0


def test_an_id_with_a_record_passes_the_screen_a_random_one_does_not() -> None:
    rng = np.random.default_rng(1)
    n = 6000
    dates = np.datetime64("2023-01-01") + np.sort(rng.integers(0, 365, n)).astype("timedelta64[D]")
    traders = rng.integers(0, 300, n)
    y = (rng.random(n) < np.where(traders < 30, 0.4, 0.04)).astype(float)  # a tenth of traders: most fraud
    brokers = rng.integers(0, 400, n)  # drawn at random for every line

    lines = pd.DataFrame(
        {"date": dates, "trader_id": traders.astype(str), "declarant_id": brokers.astype(str)}
    )
    te = TargetStats(["trader_id", "declarant_id"], folds=5).fit_transform(lines, y)
    trader = screen_id_family("ids trader_id", te[:, 0], te[:, 1], y, 0.05)
    broker = screen_id_family("ids declarant_id", te[:, 2], te[:, 3], y, 0.05)
    assert trader.carries_signal and trader.p_value < 1e-6
    assert not broker.carries_signal and broker.lines == int((~np.isnan(te[:, 2])).sum()) < n
    # Too few violations to say anything: the family is kept.
    few = screen_id_family("ids x", te[:50, 2], te[:50, 3], np.r_[np.ones(2), np.zeros(48)], 0.05)
    assert few.carries_signal


def _scores_of(signal: dict[str, float], y: np.ndarray, seed: int = 0) -> "callable":
    """A stand-in for fitting: each family adds its signal to the ranking (negative: noise that hurts)."""
    noise = {fam: np.random.default_rng(seed + i).normal(0, 1, len(y)) for i, fam in enumerate(signal)}

    def predict(inputs: list[str]) -> np.ndarray:
        out = np.zeros(len(y))
        for fam in {name.split(":")[0] for name in inputs}:
            out += signal[fam] * y + noise[fam] * (1 if signal[fam] >= 0 else 3)
        return out

    return predict


def test_selection_adds_what_helps_and_drops_what_hurts() -> None:
    rng = np.random.default_rng(2)
    y = _labels(3000, rng)
    signal = {"goods": 2.0, "value": 1.0, "noise": -1.0, "raw codes": 1.5, "raw declarant id": -1.0}
    families = {fam: [f"{fam}:a", f"{fam}:b"] for fam in signal}
    selection = select_families(
        families,
        {"raw codes", "raw declarant id"},
        _scores_of(signal, y),
        y,
        time.monotonic() + 60,
        0.003,
    )
    assert selection.added == ["raw codes"]
    assert selection.dropped == ["noise"]
    assert set(selection.kept) == {"goods", "value", "raw codes"}
    assert selection.score_kept > selection.score_start
    assert selection.tried["raw declarant id"].gain < 0  # tried, measured, left out


def test_selection_changes_nothing_after_its_deadline() -> None:
    rng = np.random.default_rng(3)
    y = _labels(1000, rng)
    signal = {"goods": 2.0, "noise": -1.0}
    families = {fam: [f"{fam}:a"] for fam in signal}
    selection = select_families(families, set(), _scores_of(signal, y), y, time.monotonic() - 1, 0.003)
    assert selection.kept == ["goods", "noise"] and selection.dropped == []
    assert selection.stopped is not None and "deadline" in selection.stopped


def _classifier_data(seed: int = 4, n: int = 4000) -> ClassifierData:
    rng = np.random.default_rng(seed)
    X = rng.normal(size=(n, 4))
    y = (rng.random(n) < 1 / (1 + np.exp(-(X[:, 0] * 2 + X[:, 1] - 3)))).astype(float)
    cut = n * 3 // 4
    return ClassifierData(["a", "b", "c", "d"], frozenset(), X[:cut], y[:cut], X[cut:], y[cut:], seed)


def test_tuning_keeps_the_given_settings_unless_a_trial_is_better_beyond_chance() -> None:
    data = _classifier_data()
    reports: list[int] = []
    given = ClassifierConfig(num_boost_round=200)
    tuning = tune(
        given,
        lambda c: data.predict(["a", "b", "c", "d"], c),
        data.y_valid,
        time.monotonic() + 120,
        max_trials=4,
        seed=0,
        min_gain=0.003,
        on_trial=lambda number, *_: reports.append(number),
    )
    assert tuning.trials == 4 and reports == [0, 1, 2, 3]
    assert tuning.trace[0]["learning_rate"] == given.learning_rate  # the first trial is the config as given
    assert tuning.gain is not None
    assert tuning.taken == tuning.gain.beats(0.003, 2.0)
    assert (tuning.chosen == given) != tuning.taken


def test_no_budget_searches_nothing_and_a_budget_is_kept() -> None:
    data = _classifier_data()
    families = {"goods": ["a", "b"], "other": ["c", "d"]}
    none = search_classifier(data, families, TrainConfig.model_validate({"search": {"budget_minutes": 0}}))
    assert none.skipped == "no search budget" and none.inputs == ["a", "b", "c", "d"]
    config = TrainConfig.model_validate(
        {"search": {"budget_minutes": 0.1, "max_trials": 1000}, "classifier": {"num_boost_round": 100}}
    )
    started = time.monotonic()
    result = search_classifier(data, families, config)
    took = time.monotonic() - started
    assert result.tuning is not None and result.tuning.trials >= 1
    one_fit = max(row["seconds"] for row in result.tuning.trace)
    assert took <= 7 + 4 * one_fit  # the budget, and the fits (one per half) running when it ran out
    again = chosen_config(config, result)
    assert again.search.budget_minutes == 0 and again.classifier == result.classifier


def test_the_chosen_config_names_the_families_left_out() -> None:
    data = _classifier_data()
    rng = np.random.default_rng(5)
    # An id family whose out-of-fold rate is noise: screened out, and named in the chosen config.
    noise = np.column_stack([rng.random(len(data.y_train)), rng.integers(0, 5, len(data.y_train))])
    names = [*data.names, "te_declarant_id_rate", "te_declarant_id_n"]
    valid_noise = np.column_stack([rng.random(len(data.y_valid)), rng.integers(0, 5, len(data.y_valid))])
    with_ids = ClassifierData(
        names,
        frozenset(),
        np.hstack([data.X_train, noise]),
        data.y_train,
        np.hstack([data.X_valid, valid_noise]),
        data.y_valid,
    )
    families = {
        "goods": ["a", "b", "c", "d"],
        "ids declarant_id": ["te_declarant_id_rate", "te_declarant_id_n"],
    }
    config = TrainConfig.model_validate(
        {"search": {"budget_minutes": 0.02, "max_trials": 1}, "classifier": {"num_boost_round": 50}}
    )
    result = search_classifier(with_ids, families, config)
    assert result.dropped[0] == "ids declarant_id"
    assert "te_declarant_id_rate" not in result.inputs
    assert "ids declarant_id" in chosen_config(config, result).search.drop_families
    assert result.to_dict()["screening"]["ids declarant_id"]["kept"] is False


def test_an_alpha_of_one_keeps_every_id_family() -> None:
    rng = np.random.default_rng(6)
    y = _labels(2000, rng)
    rate, count = rng.random(2000), rng.random(2000)
    assert not screen_id_family("ids x", rate, count, y, 0.05).carries_signal
    assert screen_id_family("ids x", rate, count, y, 1.0).carries_signal
