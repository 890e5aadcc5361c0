"""Keeping only the input families that help, judged on the validation period.

An administration's data decides what its model should read. On a table whose declarant ids are assigned
at random, their violation rates are noise the classifier fits on the training lines and pays for on new
ones; on another, a 6-digit code or a country of departure carries signal no Kazakh red flag names. So the
selection starts from the engineered families (the red flags, the id statistics, the administration's
extra columns), then:

1. adds each *optional* family (the declaration's raw fields) that makes the validation ranking better;
2. drops each family whose removal makes it better.

A family is tried on its own first; those that help are then taken one by one, best first, each measured
again with the earlier changes made. A change counts only when it beats the current ranking by more than
`min_gain` and `z` bootstrap standard errors (`significance.py`). Within a deadline: what is not tried
stays as it is.
"""

import time
from collections.abc import Callable
from dataclasses import dataclass, field

import numpy as np

from roundabout.training.significance import Gain, average_precision, paired_gain

#: Validation scores of the classifier fitted on some inputs.
Predict = Callable[[list[str]], np.ndarray]


@dataclass
class Selection:
    """What selection kept, added and dropped, and the gains it measured."""

    kept: list[str]
    added: list[str] = field(default_factory=list)
    dropped: list[str] = field(default_factory=list)
    score_start: float = float("nan")
    score_kept: float = float("nan")
    #: The gain of adding (optional families) or removing (the others) each family tried on its own.
    tried: dict[str, Gain] = field(default_factory=dict)
    stopped: str | None = None

    def to_dict(self) -> dict[str, object]:
        return {
            "kept": self.kept,
            "added": self.added,
            "dropped": self.dropped,
            "score_start": self.score_start,
            "score_kept": self.score_kept,
            "tried": {name: gain.to_dict() for name, gain in self.tried.items()},
            "stopped": self.stopped,
        }


@dataclass
class _Search:
    families: dict[str, list[str]]
    predict: Predict
    y: np.ndarray
    deadline: float
    min_gain: float
    z: float
    seed: int

    def preds(self, kept: list[str]) -> np.ndarray:
        return self.predict([name for fam in kept for name in self.families[fam]])

    def out_of_time(self) -> bool:
        return time.monotonic() >= self.deadline

    def step(
        self, selection: Selection, current: np.ndarray, candidates: list[str], adding: bool
    ) -> np.ndarray:
        """Try each candidate family alone, then take the ones that help, best first; the ranking after."""
        verb = "add" if adding else "remove"
        alone: dict[str, tuple[Gain, np.ndarray]] = {}
        for fam in candidates:
            if self.out_of_time():
                selection.stopped = f"deadline reached before trying to {verb} {fam!r}"
                return current
            kept = [*selection.kept, fam] if adding else [f for f in selection.kept if f != fam]
            if not kept:
                continue
            preds = self.preds(kept)
            alone[fam] = (paired_gain(self.y, preds, current, self.seed), preds)
            selection.tried[fam] = alone[fam][0]
        helping = sorted(
            (fam for fam, (gain, _) in alone.items() if gain.beats(self.min_gain, self.z)),
            key=lambda fam: -alone[fam][0].gain,
        )
        for n, fam in enumerate(helping):
            kept = [*selection.kept, fam] if adding else [f for f in selection.kept if f != fam]
            if n == 0:
                preds = alone[fam][1]  # measured against this very ranking already
            elif self.out_of_time():
                selection.stopped = f"deadline reached before confirming {fam!r}"
                return current
            else:
                preds = self.preds(kept)
                if not paired_gain(self.y, preds, current, self.seed).beats(self.min_gain, self.z):
                    continue
            selection.kept = kept
            (selection.added if adding else selection.dropped).append(fam)
            current = preds
        return current


def select_families(
    families: dict[str, list[str]],
    optional: set[str],
    predict: Predict,
    y: np.ndarray,
    deadline: float,
    min_gain: float,
    z: float = 2.0,
    seed: int = 0,
) -> Selection:
    """The families worth keeping: `predict(inputs)` fits the classifier on those inputs and returns its
    scores of the validation lines (labels `y`); `deadline` is a `time.monotonic()` instant after which
    no new fit starts."""
    search = _Search(families, predict, np.asarray(y, dtype="float64"), deadline, min_gain, z, seed)
    start = [fam for fam in families if fam not in optional] or list(families)
    selection = Selection(kept=start)
    current = search.preds(start)
    selection.score_start = average_precision(search.y, current)
    current = search.step(selection, current, [fam for fam in families if fam not in start], adding=True)
    if selection.stopped is None:
        current = search.step(selection, current, list(selection.kept), adding=False)
    selection.score_kept = average_precision(search.y, current)
    return selection
