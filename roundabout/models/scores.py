"""What scoring gives back: one line's score, a batch's scores, and the flat frame offline scoring writes."""

import json
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd

from roundabout.models.explain import Reason


@dataclass
class LineScore:
    """The score of one line. `oddness_score` is None for a model trained before the oddness detector."""

    risk_score: float
    anomaly_score: float
    channel: str
    reasons: list[Reason]
    contributions: dict[str, float]
    oddness_score: float | None = None
    #: How the channel was chosen (`model`, `exploration`, `rule`) and the chance of inspection (`policy.py`).
    selection: str = "model"
    propensity: float = 1.0
    #: The line's exploration probability: its propensity should an office-day budget leave it out.
    exploration: float = 0.0

    def to_dict(self) -> dict[str, Any]:
        return {
            "risk_score": self.risk_score,
            "anomaly_score": self.anomaly_score,
            "oddness_score": self.oddness_score,
            "channel": self.channel,
            "selection": self.selection,
            "propensity": self.propensity,
            "reasons": [r.to_dict() for r in self.reasons],
            "contributions": self.contributions,
        }


@dataclass
class BatchScores:
    """Scores of many lines; `reasons` and `contributions` only when asked to explain. `oddness_score` is
    NaN throughout for a model trained before the oddness detector."""

    risk_score: np.ndarray
    anomaly_score: np.ndarray
    channel: np.ndarray
    raw_score: np.ndarray
    oddness_score: np.ndarray
    reasons: list[list[Reason]] | None = None
    contributions: list[dict[str, float]] | None = None
    #: Per line: how its channel was chosen, and its propensity (None: every line `model`, 1.0).
    selection: np.ndarray | None = None
    propensity: np.ndarray | None = None
    exploration: np.ndarray | None = None

    def line(self, i: int) -> LineScore:
        oddness = float(self.oddness_score[i])
        return LineScore(
            float(self.risk_score[i]),
            float(self.anomaly_score[i]),
            str(self.channel[i]),
            self.reasons[i] if self.reasons is not None else [],
            self.contributions[i] if self.contributions is not None else {},
            oddness if np.isfinite(oddness) else None,
            str(self.selection[i]) if self.selection is not None else "model",
            float(self.propensity[i]) if self.propensity is not None else 1.0,
            float(self.exploration[i]) if self.exploration is not None else 0.0,
        )


def scores_frame(line_ids: np.ndarray, scores: BatchScores) -> pd.DataFrame:
    """Scores as a flat frame, one row per line: `line_id, risk_score, anomaly_score, oddness_score,
    channel, selection, propensity`, and when the scores were explained `reasons` (a JSON list of
    {feature, value, contribution, text}) and `contributions` (a JSON object {input: share of the fused
    log-odds}). JSON text, because a reason's value is a number or a level name, which no one Parquet
    column type holds; the pyfunc's `predict` returns the same shape."""
    frame = pd.DataFrame(
        {
            "line_id": pd.Series(line_ids, dtype=object).astype(str).to_numpy(dtype=object),
            "risk_score": np.asarray(scores.risk_score, dtype="float64"),
            "anomaly_score": np.asarray(scores.anomaly_score, dtype="float64"),
            "oddness_score": np.asarray(scores.oddness_score, dtype="float64"),
            "channel": pd.Series(scores.channel, dtype=object).astype(str).to_numpy(dtype=object),
            "selection": (
                pd.Series(scores.selection, dtype=object).astype(str).to_numpy(dtype=object)
                if scores.selection is not None
                else np.full(len(line_ids), "model", dtype=object)
            ),
            "propensity": (
                np.asarray(scores.propensity, dtype="float64")
                if scores.propensity is not None
                else np.ones(len(line_ids))
            ),
        }
    )
    if scores.reasons is not None:
        contributions = scores.contributions or [{} for _ in scores.reasons]
        frame["reasons"] = [json.dumps([r.to_dict() for r in rs]) for rs in scores.reasons]
        frame["contributions"] = [json.dumps(c) for c in contributions]
    return frame


class LineRecords(Sequence[Mapping[str, Any]]):
    """The lines of a frame as records, made one at a time when asked for (an explained batch reads the
    fields of its odd lines only; a million dicts up front would be most of its memory)."""

    def __init__(self, frame: pd.DataFrame) -> None:
        self.frame = frame

    def __len__(self) -> int:
        return len(self.frame)

    def __getitem__(self, i: Any) -> Any:
        if isinstance(i, slice):
            return [self[j] for j in range(*i.indices(len(self)))]
        return self.frame.iloc[i].to_dict()
