"""Channels (corridors): thresholds on `risk_score` that send a configured share of traffic to red and yellow.

Thresholds are quantiles of the risk score over the most recent period of the data the model was trained
on (by default the last 90 days), so under traffic like that period's, `red_share` of lines go red
(physical inspection) and `yellow_share` go yellow (documentary check); the rest are green. Red is
score >= red threshold; yellow is red threshold > score >= yellow threshold. They are saved with the model
because they belong to its score scale: a retrained model gets new ones.
"""

from dataclasses import asdict, dataclass
from typing import Any, Self

import numpy as np

GREEN, YELLOW, RED = "green", "yellow", "red"
CHANNELS = (GREEN, YELLOW, RED)


@dataclass
class Thresholds:
    red: float
    yellow: float
    red_share: float
    yellow_share: float
    period_start: str = ""
    period_end: str = ""
    period_lines: int = 0

    @classmethod
    def from_scores(
        cls, scores: np.ndarray, red_share: float, yellow_share: float, period: tuple[str, str] = ("", "")
    ) -> Self:
        """Cut points such that `red_share` of `scores` are red and `yellow_share` yellow."""
        if not 0 < red_share < 1 or not 0 <= yellow_share < 1 - red_share:
            raise ValueError("need 0 < red_share and red_share + yellow_share < 1")
        scores = np.asarray(scores, dtype="float64")
        if len(scores) == 0:
            raise ValueError("no scores in the period to derive thresholds from")
        red = float(np.quantile(scores, 1.0 - red_share, method="higher"))
        yellow = float(np.quantile(scores, 1.0 - red_share - yellow_share, method="higher"))
        return cls(red, min(yellow, red), red_share, yellow_share, period[0], period[1], len(scores))

    def channel(self, scores: np.ndarray) -> np.ndarray:
        """Channel name of each score."""
        scores = np.asarray(scores, dtype="float64")
        return np.where(scores >= self.red, RED, np.where(scores >= self.yellow, YELLOW, GREEN)).astype(
            object
        )

    def channel_one(self, score: float) -> str:
        return RED if score >= self.red else YELLOW if score >= self.yellow else GREEN

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)

    @classmethod
    def from_dict(cls, body: dict[str, Any]) -> Self:
        return cls(**body)
