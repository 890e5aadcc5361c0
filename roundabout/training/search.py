"""Learning from the data itself which inputs and which classifier settings serve it, within a time budget.

Id families whose earlier record tells nothing of later labels are dropped first, by a test on the
training lines (`screening.py`). The first half of `search.budget_minutes` goes to selecting among the
input families left (`selection.py`), the rest to tuning the classifier on the families kept
(`tuning.py`), both judged on the validation period. The result
is written back as a plain configuration (`chosen_config`): the families dropped and the settings chosen,
with no budget, so training from it again gives the same model without searching.
"""

import time
from dataclasses import dataclass, field

from roundabout.errors import ConfigError
from roundabout.training.classifier_data import ClassifierData
from roundabout.training.config import ClassifierConfig, TrainConfig
from roundabout.training.inputs import OPTIONAL
from roundabout.training.screening import IdTest, screen_id_family
from roundabout.training.selection import Selection, select_families
from roundabout.training.tuning import TrialReport, Tuning, leaf_bound, tune


@dataclass
class SearchResult:
    """The inputs and settings the classifier is fitted with, and how they were found."""

    inputs: list[str]
    classifier: ClassifierConfig
    #: The families there were to choose from.
    families: list[str] = field(default_factory=list)
    #: The id families' tests; those that failed were dropped before selection.
    screening: list[IdTest] = field(default_factory=list)
    selection: Selection | None = None
    tuning: Tuning | None = None
    #: Why nothing was searched (no budget, or a validation period that cannot tell fits apart).
    skipped: str | None = None

    @property
    def dropped(self) -> list[str]:
        """Families left out: id families without signal, then those selection dropped."""
        out = [test.family for test in self.screening if not test.carries_signal]
        return out + (self.selection.dropped if self.selection else [])

    @property
    def added(self) -> list[str]:
        return self.selection.added if self.selection else []

    def to_dict(self) -> dict[str, object]:
        return {
            "inputs": self.inputs,
            "skipped": self.skipped,
            "screening": {test.family: test.to_dict() for test in self.screening},
            "selection": self.selection.to_dict() if self.selection else None,
            "tuning": self.tuning.to_dict() if self.tuning else None,
        }


def without_families(
    families: dict[str, list[str]], drop: list[str], known: set[str]
) -> dict[str, list[str]]:
    """`families` less those named in `drop` (a name that is no family at all is refused, naming it)."""
    unknown = sorted(set(drop) - known)
    if unknown:
        raise ConfigError(
            f"search.drop_families: no input family named {', '.join(map(repr, unknown))} "
            f"(families: {', '.join(sorted(known))})"
        )
    return {name: inputs for name, inputs in families.items() if name not in drop}


def search_classifier(
    data: ClassifierData,
    families: dict[str, list[str]],
    config: TrainConfig,
    on_trial: TrialReport | None = None,
) -> SearchResult:
    """Select families, then tune the classifier, within `config.search.budget_minutes`."""
    everything = [name for inputs in families.values() for name in inputs]
    budget = config.search.budget_minutes * 60.0
    if budget <= 0:
        return SearchResult(everything, config.classifier, list(families), skipped="no search budget")
    if not data.scorable:
        why = "the validation period holds no violations, or nothing but violations, to judge fits on"
        return SearchResult(everything, config.classifier, list(families), skipped=why)
    start = time.monotonic()
    screening = screen_ids(data, families, config.search.id_alpha)
    silent = {test.family for test in screening if not test.carries_signal}
    families = {fam: inputs for fam, inputs in families.items() if fam not in silent}
    # Selection fits see every line and every input: with random subsets of either, removing two inputs
    # changes which subsets each tree draws, and that noise alone moves the score more than a useless
    # family does. Tuning explores the subsets later.
    whole = config.classifier.model_copy(update={"feature_fraction": 1.0, "bagging_fraction": 1.0})
    selection = select_families(
        families,
        {fam for fam in families if fam in OPTIONAL},
        lambda inputs: data.predict(inputs, whole),
        data.y_valid,
        start + budget / 2,
        config.search.min_gain,
        seed=config.seed,
    )
    inputs = [name for fam, names in families.items() if fam in selection.kept for name in names]
    tuning = tune(
        config.classifier,
        lambda settings: data.predict(inputs, settings),
        data.y_valid,
        start + budget,
        config.search.max_trials,
        config.seed,
        config.search.min_gain,
        on_trial,
        leaf_bound(int(data.y_train.sum())),
    )
    return SearchResult(inputs, tuning.chosen, [*families, *silent], screening, selection, tuning)


def screen_ids(data: ClassifierData, families: dict[str, list[str]], alpha: float) -> list[IdTest]:
    """The test of each id family (`ids <column>`: its rate and count) on the training lines."""
    ids = {fam: inputs for fam, inputs in families.items() if fam.startswith("ids ") and len(inputs) == 2}
    return [
        screen_id_family(fam, data.train_column(rate), data.train_column(count), data.y_train, alpha)
        for fam, (rate, count) in ids.items()
    ]


def chosen_config(config: TrainConfig, result: SearchResult) -> TrainConfig:
    """The configuration that trains the chosen model again without searching: the families dropped, the
    settings chosen, no budget."""
    dropped = list(config.search.drop_families)
    dropped += result.dropped
    if result.selection is not None:  # optional families not added, tried or not, stay out
        dropped += [fam for fam in result.families if fam in OPTIONAL and fam not in result.added]
    search = config.search.model_copy(update={"budget_minutes": 0.0, "drop_families": sorted(set(dropped))})
    return config.model_copy(update={"classifier": result.classifier, "search": search})
