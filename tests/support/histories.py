"""Hand-made histories for the tests: a few lines whose right answers are obvious, and small random
histories that exercise every feature family."""

from collections.abc import Iterable
from datetime import date, timedelta
from typing import Any

import numpy as np
import pandas as pd

from roundabout.data.io import CanonicalData, empty_frame
from roundabout.data.schema import INSPECTIONS_SCHEMA, LINE_COLUMNS
from roundabout.data.validation import FormatRules

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


def random_history(n: int, seed: int = 0) -> CanonicalData:
    """A small random history exercising every family: a few traders (BIN and not), CHPL and other codes,
    imports followed by RU-bound exports, transit, missing quantities and outcomes at later dates."""
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


#: Format rules of the random histories: Kazakh BINs plus their one foreign trader id format.
RULES = FormatRules(trader_id_pattern=r"\d{12}|FOREIGN-\d+")
