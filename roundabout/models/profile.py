"""The reference profile: what a model's inputs, scores and channels looked like on its holdout, saved with
the model so the service can tell when what it sees has moved away from what the model was judged on.

Per input: numbers in (up to) ten quantile bins (edges and values compared in float32, the precision the
decisions keep their inputs in), level codes by their most common fitted levels (then the
other fitted levels, then level 0 = a level the model does not know), and the share missing. The risk
score in quantile bins and the channel shares. `counts(values)` bins new values the same way, so the
monitor compares like with like (`monitoring/`).
"""

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from itertools import pairwise
from typing import Any, Self

import numpy as np

#: Quantile bins of a number (fewer when values repeat, e.g. flags and counts).
NUMBER_BINS = 10
#: Most common fitted levels a category keeps as bins of its own.
TOP_LEVELS = 20
#: Inputs that count as important: those with at least this share of the classifier's gain, and the top
#: `TOP_IMPORTANT` by gain with at least `MIN_IMPORTANT_GAIN` (a model that spreads its gain thin still has
#: inputs it leans on; one a tree touched once is not among them).
IMPORTANT_GAIN = 0.02
TOP_IMPORTANT = 10
MIN_IMPORTANT_GAIN = 0.005
#: Names of the category bins after the kept levels.
OTHER, UNKNOWN, MISSING = "other known levels", "unknown level", "missing"


@dataclass(frozen=True)
class Distribution:
    """One input's (or the score's) binned distribution on the reference lines; the last bin is missing."""

    name: str
    kind: str  # "number" or "category"
    #: number: the inner bin edges, bins (-inf, e0], (e0, e1], ..., (ek, inf); category: unused
    edges: tuple[float, ...] = ()
    #: category: the level codes with a bin of their own (then "other known levels", "unknown level")
    levels: tuple[int, ...] = ()
    #: readable bin names, missing last
    labels: tuple[str, ...] = ()
    #: reference share of each bin, missing last
    shares: tuple[float, ...] = ()
    #: the input's share of the classifier's gain (0 for the score)
    importance: float = 0.0
    important: bool = False

    @property
    def missing(self) -> float:
        return self.shares[-1]

    @property
    def bins(self) -> int:
        return len(self.labels)

    def bin_index(self, values: np.ndarray) -> np.ndarray:
        """The bin of each of `values` (missing: the last bin)."""
        v = np.asarray(values, dtype="float64")
        nan = np.isnan(v)
        out = np.full(len(v), self.bins - 1, dtype=np.int64)
        if self.kind == "number":
            # in float32, as decisions store their inputs: a value on an edge stays on it
            kept = v[~nan].astype(np.float32).astype("float64")
            out[~nan] = np.searchsorted(np.asarray(self.edges), kept, side="left")
        else:
            codes = np.maximum(v[~nan].astype(np.int64), 0)
            other, unknown = len(self.levels), len(self.levels) + 1
            table = np.full(max(int(codes.max(initial=0)), *self.levels, 0) + 1, other, dtype=np.int64)
            table[list(self.levels)] = np.arange(len(self.levels))
            table[0] = unknown
            out[~nan] = table[codes]
        return out

    def counts(self, values: np.ndarray) -> np.ndarray:
        """How many of `values` fall in each bin (missing last)."""
        return np.bincount(self.bin_index(values), minlength=self.bins).astype("float64")

    def to_dict(self) -> dict[str, Any]:
        return {
            "name": self.name,
            "kind": self.kind,
            "edges": list(self.edges),
            "levels": list(self.levels),
            "labels": list(self.labels),
            "shares": list(self.shares),
            "importance": self.importance,
            "important": self.important,
        }

    @classmethod
    def from_dict(cls, body: Mapping[str, Any]) -> Self:
        return cls(
            str(body["name"]),
            str(body["kind"]),
            tuple(float(e) for e in body["edges"]),
            tuple(int(c) for c in body["levels"]),
            tuple(str(s) for s in body["labels"]),
            tuple(float(s) for s in body["shares"]),
            float(body.get("importance", 0.0)),
            bool(body.get("important", False)),
        )


def number_distribution(name: str, values: np.ndarray, importance: float = 0.0) -> Distribution:
    """Quantile bins of `values` (their distinct deciles as edges)."""
    v = np.asarray(values, dtype="float64")
    finite = v[np.isfinite(v)]
    qs = (
        np.quantile(finite, np.linspace(0, 1, NUMBER_BINS + 1)[1:-1], method="lower")
        if len(finite)
        else np.empty(0)
    )
    edges = tuple(float(e) for e in np.unique(qs.astype(np.float32)))
    labels = [f"<= {edges[0]:.4g}"] if edges else ["any"]
    labels += [f"({a:.4g}, {b:.4g}]" for a, b in pairwise(edges)]
    labels += [f"> {edges[-1]:.4g}"] if edges else []
    base = Distribution(name, "number", edges, (), (*labels, MISSING))
    return _with_shares(base, v, importance)


def category_distribution(
    name: str, codes: np.ndarray, level_names: Sequence[str], importance: float = 0.0
) -> Distribution:
    """Bins of the most common fitted levels of `codes` (1-based codes into `level_names`), the rest."""
    v = np.asarray(codes, dtype="float64")
    known = v[np.isfinite(v) & (v > 0)].astype(np.int64)
    counts = np.bincount(known, minlength=len(level_names) + 1)[1:]
    order = np.argsort(-counts, kind="stable")
    top = tuple(int(i) + 1 for i in order[:TOP_LEVELS] if counts[i] > 0)
    labels = tuple(level_names[c - 1] if c <= len(level_names) else str(c) for c in top)
    base = Distribution(name, "category", (), top, (*labels, OTHER, UNKNOWN, MISSING))
    return _with_shares(base, v, importance)


def _with_shares(base: Distribution, values: np.ndarray, importance: float) -> Distribution:
    counts = base.counts(values)
    shares = counts / max(counts.sum(), 1.0)
    important = importance >= IMPORTANT_GAIN
    return Distribution(
        base.name, base.kind, base.edges, base.levels, base.labels, tuple(map(float, shares)), importance,
        important,
    )  # fmt: skip


@dataclass(frozen=True)
class ReferenceProfile:
    """The holdout's profile of a model: its inputs, its risk score, its channel and selection shares."""

    inputs: dict[str, Distribution]
    score: Distribution
    channels: dict[str, float]
    lines: int
    period: tuple[str, str]
    selections: dict[str, float] = field(default_factory=dict)

    def to_dict(self) -> dict[str, Any]:
        return {
            "inputs": [d.to_dict() for d in self.inputs.values()],
            "score": self.score.to_dict(),
            "channels": self.channels,
            "selections": self.selections,
            "lines": self.lines,
            "period": list(self.period),
        }

    @classmethod
    def from_dict(cls, body: Mapping[str, Any]) -> Self:
        inputs = [Distribution.from_dict(d) for d in body["inputs"]]
        return cls(
            {d.name: d for d in inputs},
            Distribution.from_dict(body["score"]),
            {str(k): float(v) for k, v in body["channels"].items()},
            int(body["lines"]),
            (str(body["period"][0]), str(body["period"][1])),
            {str(k): float(v) for k, v in body.get("selections", {}).items()},
        )


def build_profile(
    X: np.ndarray,
    names: Sequence[str],
    categorical: Mapping[str, Sequence[str]],
    risk: np.ndarray,
    channels: np.ndarray,
    period: tuple[str, str],
    gain: Mapping[str, float] | None = None,
    selections: np.ndarray | None = None,
) -> ReferenceProfile:
    """The profile of reference rows `X` (columns `names`; `categorical` maps level-code inputs to their
    level names), their risk scores and channels; `gain` is each input's share of the classifier's gain."""
    gain = dict(gain or {})
    top = set(sorted(gain, key=lambda n: -gain[n])[:TOP_IMPORTANT])
    inputs: dict[str, Distribution] = {}
    for j, name in enumerate(names):
        share = float(gain.get(name, 0.0))
        if name in categorical:
            d = category_distribution(name, X[:, j], categorical[name], share)
        else:
            d = number_distribution(name, X[:, j], share)
        if name in top and not d.important and share >= MIN_IMPORTANT_GAIN:
            d = Distribution(d.name, d.kind, d.edges, d.levels, d.labels, d.shares, d.importance, True)
        inputs[name] = d
    return ReferenceProfile(
        inputs,
        number_distribution("risk_score", risk),
        _shares(channels),
        len(X),
        period,
        _shares(selections) if selections is not None else {},
    )


def _shares(values: np.ndarray) -> dict[str, float]:
    v = np.asarray(values, dtype=object)
    if not len(v):
        return {}
    levels, counts = np.unique(v.astype(str), return_counts=True)
    return {str(k): float(c) / len(v) for k, c in zip(levels, counts, strict=True)}
