"""The selection policy: which lines are inspected, why, and with what probability (the propensity).

Customs states its capacity as shares of lines: red (physical inspection) and yellow (documentary check).
An exploration quota keeps part of it for lines drawn at random, whatever their score, as every
selectivity system does (ASYCUDA's random selection; the WCO BACUDA work on DATE shows that selection
that only exploits its own labels decays). Without it the model learns only from lines it chose, and a
scheme that starts after training is never inspected, so never learnt.

Each line gets
- a draw `u` in [0, 1): a keyed hash of its line id (`draws`), so a retried call gets the same channel
  and nobody without the key can tell which lines will be drawn;
- an exploration probability `e` from the strategy: `uniform` (the same for every line), `risk` (in
  proportion to the risk score: near the threshold the model is least sure) or `anomaly` (in proportion
  to the log-odds the unsupervised parts add, `b*z + d*w` of the fusion), mixed with a uniform `floor` so
  every line keeps a chance: `e = rate * (floor + (1 - floor) * weight / scale)`, capped at 1; the
  scale is set on the reference period's lines so that on traffic like it `rate` of lines are drawn;
- a selection: `rule` (the sanctions-list rule), else `exploration` if `u < e`, else `model`;
- a channel: the model's (`channels.py`), raised to the exploration channel for a drawn line;
- a propensity, the probability that the policy selects the line for inspection (red or yellow): 1 when a
  rule or the model's channel does, `e` otherwise.

The model's thresholds are cut so that the expected red and yellow counts, exploration included, meet
the stated shares (`thresholds`): the quota is part of the capacity, not on top of it.

Where the lines of a period are known together (a back-fill, the loop simulation), `fill_budget` selects
exactly a number of them the same way. Per office and day, `cap_per_office_day` applies a budget of
inspections: rule and exploration lines keep their channel (the quota is not given up on a busy day); the
model's lines fill what is left by descending risk, red then yellow, and a line past both goes green with
its exploration probability as propensity.
"""

import hashlib
import hmac
from collections.abc import Callable
from dataclasses import asdict, dataclass
from typing import Any, Self

import numpy as np
import pandas as pd

from roundabout.models.channels import GREEN, RED, YELLOW, Thresholds

STRATEGIES = ("uniform", "risk", "anomaly")
MODEL, EXPLORATION, RULE = "model", "exploration", "rule"
#: Log-odds of unsupervised evidence beyond which the anomaly strategy's weight stops growing.
_EVIDENCE_CAP = 8.0


def draw(key: bytes, line_id: str) -> float:
    """The line's uniform draw in [0, 1): HMAC-SHA256 of its id under the key, first 8 bytes."""
    digest = hmac.new(key, line_id.encode("utf-8"), hashlib.sha256).digest()
    return int.from_bytes(digest[:8], "big") / 2.0**64


def draws(key: bytes, line_ids: Any) -> np.ndarray:
    """The draws of many lines."""
    return np.fromiter((draw(key, str(i)) for i in line_ids), dtype="float64", count=len(line_ids))


@dataclass
class Selection:
    """What the policy decided for each line: channel, how it was selected, its propensity, and its
    exploration probability (its propensity should a budget leave it out)."""

    channel: np.ndarray
    selection: np.ndarray
    propensity: np.ndarray
    exploration: np.ndarray


@dataclass
class SelectionPolicy:
    """The exploration quota and strategy (saved with the model; `rate` 0 is no exploration)."""

    rate: float = 0.0
    strategy: str = "uniform"
    channel: str = RED
    floor: float = 0.25
    #: Scale of the strategy's weights, set on the reference period so `rate` of lines are drawn on average.
    weight_mean: float = 1.0

    def __post_init__(self) -> None:
        if self.strategy not in STRATEGIES:
            expected = ", ".join(STRATEGIES)
            raise ValueError(f"exploration strategy {self.strategy!r}: expected one of {expected}")
        if self.channel not in (RED, YELLOW):
            raise ValueError(f"exploration channel {self.channel!r}: expected red or yellow")
        if not 0 <= self.rate < 1 or not 0 <= self.floor <= 1:
            raise ValueError("exploration rate must be in [0, 1) and floor in [0, 1]")

    def weights(self, risk: np.ndarray, evidence: np.ndarray) -> np.ndarray:
        """The strategy's raw weight of each line (before normalising by the reference mean)."""
        if self.strategy == "risk":
            return np.asarray(risk, dtype="float64")
        if self.strategy == "anomaly":
            return np.clip(np.asarray(evidence, dtype="float64"), 0.0, _EVIDENCE_CAP)
        return np.ones(len(np.atleast_1d(risk)))

    def probabilities(self, risk: np.ndarray, evidence: np.ndarray) -> np.ndarray:
        """Each line's exploration probability `e`."""
        risk = np.atleast_1d(np.asarray(risk, dtype="float64"))
        if self.rate == 0:
            return np.zeros(len(risk))
        if self.strategy == "uniform":
            return np.full(len(risk), self.rate)
        w = self.weights(risk, np.atleast_1d(evidence)) / (self.weight_mean or 1.0)
        return np.minimum(1.0, self.rate * (self.floor + (1.0 - self.floor) * w))

    def probability_one(self, risk: float, evidence: float) -> float:
        """`probabilities` of one line, in plain Python (the single-line path)."""
        if self.rate == 0 or self.strategy == "uniform":
            return self.rate
        weight = risk if self.strategy == "risk" else min(max(evidence, 0.0), _EVIDENCE_CAP)
        return min(1.0, self.rate * (self.floor + (1.0 - self.floor) * weight / (self.weight_mean or 1.0)))

    @classmethod
    def fit(
        cls, rate: float, strategy: str, channel: str, floor: float, risk: np.ndarray, evidence: np.ndarray
    ) -> Self:
        """A policy whose strategy weights are scaled on reference lines (`risk`, `evidence`) so that their
        mean exploration probability, after the cap at 1, is `rate` (bisection on the scale)."""
        policy = cls(rate, strategy, channel, floor)
        w = policy.weights(risk, evidence) if len(risk) else np.zeros(0)
        if strategy == "uniform" or rate == 0 or not (w > 0).any():
            return policy
        lo, hi = np.log(w[w > 0].min() * 1e-3), np.log(w.max() * 1e3)
        for _ in range(60):
            policy.weight_mean = float(np.exp((lo + hi) / 2))
            if policy.probabilities(risk, evidence).mean() > rate:
                lo = np.log(policy.weight_mean)
            else:
                hi = np.log(policy.weight_mean)
        return policy

    def thresholds(
        self,
        risk: np.ndarray,
        evidence: np.ndarray,
        red_share: float,
        yellow_share: float,
        period: tuple[str, str] = ("", ""),
    ) -> Thresholds:
        """Channel thresholds such that, on the reference lines, the expected red and yellow shares with
        exploration included are `red_share` and `yellow_share`."""
        if not 0 < red_share < 1 or not 0 <= yellow_share < 1 - red_share:
            raise ValueError("need 0 < red_share and red_share + yellow_share < 1")
        risk = np.asarray(risk, dtype="float64")
        n = len(risk)
        if n == 0:
            raise ValueError("no scores in the period to derive thresholds from")
        if self.rate == 0:
            return Thresholds.from_scores(risk, red_share, yellow_share, period)
        order = np.argsort(-risk, kind="stable")
        s, e = risk[order], self.probabilities(risk, evidence)[order]
        # expected red with the top k lines red by the model: k + drawn lines below them (exploration red)
        below = np.concatenate([np.cumsum(e[::-1])[::-1], [0.0]])  # below[k] = sum of e[k:]
        k = np.arange(n + 1)
        to_red = self.channel == RED
        red_expected = k + (below if to_red else 0.0)
        k_red = int(np.searchsorted(red_expected, red_share * n, side="right")) - 1
        k_red = max(1, min(n, k_red))
        if to_red:
            # yellow band (k_red, j]: its lines not drawn
            kept = np.concatenate([[0.0], np.cumsum(1.0 - e)])
            yellow_expected = kept[k_red:] - kept[k_red]
        else:
            ones = np.arange(n + 1, dtype="float64")
            yellow_expected = (ones[k_red:] - k_red) + below[k_red:]
        k_yellow = k_red + max(0, int(np.searchsorted(yellow_expected, yellow_share * n, side="right")) - 1)
        red = float(s[k_red - 1])
        yellow = float(s[min(n, max(k_yellow, k_red)) - 1]) if k_yellow > k_red else red
        return Thresholds(red, min(yellow, red), red_share, yellow_share, period[0], period[1], n)

    def select(
        self,
        thresholds: Thresholds,
        risk: np.ndarray,
        rule: np.ndarray,
        evidence: np.ndarray,
        u: np.ndarray | None,
    ) -> Selection:
        """Channel, selection and propensity of each line; `u` its draws (None: nothing is drawn)."""
        risk = np.atleast_1d(np.asarray(risk, dtype="float64"))
        rule = np.atleast_1d(np.asarray(rule, dtype=bool))
        model = thresholds.channel(risk)
        e = self.probabilities(risk, evidence)
        drawn = (np.asarray(u) < e) & ~rule if u is not None else np.zeros(len(risk), dtype=bool)
        channel = model.copy()
        if self.channel == RED:
            channel[drawn] = RED
        else:
            channel[drawn & (model == GREEN)] = YELLOW
        selection = np.where(rule, RULE, np.where(drawn, EXPLORATION, MODEL)).astype(object)
        propensity = np.where(rule | (model != GREEN), 1.0, e)
        return Selection(channel, selection, propensity, e)

    def select_one(
        self, thresholds: Thresholds, risk: float, rule: bool, evidence: float, u: float | None
    ) -> tuple[str, str, float, float]:
        """`select` of one line, without arrays (the single-line path): channel, selection, propensity and
        exploration probability."""
        model = thresholds.channel_one(risk)
        e = self.probability_one(risk, evidence)
        if rule:
            return model, RULE, 1.0, e
        propensity = 1.0 if model != GREEN else e
        if u is None or u >= e:
            return model, MODEL, propensity, e
        if self.channel == RED:
            return RED, EXPLORATION, propensity, e
        return (YELLOW if model == GREEN else model), EXPLORATION, propensity, e

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)

    @classmethod
    def from_dict(cls, body: dict[str, Any] | None) -> Self:
        """A saved policy; a model saved before policies explores nothing."""
        return cls(**body) if body else cls()


def fill_budget(
    risk: np.ndarray,
    rule: np.ndarray,
    exploration: np.ndarray,
    u: np.ndarray,
    budget: int,
    channel: str = RED,
) -> Selection:
    """Selection of exactly `budget` inspections among lines known together (a period's, a day's): rule
    lines first, then the lines drawn for exploration (`u < exploration`), then the rest by descending risk.
    A line's propensity is 1 if the model's share would take it anyway (its risk reaches the last one
    taken), else its exploration probability."""
    risk = np.asarray(risk, dtype="float64")
    rule = np.asarray(rule, dtype=bool)
    drawn = (np.asarray(u) < exploration) & ~rule
    slots = max(0, budget - int(rule.sum()) - int(drawn.sum()))
    free = np.flatnonzero(~rule & ~drawn)
    taken = free[np.argsort(-risk[free], kind="stable")[:slots]]
    by_model = np.zeros(len(risk), dtype=bool)
    by_model[taken] = True
    edge = risk[taken].min() if len(taken) else np.inf
    chosen = rule | drawn | by_model
    out = np.where(chosen, channel, GREEN).astype(object)
    selection = np.where(rule, RULE, np.where(drawn, EXPLORATION, MODEL)).astype(object)
    exploration = np.asarray(exploration, dtype="float64")
    propensity = np.where(rule | (risk >= edge), 1.0, exploration)
    return Selection(out, selection, propensity, exploration)


def place(wanted: str, keeps: bool, room: Callable[[str], bool]) -> str:
    """The channel a line gets in an office-day budget: a line that `keeps` its place (rule, exploration)
    gets `wanted`; a model line sent red the first of red and yellow with `room`, one sent yellow yellow
    if it has room; else green."""
    if wanted == GREEN or keeps:
        return wanted
    for level in (RED, YELLOW) if wanted == RED else (YELLOW,):
        if room(level):
            return level
    return GREEN


def cap_per_office_day(
    chosen: Selection, risk: np.ndarray, office: Any, day: Any, red: int | None, yellow: int | None
) -> Selection:
    """`chosen` with at most `red` and `yellow` inspections per office and day (None: no cap), places
    taken by rule and exploration lines first, then by the model's lines by descending risk (`place`)."""
    if red is None and yellow is None:
        return chosen
    channel, propensity = chosen.channel.copy(), chosen.propensity.copy()
    offices = pd.Series(office, dtype=object).fillna("").to_numpy()
    days = np.asarray(day)
    keeps = chosen.selection != MODEL
    order = np.lexsort((-np.asarray(risk, dtype="float64"), ~keeps))
    used: dict[tuple[Any, Any, str], int] = {}
    caps = {RED: red, YELLOW: yellow}
    for i in order:
        group = (offices[i], days[i])

        def room(level: str, group: tuple[Any, Any] = group) -> bool:
            cap = caps[level]
            return cap is None or used.get((*group, level), 0) < cap

        got = place(channel[i], bool(keeps[i]), room)
        if got != GREEN:
            used[(*group, got)] = used.get((*group, got), 0) + 1
        elif channel[i] != GREEN:
            propensity[i] = chosen.exploration[i]
        channel[i] = got
    return Selection(channel, chosen.selection, propensity, chosen.exploration)
