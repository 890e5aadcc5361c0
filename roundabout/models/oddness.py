"""The oddness detector: how far out in the tail of training lines a line's most unusual trait sits.

It reads a few interpretable inputs: the context surprises of a line's origin, dispatch, transport mode,
customs office, counterparty country and route for its commodity, and the robust z's of its value per kg,
value per unit, quantity per kg and gross-to-net mass ratio (both directions of each z are odd). For each
input and side it keeps the training distribution (a grid of 1,000 quantiles) and, beyond its 99th
percentile, an exponential tail fitted to the excesses over it (the peaks-over-threshold model of extreme
value statistics, with the shape fixed at 0). A line's tail probability on an input is the share of
training lines at least as extreme; past the 99th percentile it keeps falling with the fitted tail instead
of stopping at 1/n, so a value per kg 500 times the usual ranks above one 5 times it, where an empirical
CDF (ECOD, Li et al. 2022) would give both the same 1/n.

    oddness = -log10(min over inputs and sides of the tail probability)

An oddness of 2 is what one training line in a hundred reaches on its most unusual input; 6 is a
one-in-a-million trait. The input that gave the minimum is the line's oddest trait, which the reasons name
(`features/oddities.py`). Missing inputs are skipped (a line with none has oddness 0). Chosen over an
isolation forest on the same inputs and over ECOD's sum of -log tail probabilities by the oddness suite
(docs/models.md): both let one far-out trait drown among ordinary ones, and neither names the trait.
"""

from dataclasses import dataclass, field
from typing import Any, Self

import numpy as np

#: Inputs the detector reads and the sides of each that count as odd.
ODDNESS_INPUTS: dict[str, tuple[str, ...]] = {
    "origin_surprise": ("upper",),
    "dispatch_surprise": ("upper",),
    "mode_surprise": ("upper",),
    "office_surprise": ("upper",),
    "counterparty_country_surprise": ("upper",),
    "route_surprise": ("upper",),
    "uv_kg_z": ("upper", "lower"),
    "uv_unit_z": ("upper", "lower"),
    "qty_per_kg_z": ("upper", "lower"),
    "gross_net_z": ("upper", "lower"),
}
#: Training values an input needs on a side to be judged on it.
MIN_VALUES = 50
GRID = 1000
#: Up to this many rows are scored with all tails at once (`_few_rows`), more tail by tail.
_FEW_ROWS = 8
#: The tail starts here: below it the empirical distribution, above it the fitted exponential.
TAIL_QUANTILE = 0.99


@dataclass
class Tail:
    """One input's side: quantile grid, tail start and the exponential tail's mean excess."""

    input: str
    side: str
    grid: np.ndarray
    start: float
    scale: float

    def p(self, x: np.ndarray) -> np.ndarray:
        """Share of training lines at least as extreme as `x` (NaN in, 1 out)."""
        v = x if self.side == "upper" else -x
        return tail_probability(v, np.searchsorted(self.grid, v, side="left"), self.start, self.scale)

    def to_dict(self) -> dict[str, Any]:
        return {
            "input": self.input,
            "side": self.side,
            "grid": [float(g) for g in self.grid],
            "start": self.start,
            "scale": self.scale,
        }

    @classmethod
    def from_dict(cls, body: dict[str, Any]) -> Self:
        return cls(
            str(body["input"]),
            str(body["side"]),
            np.asarray(body["grid"], dtype="float64"),
            float(body["start"]),
            float(body["scale"]),
        )


def tail_probability(v: np.ndarray, below: np.ndarray, start: Any, scale: Any) -> np.ndarray:
    """The tail probability of values `v` given how many grid quantiles lie below each (`below`), and the
    tail start and scale (scalars, or arrays aligned with `v`). The exponential is taken only past the
    tail start, where a few lines in a hundred are."""
    out = np.maximum(1.0 - below / GRID, 1.0 - TAIL_QUANTILE)
    far = v > start
    if far.any():
        start_far = start[far] if np.ndim(start) else start
        scale_far = scale[far] if np.ndim(scale) else scale
        out[far] = (1.0 - TAIL_QUANTILE) * np.exp(-(v[far] - start_far) / scale_far)
    out[np.isnan(v)] = 1.0
    return out


def _tail(name: str, side: str, values: np.ndarray) -> Tail | None:
    v = values[np.isfinite(values)]
    v = v if side == "upper" else -v
    if len(v) < MIN_VALUES or v.min() == v.max():
        return None
    grid = np.quantile(v, (np.arange(GRID) + 0.5) / GRID)
    start = float(np.quantile(v, TAIL_QUANTILE))
    excess = v[v > start] - start
    spread = float(np.quantile(v, TAIL_QUANTILE) - np.quantile(v, 0.5))
    # The mean excess over the tail start; a tail of ties (nothing above it) gets a scale from the body.
    scale = float(excess.mean()) if len(excess) else 0.0
    scale = max(scale, 0.05 * spread, 1e-6)
    return Tail(name, side, grid, start, scale)


@dataclass
class OddnessDetector:
    """Per-input tail probabilities and the oddness of lines (sklearn-style: `fit`, then score)."""

    inputs: list[str] = field(default_factory=list)
    tails: list[Tail] = field(default_factory=list)
    _stacked: tuple[np.ndarray, ...] | None = field(default=None, repr=False, compare=False)

    def fit(self, X: np.ndarray, names: list[str]) -> Self:
        """Learn each input's distribution from training rows; `names` are X's columns."""
        X = np.asarray(X, dtype="float64")
        self.inputs = list(names)
        self.tails = []
        self._stacked = None
        for j, name in enumerate(names):
            for side in ODDNESS_INPUTS.get(name, ()):
                tail = _tail(name, side, X[:, j])
                if tail is not None:
                    self.tails.append(tail)
        return self

    def tail_p(self, X: np.ndarray) -> np.ndarray:
        """Tail probability of each row on each fitted (input, side): shape (rows, tails)."""
        X = np.atleast_2d(np.asarray(X, dtype="float64"))
        if not self.tails:
            return np.ones((len(X), 0))
        if len(X) <= _FEW_ROWS:
            return self._few_rows(X)
        column = {name: j for j, name in enumerate(self.inputs)}
        return np.column_stack([t.p(X[:, column[t.input]]) for t in self.tails])

    def _few_rows(self, X: np.ndarray) -> np.ndarray:
        """`tail_p` of a few rows with all tails at once (a serving call: one row): the same counts of grid
        quantiles below each value as `searchsorted` gives, by one comparison of the stacked grids."""
        if self._stacked is None:
            column = {name: j for j, name in enumerate(self.inputs)}
            self._stacked = (
                np.array([column[t.input] for t in self.tails]),
                np.array([1.0 if t.side == "upper" else -1.0 for t in self.tails]),
                np.stack([t.grid for t in self.tails]),
                np.array([t.start for t in self.tails]),
                np.array([t.scale for t in self.tails]),
            )
        cols, sign, grids, start, scale = self._stacked
        out = np.empty((len(X), len(self.tails)))
        for i, row in enumerate(X):
            v = row[cols] * sign
            below = (grids < v[:, None]).sum(axis=1)
            out[i] = tail_probability(v, below, start, scale)
        return out

    def score(self, X: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """Oddness of each row and the index of its oddest tail (-1 when no input was odd at all)."""
        X = np.atleast_2d(np.asarray(X, dtype="float64"))
        if not self.tails:
            return np.zeros(len(X)), np.full(len(X), -1)
        if len(X) <= _FEW_ROWS:
            p = self._few_rows(X)
            oddest = np.argmin(p, axis=1)
            smallest = p[np.arange(len(p)), oddest]
            oddest = np.where(smallest < 1.0, oddest, -1)
        else:  # tail by tail, keeping the running minimum (no rows x tails matrix)
            column = {name: j for j, name in enumerate(self.inputs)}
            smallest, oddest = np.ones(len(X)), np.full(len(X), -1)
            for j, tail in enumerate(self.tails):
                p = tail.p(X[:, column[tail.input]])
                lower = p < smallest
                smallest[lower], oddest[lower] = p[lower], j
        return -np.log10(np.maximum(smallest, 1e-300)), oddest

    def oddest_input(self, index: int) -> tuple[str, str] | None:
        """(input, side) of a tail index as `score` gives it."""
        return None if index < 0 else (self.tails[index].input, self.tails[index].side)

    def to_dict(self) -> dict[str, Any]:
        return {"inputs": self.inputs, "tails": [t.to_dict() for t in self.tails]}

    @classmethod
    def from_dict(cls, body: dict[str, Any]) -> Self:
        return cls(list(body["inputs"]), [Tail.from_dict(t) for t in body["tails"]])
