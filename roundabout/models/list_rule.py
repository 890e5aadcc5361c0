"""The sanctions-list rule: a line whose counterparty or trader matches a listed entry (at the screening
index's match threshold) goes to the red channel, whatever the learned parts say.

Dealing with a listed party is not a pattern to be learned from past inspections but a prohibition, and
every selectivity system keeps such mandatory criteria beside its scores (a blacklist hit is a red-channel
criterion in ASYCUDA's selectivity module). The learned parts still rank the lines: a hit's risk is lifted
into the red band, to `red + (1 - red) * (1 + risk) / 2`, which is never below its own risk and keeps the
order among hits. The reason naming the match comes first. Models trained without the party features, or
with `fusion.list_hits_red` off, have no rule.
"""

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np

from roundabout.features import FEATURES
from roundabout.models.explain import Reason
from roundabout.parties.index import DEFAULT_THRESHOLD

LIST_FEATURES = ("counterparty_list_score", "trader_list_score")
_TEMPLATES = {f.name: f.reason for f in FEATURES if f.name in LIST_FEATURES}
#: The reason's share of the log-odds: above any learned contribution, so it is shown first.
REASON_WEIGHT = 100.0


@dataclass(frozen=True)
class ListRule:
    """Where the list scores sit in a model's input rows, and the score that makes a hit."""

    columns: tuple[int, ...]
    names: tuple[str, ...]
    threshold: float = DEFAULT_THRESHOLD

    @classmethod
    def for_inputs(cls, base_features: Sequence[str], enabled: bool = True) -> "ListRule":
        found = [(i, f) for i, f in enumerate(base_features) if f in LIST_FEATURES] if enabled else []
        return cls(tuple(i for i, _ in found), tuple(f for _, f in found))

    def hits(self, X: np.ndarray) -> np.ndarray:
        """Rows (of a 2-D input matrix) whose counterparty or trader is a listed party."""
        if not self.columns:
            return np.zeros(len(X), dtype=bool)
        with np.errstate(invalid="ignore"):
            return (np.nan_to_num(X[:, list(self.columns)], nan=0.0) >= self.threshold).any(axis=1)

    @staticmethod
    def lift(risk: np.ndarray, hits: np.ndarray, red: float) -> np.ndarray:
        return np.where(hits, red + (1.0 - red) * (1.0 + risk) / 2.0, risk)

    def lift_one(self, risk: float, x: np.ndarray, red: float) -> tuple[float, bool]:
        """One row's risk after the rule, and whether it is a hit."""
        hit = bool(self.hits(x[None, :])[0])
        return (red + (1.0 - red) * (1.0 + risk) / 2.0 if hit else risk), hit

    def reason(self, x: np.ndarray) -> Reason:
        """The reason of a hit row: the party with the higher score (the service names the entry)."""
        scores = [float(np.nan_to_num(x[i])) for i in self.columns]
        best = int(np.argmax(scores))
        text = _TEMPLATES[self.names[best]].format(value=scores[best])
        return Reason(self.names[best], round(scores[best], 4), REASON_WEIGHT, text)

    def first(self, x: np.ndarray, reasons: list[Reason], k: int) -> list[Reason]:
        """A hit's reasons: the list reason first, then the learned ones (none twice for one input)."""
        if k <= 0:
            return []
        top = self.reason(x)
        return [top, *(r for r in reasons if r.feature != top.feature)][:k]
