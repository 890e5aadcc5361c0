"""When one ranking of the validation lines is really better than another, and not by the luck of the draw.

Selection and tuning compare many fits on a few hundred or thousand inspected lines: the best of thirty
tries beats the default by chance alone, and a family whose removal gains 0.01 of average precision on 400
lines may be pure noise (on the simulated world such a gain once dropped the unit-value family, which the
ground truth needs most). So a change is taken only when its gain in average precision exceeds `min_gain`
and `z` standard errors of the gain, estimated by a paired bootstrap: both rankings re-scored on the same
resamples of the validation lines. A small validation period thus changes little; a large one, what the
data shows.
"""

from dataclasses import dataclass

import numpy as np
from sklearn.metrics import average_precision_score

#: Bootstrap resamples of a comparison.
ROUNDS = 200


@dataclass(frozen=True)
class Gain:
    """How much better ranking `a` is than ranking `b` (average precision), and its standard error."""

    gain: float
    se: float

    def beats(self, min_gain: float, z: float) -> bool:
        return self.gain > max(min_gain, z * self.se)

    def to_dict(self) -> dict[str, float]:
        return {"gain": round(self.gain, 5), "se": round(self.se, 5)}


def average_precision(y: np.ndarray, scores: np.ndarray) -> float:
    return float(average_precision_score(y, scores))


def paired_gain(y: np.ndarray, a: np.ndarray, b: np.ndarray, seed: int = 0, rounds: int = ROUNDS) -> Gain:
    """Average precision of `a` minus that of `b` on labels `y`, with its paired-bootstrap standard error
    (resamples without both classes are skipped)."""
    y = np.asarray(y, dtype="float64")
    gain = average_precision(y, a) - average_precision(y, b)
    rng = np.random.default_rng(seed)
    draws = []
    for _ in range(rounds):
        idx = rng.integers(0, len(y), len(y))
        sample = y[idx]
        if 0 < sample.sum() < len(sample):
            draws.append(average_precision(sample, a[idx]) - average_precision(sample, b[idx]))
    se = float(np.std(draws, ddof=1)) if len(draws) > 1 else float("inf")
    return Gain(float(gain), se)
