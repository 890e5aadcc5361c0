"""The console's reads on SQLite and PostgreSQL: the queue against the same figures computed in pandas, and
trade flows with a planted jump (2021's $12,000 of chips to Russia becoming $3.7 million in 2022)."""

from collections.abc import Iterator
from datetime import date

import pandas as pd
import pytest

from roundabout.console import flows, queries
from roundabout.data.io import CanonicalData
from roundabout.data.rules import FormatRules
from roundabout.simulation import SimulationConfig, simulate
from roundabout.store import ServiceStore
from roundabout.store.backfill import backfill


@pytest.fixture(params=["sqlite", pytest.param("postgres", marks=pytest.mark.postgres)])
def store(request: pytest.FixtureRequest) -> Iterator[ServiceStore]:
    url = "sqlite://" if request.param == "sqlite" else request.getfixturevalue("postgres_url")
    opened = ServiceStore.open(url)
    opened.migrate()
    yield opened
    opened.dispose()


def _planted(lines: pd.DataFrame) -> pd.DataFrame:
    """Two exports of integrated circuits to Russia: one in 2021, a jump in 2022."""
    export = lines[lines["direction"] == "export"].iloc[0]
    rows = []
    for i, (day, value) in enumerate(((date(2021, 6, 1), 12_000.0), (date(2022, 6, 1), 3_700_000.0))):
        row = export.copy()
        row["line_id"], row["document_id"] = f"PLANTED/{i}", f"PLANTED-{i}"
        row["date"], row["value_usd"], row["hs_code"] = pd.Timestamp(day), value, "8542310000"
        row["destination_country"], row["counterparty_country"] = "RU", "RU"
        rows.append(row)
    return pd.concat([lines, pd.DataFrame(rows)], ignore_index=True)


def _decide(store: ServiceStore, lines: pd.DataFrame) -> pd.DataFrame:
    """A decision per line: red above $50,000, yellow above $10,000 (the queries do not care why)."""
    value = lines["value_usd"].fillna(0.0)
    channel = pd.Series("green", index=lines.index).mask(value > 10_000, "yellow").mask(value > 50_000, "red")
    risk = (value / (value.max() or 1.0)).round(6)
    rows = [
        {"request_id": "r", "key_id": "k", "line_id": lid, "model_name": "m", "model_version": "1",
         "risk_score": float(r), "anomaly_score": 0.0, "oddness_score": None, "channel": c,
         "reasons": [{"feature": "value", "value": 1.0, "contribution": 0.5, "text": f"value of {lid}"}],
         "list_versions": None, "selection": "model", "propensity": 1.0}
        for lid, r, c in zip(lines["line_id"], risk, channel, strict=True)
    ]  # fmt: skip
    with store.transaction() as conn:
        store.decisions.record(conn, rows)
    return lines.assign(channel=channel.to_numpy(), risk_score=risk.to_numpy())


def test_the_queue_and_flows_agree_with_pandas(store: ServiceStore) -> None:
    data = simulate(SimulationConfig(n_lines=3000, seed=6))
    lines = _planted(data.lines)
    backfill(store, CanonicalData(lines, data.inspections.iloc[:0], None), FormatRules())
    decided = _decide(store, lines)

    day = decided["date"].value_counts().idxmax().date()
    mine = decided[(decided["date"] == pd.Timestamp(day)) & decided["channel"].isin(["red", "yellow"])]
    page = queries.queue(store, queries.QueueFilter(day))
    assert page.total == len(mine)
    expected = mine.sort_values(["risk_score", "line_id"], ascending=[False, True])["line_id"].head(50)
    assert [r["line_id"] for r in page.rows] == list(expected)
    assert page.rows and page.rows[0]["top_reason"] == f"value of {page.rows[0]['line_id']}"

    office = mine["customs_office"].iloc[0]
    red = queries.queue(store, queries.QueueFilter(day, ("red",), office=office, chapter="8"))
    wanted = mine[
        (mine["channel"] == "red") & (mine["customs_office"] == office) & mine["hs_code"].str.startswith("8")
    ]
    assert red.total == len(wanted) and office in red.offices

    found = flows.jumps(flows.read_flows(store))
    chips = [j for j in found if j["hs6"] == "854231" and j["year"] == "2022"]
    assert chips and chips[0]["before"] == pytest.approx(12_000) and chips[0]["now"] >= 3_700_000


def test_a_traders_year_and_a_line(store: ServiceStore) -> None:
    data = simulate(SimulationConfig(n_lines=2000, seed=8))
    backfill(store, data, FormatRules())
    busiest = data.lines["trader_id"].value_counts().idxmax()
    last = data.lines[data.lines["trader_id"] == busiest]["date"].max().date()
    rows = queries.trader_lines(store, busiest, last)
    first = pd.Timestamp(last) - pd.Timedelta(days=365)
    expected = data.lines[(data.lines["trader_id"] == busiest) & (data.lines["date"] >= first)]
    assert len(rows) == len(expected)
    line = queries.line(store, expected["line_id"].iloc[0])
    assert line is not None and line["trader_id"] == busiest
    assert queries.line(store, "NO-SUCH-LINE") is None
