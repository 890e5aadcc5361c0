"""Serving a history through the online store as it would arrive, and comparing with the batch features."""

from collections.abc import Mapping, Sequence
from typing import Any

import numpy as np
import pandas as pd

from roundabout.data.io import CanonicalData
from roundabout.data.records import RecordValidator
from roundabout.data.validation import FormatRules
from roundabout.store import OnlineFeatures, ServiceStore


def checked(rules: FormatRules, records: Sequence[Mapping[str, Any]], extra: dict[str, str] | None = None):
    """Records checked as the API checks them (typed lines the store takes)."""
    validator = RecordValidator(rules, extra)
    return [validator.line(r) for r in records]


def read_frame(
    store: ServiceStore, features: OnlineFeatures, lines: Sequence[Mapping[str, Any]]
) -> pd.DataFrame:
    """Features of checked lines as of their dates, read together (rows by line_id, in order)."""
    with store.backend.connect() as conn:
        matrix = features.read(conn, lines)
    return pd.DataFrame(
        matrix, columns=features.names, index=pd.Index([r["line_id"] for r in lines], name="line_id")
    )


def add_lines(store: ServiceStore, features: OnlineFeatures, lines: Sequence[Mapping[str, Any]]) -> int:
    with store.transaction() as conn:
        return features.add(conn, lines)


def replay(
    store: ServiceStore,
    features: OnlineFeatures,
    data: CanonicalData,
    rules: FormatRules,
    group_lines: int = 1,
) -> pd.DataFrame:
    """Serve a history through the online path as it would arrive: in date order, outcomes once known.

    With `group_lines=1`, one call per line: each line's features read on their own before the day's lines
    are added. Otherwise as the service scores single-line calls that arrive together: groups of up to
    `group_lines` lines in date order, across days, each group through `read_then_add` in one transaction
    (a group ends where new outcomes arrive).
    """
    validator = RecordValidator(rules, data.extra_columns)
    lines = data.lines.sort_values("date", kind="stable")
    outcomes = data.inspections.sort_values("inspected_on", kind="stable").to_dict("records")
    next_outcome = 0
    rows: dict[str, np.ndarray] = {}
    group: list[Mapping[str, Any]] = []

    def score_group() -> None:
        with store.transaction() as conn:
            matrix = features.read_then_add(conn, group)
        rows.update({r["line_id"]: f for r, f in zip(group, matrix, strict=True)})
        group.clear()

    for day, day_lines in lines.groupby("date", sort=True):
        fresh = []
        while next_outcome < len(outcomes) and outcomes[next_outcome]["inspected_on"] < day:
            fresh.append(validator.outcome(outcomes[next_outcome]))
            next_outcome += 1
        if fresh and group:
            score_group()
        if fresh:
            store.add_outcomes(fresh)
        records = [validator.line(r) for r in day_lines.to_dict("records")]
        if group_lines == 1:
            with store.backend.connect() as conn:
                for record in records:
                    rows[record["line_id"]] = features.read(conn, [record])[0]
            add_lines(store, features, records)
            continue
        for record in records:
            group.append(record)
            if len(group) == group_lines:
                score_group()
    if group:
        score_group()
    frame = pd.DataFrame.from_dict(rows, orient="index", columns=features.names)
    return frame.loc[data.lines["line_id"]]


def assert_same_features(online: pd.DataFrame, batch: pd.DataFrame, rtol: float = 1e-9) -> None:
    """Every feature of every line equal (NaN == NaN; floats within `rtol` relative)."""
    assert list(online.columns) == list(batch.columns)
    a, b = online.to_numpy(dtype="float64"), batch.loc[online.index].to_numpy(dtype="float64")
    same = np.isclose(a, b, rtol=rtol, atol=0.0, equal_nan=True)
    if not same.all():
        rows, cols = np.nonzero(~same)
        shown = [
            f"{online.index[r]} {online.columns[c]}: online={a[r, c]!r} batch={b[r, c]!r}"
            for r, c in list(zip(rows, cols, strict=True))[:20]
        ]
        raise AssertionError(f"{len(rows)} feature values differ:\n" + "\n".join(shown))
