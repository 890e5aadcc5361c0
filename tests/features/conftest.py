"""Hand-made histories for the feature tests: a few lines whose right answers are obvious."""

from collections.abc import Callable, Iterable
from datetime import date, timedelta
from types import SimpleNamespace
from typing import Any

import pandas as pd
import pytest

from roundabout.data.io import CanonicalData, empty_frame
from roundabout.data.schema import INSPECTIONS_SCHEMA, LINE_COLUMNS
from roundabout.features import FeatureArtifacts

#: A trader registered in March 2019 (BIN prefix 1903) and one registered in May 2022 (2205).
OLD_TRADER = "190340012345"
NEW_TRADER = "220540054321"

DEFAULTS: dict[str, Any] = {
    "document_kind": "DT",
    "direction": "import",
    "procedure": "40",
    "trader_id": OLD_TRADER,
    "trader_name": "Alpha LLP",
    "counterparty_name": "Acme GmbH",
    "counterparty_country": "DE",
    "declarant_id": "D1",
    "hs_code": "8542310000",
    "description": "integrated circuits",
    "origin_country": "DE",
    "dispatch_country": "DE",
    "destination_country": "KZ",
    "trading_country": "DE",
    "value_usd": 1000.0,
    "net_mass_kg": 10.0,
    "gross_mass_kg": 12.0,
    "quantity": 100.0,
    "transport_mode": "road",
    "customs_office": "55201",
    "previous_document_id": None,
}


def line(line_id: str, day: date, **fields: Any) -> dict[str, Any]:
    """One goods line with sensible defaults; SNT lines get no procedure."""
    row = {**DEFAULTS, "line_id": line_id, "document_id": f"doc-{line_id}", "date": day, **fields}
    if row["document_kind"] == "SNT" and "procedure" not in fields:
        row["procedure"] = None
    return row


def frame_of(rows: Iterable[dict[str, Any]]) -> pd.DataFrame:
    frame = pd.DataFrame(list(rows), columns=list(LINE_COLUMNS))
    frame["date"] = pd.to_datetime(frame["date"]).astype("datetime64[ns]")
    for col in ("value_usd", "net_mass_kg", "gross_mass_kg", "quantity"):
        frame[col] = frame[col].astype("float64")
    for col in LINE_COLUMNS:
        if col not in ("date", "value_usd", "net_mass_kg", "gross_mass_kg", "quantity"):
            frame[col] = frame[col].astype("str")
    return frame


def outcomes_of(rows: Iterable[tuple[str, date, str]]) -> pd.DataFrame:
    rows = list(rows)
    if not rows:
        return empty_frame(INSPECTIONS_SCHEMA)
    frame = pd.DataFrame(
        [
            {
                "line_id": lid,
                "inspected_on": d,
                "outcome": o,
                "violation_type": "x" if o == "violation" else None,
            }
            for lid, d, o in rows
        ]
    )
    frame["inspected_on"] = pd.to_datetime(frame["inspected_on"]).astype("datetime64[ns]")
    return frame.astype({"line_id": "str", "outcome": "str", "violation_type": "str"})


def data_of(rows: Iterable[dict[str, Any]], outcomes: Iterable[tuple[str, date, str]] = ()) -> CanonicalData:
    return CanonicalData(frame_of(rows), outcomes_of(outcomes))


@pytest.fixture
def fitted() -> Callable[[CanonicalData], FeatureArtifacts]:
    """Artifacts fitted on the data itself (enough for tests of history features)."""
    return lambda data: FeatureArtifacts().fit(data.lines, data.inspections, data.extra_columns)


def random_history(n: int, seed: int = 0) -> CanonicalData:
    """A small random history exercising every family: a few traders (BIN and not), CHPL and other codes,
    imports followed by RU-bound exports, transit, missing quantities and outcomes at later dates."""
    import numpy as np

    rng = np.random.default_rng(seed)
    traders = [OLD_TRADER, NEW_TRADER, "210140011111", "FOREIGN-7", "990140022222"]
    codes = ["8542310000", "8542390000", "8471500000", "8517620000", "6403990000", "8482100000"]
    countries = ["DE", "CN", "US", "TR", "AE", "JP"]
    start = date(2021, 6, 1)
    rows = []
    for i in range(n):
        day = start + timedelta(days=int(rng.integers(0, 900)))
        direction = str(rng.choice(["import", "import", "export", "transit"]))
        kind = "SNT" if direction == "export" and rng.random() < 0.5 else "DT"
        dest = str(rng.choice(["RU", "BY", "KG", "CN"])) if direction != "import" else "KZ"
        procedure = {"import": "40", "export": "10", "transit": "80"}[direction] if kind == "DT" else None
        qty = float(rng.integers(1, 500)) if rng.random() < 0.85 else None
        rows.append(
            line(
                f"L{i:05d}",
                day,
                document_kind=kind,
                direction=direction,
                procedure=procedure,
                trader_id=str(rng.choice(traders)),
                counterparty_name=str(
                    rng.choice(["Acme GmbH", "acme  gmbh", "OOO Roga", "Shenzhen Chip", None])
                ),
                counterparty_country=str(rng.choice([*countries, "RU"])),
                declarant_id=str(rng.choice(["D1", "D2", "D3"])),
                hs_code=str(rng.choice(codes)),
                description=str(
                    rng.choice(["integrated circuits", "Texas Instruments MCU", "shoes", "bearings"])
                ),
                origin_country=str(rng.choice(countries)),
                dispatch_country=str(rng.choice(countries)),
                destination_country=dest,
                trading_country=str(rng.choice(countries)),
                value_usd=float(np.exp(rng.normal(8, 1.5))),
                net_mass_kg=float(rng.integers(1, 1000)),
                gross_mass_kg=None,
                quantity=qty,
                transport_mode=str(rng.choice(["road", "rail", "air"])),
                customs_office=str(rng.choice(["55201", "55202", "39101"])),
            )
        )
    inspected = rng.choice(n, size=n // 5, replace=False)
    outcomes = []
    for i in inspected:
        row = rows[i]
        lag = int(rng.integers(0, 60))
        outcomes.append(
            (
                row["line_id"],
                row["date"] + timedelta(days=lag),
                str(rng.choice(["clean", "violation"])),
            )
        )
    return data_of(rows, outcomes)


@pytest.fixture
def hist() -> SimpleNamespace:
    """The history builders above, as one fixture (test modules cannot import conftest directly)."""
    return SimpleNamespace(
        line=line,
        data_of=data_of,
        frame_of=frame_of,
        outcomes_of=outcomes_of,
        random_history=random_history,
        replay=replay,
        assert_same_features=assert_same_features,
        OLD_TRADER=OLD_TRADER,
        NEW_TRADER=NEW_TRADER,
    )


def replay(store, data: CanonicalData, group_lines: int = 1) -> pd.DataFrame:
    """Serve a history through the online path as it would arrive: in date order, outcomes once known.

    With `group_lines=1`, one call per line: each line's features computed one by one (`features_for_line`)
    before the day's lines are added. Otherwise as the service scores single-line calls that arrive
    together: groups of up to `group_lines` lines in date order, across days, each group through
    `features_then_add` in one transaction (a group ends where new outcomes arrive).
    """
    lines = data.lines.sort_values("date", kind="stable")
    outcomes = data.inspections.sort_values("inspected_on", kind="stable")
    out_records = outcomes.to_dict("records")
    next_outcome = 0
    rows: dict[str, dict[str, float]] = {}
    group: list[dict] = []

    def score_group() -> None:
        with store.transaction() as conn:
            features = store.features_then_add(conn, store.columns([store.validate_line(r) for r in group]))
        rows.update({r["line_id"]: f for r, f in zip(group, features, strict=True)})
        group.clear()

    for day, day_lines in lines.groupby("date", sort=True):
        fresh = []
        while next_outcome < len(out_records) and out_records[next_outcome]["inspected_on"] < day:
            fresh.append(out_records[next_outcome])
            next_outcome += 1
        if fresh and group:
            score_group()
        if fresh:
            store.add_outcomes(fresh)
        records = day_lines.to_dict("records")
        if group_lines == 1:
            for record in records:
                rows[record["line_id"]] = store.features_for_line(record)
            for record in records:
                store.add_lines([record])
            continue
        for record in records:
            group.append(record)
            if len(group) == group_lines:
                score_group()
    if group:
        score_group()
    frame = pd.DataFrame.from_dict(rows, orient="index")
    return frame.loc[data.lines["line_id"]]


def assert_same_features(online: pd.DataFrame, batch: pd.DataFrame, rtol: float = 1e-9) -> None:
    """Every feature of every line equal (NaN == NaN; floats within `rtol` relative)."""
    import numpy as np

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
