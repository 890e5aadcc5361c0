"""Whether an id's earlier record tells anything about its later lines: the test an id family must pass.

An id column (importer, declarant, seller, commodity code) reaches the classifier as its violation rate and
inspection count on earlier training lines (`models/target_stats.py`). Where the ids carry the schemes'
actors, a line's earlier rate predicts its label; where they are assigned at random (a broker drawn per
declaration), the rate is noise the classifier still finds splits in, and the validation comparison of
`selection.py` cannot tell a useless family from a weak one on a few hundred violations. So before any fit
each id family is tested on the training lines themselves: its time-ordered out-of-fold rate must rank the
violations above the clean lines (one-sided Mann-Whitney), or its count must set them apart (two-sided),
beyond chance at level `alpha` (Bonferroni over the two). Lines of the first time block, which have no
earlier record, are left out. A family that fails is dropped before selection starts, and reported with
its p-value.
"""

from dataclasses import dataclass

import numpy as np
from scipy.stats import mannwhitneyu

#: The lines a test needs on each side (violations, clean lines) to say anything.
MIN_LINES = 5


@dataclass(frozen=True)
class IdTest:
    """The screening of one id family: the p-values of its rate and count, and the verdict."""

    family: str
    lines: int
    violations: int
    p_rate: float
    p_count: float
    alpha: float

    @property
    def p_value(self) -> float:
        """The family's p-value: the smaller of its two tests, Bonferroni-corrected."""
        return min(1.0, 2 * min(self.p_rate, self.p_count))

    @property
    def carries_signal(self) -> bool:
        return self.alpha >= 1 or self.p_value < self.alpha

    def to_dict(self) -> dict[str, object]:
        return {
            "lines": self.lines,
            "violations": self.violations,
            "p_rate": round(self.p_rate, 6),
            "p_count": round(self.p_count, 6),
            "p_value": round(self.p_value, 6),
            "kept": self.carries_signal,
        }


def screen_id_family(family: str, rate: np.ndarray, count: np.ndarray, y: np.ndarray, alpha: float) -> IdTest:
    """Test one id family from its out-of-fold `rate` and `count` on the training lines (labels `y`;
    lines without statistics are NaN and left out). Too few lines on a side: the family is kept
    (p-values 0), since nothing can be said against it."""
    y = np.asarray(y, dtype="float64")
    known = ~(np.isnan(rate) | np.isnan(count))
    pos, neg = known & (y == 1), known & (y == 0)
    if pos.sum() < MIN_LINES or neg.sum() < MIN_LINES:
        return IdTest(family, int(known.sum()), int(pos.sum()), 0.0, 0.0, alpha)
    p_rate = _p(rate[pos], rate[neg], "greater")
    p_count = _p(count[pos], count[neg], "two-sided")
    return IdTest(family, int(known.sum()), int(pos.sum()), p_rate, p_count, alpha)


def _p(violations: np.ndarray, clean: np.ndarray, alternative: str) -> float:
    """Mann-Whitney p-value; a column constant across both sides tells nothing (1)."""
    if np.ptp(np.concatenate([violations, clean])) == 0:
        return 1.0
    return float(mannwhitneyu(violations, clean, alternative=alternative).pvalue)
