"""The sanctions-list rule: a line whose counterparty or trader matches a listed entry (at the screening
index's match threshold) goes to the red channel, whatever the learned parts say.

Dealing with a listed party is not a pattern to be learned from past inspections but a prohibition, and
every selectivity system keeps such mandatory criteria beside its scores (a blacklist hit is a red-channel
criterion in ASYCUDA's selectivity module). The learned parts still rank the lines: a hit's risk is lifted
into the red band, to `red + (1 - red) * (1 + risk) / 2`, which is never below its own risk and keeps the
order among hits. The reason naming the match comes first. Models trained without the party features, or
with `fusion.list_hits_red` off, have no rule.

A name match is not yet an identity: an honest firm can carry a listed one's name. Screening systems keep
the matches an analyst has cleared apart ("good guys" lists); here inspections clear them. A party whose
lines were inspected `CLEARED_AFTER` times or more before the date, with a smoothed violation rate below
the prior (mostly clean), is no hit; its score still reaches the learned parts as an input.
"""

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np

from roundabout.features import FEATURES
from roundabout.models.explain import Reason
from roundabout.parties.index import DEFAULT_THRESHOLD

LIST_FEATURES = ("counterparty_list_score", "trader_list_score")
#: Per party: its inspections and smoothed violation rate before the date (what clears a name match).
_HISTORY = {
    "counterparty_list_score": ("counterparty_inspections", "counterparty_violation_rate"),
    "trader_list_score": ("trader_inspections", "trader_violation_rate"),
}
CLEARED_AFTER = 3
_TEMPLATES = {f.name: f.reason for f in FEATURES if f.name in LIST_FEATURES}
#: The reason's share of the log-odds: above any learned contribution, so it is shown first.
REASON_WEIGHT = 100.0


@dataclass(frozen=True)
class ListRule:
    """Where the list scores sit in a model's input rows, and the score that makes a hit."""

    columns: tuple[int, ...]
    names: tuple[str, ...]
    threshold: float = DEFAULT_THRESHOLD
    #: Per list column, the columns of its party's inspections and violation rate (-1: not an input).
    history: tuple[tuple[int, int], ...] = ()
    prior: float = 0.0

    @classmethod
    def for_inputs(cls, base_features: Sequence[str], enabled: bool = True, prior: float = 0.0) -> "ListRule":
        found = [(i, f) for i, f in enumerate(base_features) if f in LIST_FEATURES] if enabled else []
        where = {f: i for i, f in enumerate(base_features)}
        history = tuple((where.get(_HISTORY[f][0], -1), where.get(_HISTORY[f][1], -1)) for _, f in found)
        return cls(tuple(i for i, _ in found), tuple(f for _, f in found), DEFAULT_THRESHOLD, history, prior)

    def party_hits(self, X: np.ndarray) -> np.ndarray:
        """Per row (of a 2-D input matrix) and list column: a match not cleared by inspections."""
        out = np.zeros((len(X), len(self.columns)), dtype=bool)
        history = self.history or ((-1, -1),) * len(self.columns)
        for j, (col, (inspections, rate)) in enumerate(zip(self.columns, history, strict=True)):
            out[:, j] = np.nan_to_num(X[:, col], nan=0.0) >= self.threshold
            if inspections >= 0 and rate >= 0:
                with np.errstate(invalid="ignore"):
                    cleared = (np.nan_to_num(X[:, inspections]) >= CLEARED_AFTER) & (X[:, rate] < self.prior)
                out[:, j] &= ~cleared
        return out

    def hits(self, X: np.ndarray) -> np.ndarray:
        """Rows whose counterparty or trader is a listed party not cleared by inspections."""
        return self.party_hits(X).any(axis=1)

    @staticmethod
    def lift(risk: np.ndarray, hits: np.ndarray, red: float) -> np.ndarray:
        return np.where(hits, red + (1.0 - red) * (1.0 + risk) / 2.0, risk)

    def lift_one(self, risk: float, x: np.ndarray, red: float) -> tuple[float, bool]:
        """One row's risk after the rule, and whether it is a hit."""
        hit = bool(self.hits(x[None, :])[0])
        return (red + (1.0 - red) * (1.0 + risk) / 2.0 if hit else risk), hit

    def reason(self, x: np.ndarray) -> Reason:
        """The reason of a hit row: its hit party with the higher score (the service names the entry)."""
        hit = self.party_hits(x[None, :])[0]
        scores = [float(np.nan_to_num(x[i])) if hit[j] else -1.0 for j, i in enumerate(self.columns)]
        best = int(np.argmax(scores))
        text = _TEMPLATES[self.names[best]].format(value=scores[best])
        return Reason(self.names[best], round(scores[best], 4), REASON_WEIGHT, text)

    def first(self, x: np.ndarray, reasons: list[Reason], k: int) -> list[Reason]:
        """A hit's reasons: the list reason first, then the learned ones (none twice for one input)."""
        if k <= 0:
            return []
        top = self.reason(x)
        return [top, *(r for r in reasons if r.feature != top.feature)][:k]
