"""Folders stacked into one history, and a held-out folder placed beside its history without its labels."""

from datetime import date
from pathlib import Path

import pandas as pd
import pytest

from roundabout.data.history import beside_history, read_history, stack
from roundabout.data.io import INSPECTIONS_SCHEMA, TRUTH_SCHEMA, CanonicalData, empty_frame, write_folder
from roundabout.errors import ConfigError, NotFoundError
from tests.support.histories import frame_of, line


def _folder(
    ids: list[str], day: date, outcomes: int = 0, extra: dict[str, str] | None = None
) -> CanonicalData:
    lines = frame_of([line(i, day) for i in ids])
    for name in extra or {}:
        lines[name] = "x"
    inspections = pd.DataFrame(
        {
            "line_id": ids[:outcomes],
            "inspected_on": pd.Series([pd.Timestamp(day)] * outcomes, dtype="datetime64[ns]"),
            "outcome": ["violation"] * outcomes,
            "violation_type": [None] * outcomes,
        }
    )
    inspections = pd.concat([empty_frame(INSPECTIONS_SCHEMA), inspections], ignore_index=True)
    return CanonicalData(lines, inspections, None, dict(extra or {}))


def test_folders_stack_in_order() -> None:
    data = stack(
        [_folder(["a", "b"], date(2023, 1, 1), 1), _folder(["c"], date(2023, 2, 1), 1)], ["1", "2"], "x"
    )
    assert data.lines["line_id"].tolist() == ["a", "b", "c"]
    assert data.inspections["line_id"].tolist() == ["a", "c"] and data.truth is None


@pytest.mark.parametrize(
    ("second", "message"),
    [
        (_folder(["c", "a"], date(2023, 2, 1)), "history: line_id 'a' is in both first and second"),
        (
            _folder(["c"], date(2023, 2, 1), extra={"tax_rate": "numeric"}),
            "history: first and second declare different extra columns (none vs tax_rate)",
        ),
    ],
)
def test_folders_that_do_not_stack_are_named(second: CanonicalData, message: str) -> None:
    with pytest.raises(ConfigError) as err:
        stack([_folder(["a", "b"], date(2023, 1, 1)), second], ["first", "second"], "history")
    assert err.value.message.startswith(message)


def test_a_held_out_folder_beside_its_history_loses_its_own_outcomes() -> None:
    history = _folder(["a", "b"], date(2023, 1, 1), outcomes=2)
    held_out = _folder(["c", "d"], date(2023, 2, 1), outcomes=1)
    held_out.truth = empty_frame(TRUTH_SCHEMA)
    beside = beside_history(held_out, history)
    assert beside.data.lines["line_id"].tolist() == ["a", "b", "c", "d"]
    assert beside.target.tolist() == [False, False, True, True]
    assert beside.data.inspections["line_id"].tolist() == ["a", "b"]
    assert beside.data.truth is None
    with pytest.raises(ConfigError, match="line_id 'b' is in both --history and --data"):
        beside_history(_folder(["b"], date(2023, 2, 1)), history)


def test_history_folders_are_read_and_named(tmp_path: Path) -> None:
    write_folder(_folder(["a"], date(2023, 1, 1), 1), tmp_path / "h1")
    write_folder(_folder(["a"], date(2023, 2, 1)), tmp_path / "h2")
    with pytest.raises(ConfigError, match=f"--history: line_id 'a' is in both {tmp_path / 'h1'} and"):
        read_history([tmp_path / "h1", tmp_path / "h2"])
    with pytest.raises(NotFoundError, match="is not a canonical data folder"):
        read_history([tmp_path / "h1", tmp_path / "nope"])
