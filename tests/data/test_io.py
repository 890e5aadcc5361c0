"""A canonical data folder round-trips and is written deterministically."""

import hashlib
from pathlib import Path

import pandas as pd

from roundabout.data.io import CanonicalData, empty_frame, read_folder, write_folder
from roundabout.data.schema import INSPECTIONS_SCHEMA, LINE_COLUMNS
from roundabout.data.validation import validate_lines


def _lines() -> pd.DataFrame:
    row = {c: None for c in LINE_COLUMNS}
    row.update(
        line_id="a/1", document_id="a", document_kind="SNT", direction="export", date="2023-04-02",
        trader_id="220340012345", hs_code="0101210000", value_usd="10", net_mass_kg="1",
        destination_country="RU",
    )  # fmt: skip
    return validate_lines(pd.DataFrame([row, {**row, "line_id": "a/2", "quantity": "4"}])).valid


def test_round_trip_and_same_bytes(tmp_path: Path) -> None:
    data = CanonicalData(_lines(), empty_frame(INSPECTIONS_SCHEMA))
    write_folder(data, tmp_path / "one")
    write_folder(data, tmp_path / "two")
    back = read_folder(tmp_path / "one")
    pd.testing.assert_frame_equal(back.lines, data.lines, check_dtype=False)
    assert back.lines["hs_code"].tolist() == ["0101210000", "0101210000"]
    assert back.lines["quantity"].isna().tolist() == [True, False]
    for name in ("lines.parquet", "inspections.parquet"):
        digest = [hashlib.sha256((tmp_path / d / name).read_bytes()).hexdigest() for d in ("one", "two")]
        assert digest[0] == digest[1]


def test_reading_a_folder_without_lines_is_a_clear_error(tmp_path: Path) -> None:
    import pytest

    from roundabout.errors import NotFoundError

    with pytest.raises(NotFoundError, match=r"lines\.parquet \(or a partitioned lines/\) is missing"):
        read_folder(tmp_path)
