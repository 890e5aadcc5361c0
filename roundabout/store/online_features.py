"""The features of incoming lines from the store, for one model version's fitted artifacts.

The same definitions as the batch build (`features.build`): the stateless families from the line itself,
the history families from the store's aggregates (`HistoryReader`, the online executor of the history
specs) through the one `history.finalize`. A line sees only what is dated strictly before it. The result
is a float matrix, one row per line, columns in `names` order: what the model takes.
"""

from collections.abc import Callable, Mapping, Sequence
from typing import Any

import numpy as np
from sqlalchemy.engine import Connection

from roundabout.features.artifacts import PRIOR_WEIGHT, FeatureArtifacts
from roundabout.features.build import extra_features, feature_names, stateless_features
from roundabout.features.columns import Columns, columns_from_records
from roundabout.features.history import finalize
from roundabout.features.parties import party_columns
from roundabout.parties.index import ScreeningIndex
from roundabout.store.reader import HistoryReader
from roundabout.store.writer import AggregateWriter

#: The default screening of a call: the index `screening()` gives at that moment.
FOLLOW = object()

#: A checked goods line, as the record validator gives it (dates as `date`, numbers as float, None missing).
Line = Mapping[str, Any]


class OnlineFeatures:
    """Reads the features of checked lines from the store, and adds lines to it, for one set of artifacts."""

    def __init__(
        self,
        reader: HistoryReader,
        writer: AggregateWriter,
        artifacts: FeatureArtifacts,
        names: list[str] | None = None,
        screening: Callable[[], ScreeningIndex | None] | None = None,
    ) -> None:
        self.reader = reader
        self.screening = screening or (lambda: None)
        self.writer = writer
        self.artifacts = artifacts
        self.extra_columns = artifacts.extra_columns
        every = feature_names(artifacts)
        self.names = list(names) if names is not None else every
        unknown = [name for name in self.names if name not in set(every)]
        if unknown:
            raise KeyError(f"no feature definition computes {', '.join(unknown[:5])}")

    def columns(self, lines: Sequence[Line], index: object = FOLLOW) -> Columns:
        """The column arrays every feature definition reads, built once per call, with the parties screened
        against `index` (default: the lists followed now, `screening()`)."""
        cols = columns_from_records(lines, self.extra_columns)
        chosen = self.screening() if index is FOLLOW else index
        assert chosen is None or isinstance(chosen, ScreeningIndex)
        cols.update(party_columns(cols, chosen))
        return cols

    def _matrix(
        self, conn: Connection, cols: Columns, after_each: Callable[[int], None] | None = None
    ) -> np.ndarray:
        feats = stateless_features(cols, self.artifacts)
        results = self.reader.results(conn, cols, after_each)
        feats.update(finalize(cols, results, self.artifacts.prior_violation_rate, PRIOR_WEIGHT))
        feats.update(extra_features(cols, self.artifacts))
        out = np.empty((len(cols["day"]), len(self.names)))
        for j, name in enumerate(self.names):
            out[:, j] = feats[name]
        return out

    def read(self, conn: Connection, lines: Sequence[Line], index: object = FOLLOW) -> np.ndarray:
        """Features of lines as of each line's date, read together; the store is not changed."""
        return self._matrix(conn, self.columns(lines, index))

    def read_then_add(self, conn: Connection, lines: Sequence[Line], index: object = FOLLOW) -> np.ndarray:
        """Features of lines taken one after the other, in the caller's transaction: each line's history is
        read as of its date, then the line is added, so each sees the lines before it exactly as separate
        calls would. The features that need no history are computed for all the lines at once."""
        cols = self.columns(lines, index)

        def add(i: int) -> None:
            self.writer.add_lines(
                conn, {name: values[i : i + 1] for name, values in cols.items()}, self.extra_columns
            )

        return self._matrix(conn, cols, after_each=add)

    def add(self, conn: Connection, lines: Sequence[Line], index: object = FOLLOW) -> int:
        """Add lines (distinct ids) in the caller's transaction; how many were new."""
        if not lines:
            return 0
        return self.writer.add_lines(conn, self.columns(lines, index), self.extra_columns)
