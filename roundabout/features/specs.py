"""The vocabulary of stateful features: aggregates over (entity key, day) and the queries read from them.

An `Aggregate` says which rows feed it (goods lines or inspection outcomes), the entity key (trader,
trader+HS6, declarant ...), and the per-row measures summed per (key, day). A query reads an aggregate as
seen from a line on day D, always over days strictly before D:

- `WindowSum`: sum of a measure over days D-window .. D-1 (`window=None`: all days before D);
- `LastDay`: latest day in D-lookback .. D-1 with a positive measure (NaN if none);
- `FirstDay`: earliest day before D with a positive measure (NaN if none);
- `Linked`: of those distinct values, how many had a positive measure in their own aggregate before D;
- `Distinct`: number of distinct values seen with the key on days before D (with a `window`: first seen
  with it on days D-window .. D-1; `rel` names the query whose pairs it reads, when two share them).

The in-process executor (`numpy_executor.py`) and the online executor (the service store) evaluate
exactly these specs; a query on a line whose key is missing gives NaN.
"""

from collections.abc import Callable
from dataclasses import dataclass
from typing import Literal

import numpy as np

from roundabout.features.columns import Columns

#: Per-row measures of an aggregate: (row columns, stage-0 query results of those rows) -> {measure: values}.
MeasureFn = Callable[[Columns, dict[str, np.ndarray]], dict[str, np.ndarray]]


@dataclass(frozen=True)
class Aggregate:
    """Sums of per-row measures per (key, day). Stage 1 aggregates need stage-0 query results per row."""

    name: str
    key: tuple[str, ...]
    measures: tuple[str, ...]
    contributions: MeasureFn
    source: Literal["lines", "outcomes"] = "lines"
    stage: int = 0


@dataclass(frozen=True)
class WindowSum:
    name: str
    aggregate: str
    measure: str
    window: int | None


@dataclass(frozen=True)
class LastDay:
    name: str
    aggregate: str
    measure: str
    lookback: int


@dataclass(frozen=True)
class FirstDay:
    name: str
    aggregate: str
    measure: str


@dataclass(frozen=True)
class Distinct:
    """Distinct non-missing `value`s seen together with `key` before the line's day (first seen within the
    `window` days before it, if given). `rel`: the query whose stored pairs these are (default: this one)."""

    name: str
    key: tuple[str, ...]
    value: str
    window: int | None = None
    rel: str | None = None

    @property
    def pairs(self) -> str:
        return self.rel or self.name


@dataclass(frozen=True)
class Linked:
    """Distinct values seen with the key before the line's day (the pairs of the `Distinct` query `pairs`)
    whose own aggregate `aggregate` had a positive `measure` before that day too: a trader's counterparties
    on whose lines, whoever the trader, inspections had found violations."""

    name: str
    pairs: str
    aggregate: str
    measure: str


AggregateQuery = WindowSum | LastDay | FirstDay
Query = AggregateQuery | Distinct | Linked
