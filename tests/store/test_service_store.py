"""The online store gives the batch features, writes idempotently, and a failed write stores nothing."""

from datetime import date

import pandas as pd
import psycopg
import pytest
import sqlalchemy as sa

from roundabout.data.io import CanonicalData
from roundabout.data.validation import validate_inspections
from roundabout.errors import ConflictError
from roundabout.features import build_features
from roundabout.store.backfill import BackfillResult, backfill, outcome_records
from tests.store.conftest import snapshot
from tests.support.histories import RULES, data_of, line, random_history
from tests.support.replay import add_lines, assert_same_features, checked, read_frame, replay


def test_replay_matches_batch(opened, store_url) -> None:
    data = random_history(700 if store_url.startswith("sqlite") else 300, seed=2)
    store, features = opened(store_url, data)
    online = replay(store, features, data, RULES)
    assert_same_features(online, build_features(data, features.artifacts))


def test_bulk_load_then_features_equal_batch_for_later_lines(opened) -> None:
    """Loading history as frames (the set-wise writes) and reading later lines gives the batch answer."""
    data = random_history(1500, seed=8)
    store, features = opened("sqlite://", data)
    cut = pd.Timestamp("2023-06-01")
    early = data.lines[data.lines["date"] < cut]
    before = CanonicalData(early, data.inspections[data.inspections["inspected_on"] < cut])
    assert backfill(store, before, RULES).lines_new == len(early)  # chunks of > 256 lines: set-wise
    later = data.lines[data.lines["date"] == data.lines.loc[data.lines["date"] >= cut, "date"].min()]
    online = read_frame(store, features, checked(RULES, later.to_dict("records")))
    assert_same_features(online, build_features(data, features.artifacts).loc[online.index])


def test_lines_added_out_of_date_order_give_the_batch_distinct_counts(opened) -> None:
    """A (key, value) pair first stored on a later day moves to its earlier day when a back-filled line
    shows it sooner: the running distinct counts then equal the batch counts."""
    data = random_history(900, seed=11)
    store, features = opened("sqlite://", data)
    cut = pd.Timestamp("2023-03-01")
    history = data.lines[data.lines["date"] < data.lines["date"].max()]
    for record in checked(RULES, history[history["date"] >= cut].to_dict("records")):
        add_lines(store, features, [record])  # the later half first, line by line
    # then the earlier half as frames
    backfill(store, CanonicalData(history[history["date"] < cut], data.inspections.iloc[:0]), RULES)
    later = data.lines[data.lines["date"] >= cut]
    online = read_frame(store, features, checked(RULES, later.to_dict("records")))
    batch = build_features(data, features.artifacts).loc[online.index]
    names = ["trader_counterparties", "trader_counterparty_countries", "counterparty_traders"]
    assert (online[names] > 0).any().all()  # the check below compares counts, not zeros
    assert (online[names].to_numpy() == batch[names].to_numpy()).all()


def test_adding_a_line_twice_changes_nothing(opened) -> None:
    data = random_history(120, seed=6)
    store, features = opened("sqlite://", data)
    assert backfill(store, data, RULES).lines_new == 120
    before = snapshot(store)
    assert backfill(store, data, RULES) == BackfillResult(120, 0, 0, len(data.inspections))
    assert add_lines(store, features, checked(RULES, data.lines.iloc[:3].to_dict("records"))) == 0
    assert snapshot(store) == before


def test_an_outcome_sent_twice_counts_once(opened) -> None:
    data = random_history(60, seed=6)
    store, features = opened("sqlite://", data)
    add_lines(store, features, checked(RULES, data.lines.to_dict("records")))
    outcomes = outcome_records(validate_inspections(data.inspections, RULES).valid)
    assert store.add_outcomes(outcomes) == len(outcomes)
    after = snapshot(store)
    assert store.add_outcomes(outcomes) == 0
    assert snapshot(store) == after


def test_outcome_before_its_line_counts_once_the_line_arrives(opened, store_url) -> None:
    data = data_of(
        [line("a", date(2023, 1, 2), declarant_id="BRK"), line("b", date(2023, 2, 1), declarant_id="BRK")],
        [("a", date(2023, 1, 10), "violation")],
    )
    store, features = opened(store_url, data)
    store.add_outcomes([{"line_id": "a", "inspected_on": date(2023, 1, 10), "outcome": "violation",
                         "violation_type": "x"}])  # fmt: skip
    first, second = checked(RULES, data.lines.to_dict("records"))
    add_lines(store, features, [first])
    online = read_frame(store, features, [second])
    assert online.loc["b", "declarant_inspections"] == 1
    assert_same_features(online, build_features(data, features.artifacts))


@pytest.mark.postgres
def test_a_write_failing_in_the_pipeline_stores_nothing_and_the_next_line_goes_in(
    opened, postgres_url, monkeypatch
) -> None:
    """A one-line add on PostgreSQL sends its writes without waiting for each; an error in one of them
    must still roll the whole line back, and leave the pooled connection fit for the next line."""
    data = random_history(40, seed=3)
    records = checked(RULES, data.lines.sort_values("date", kind="stable").to_dict("records"))
    store, features = opened(postgres_url, data)
    add_lines(store, features, records[:30])
    before = snapshot(store)
    broken = store.writer.upserts.statement("pairs")
    monkeypatch.setattr(broken, "sql", broken.sql.replace("first_day", "no_such_column", 1))
    with pytest.raises(psycopg.errors.UndefinedColumn):
        add_lines(store, features, [records[30]])
    assert snapshot(store) == before
    monkeypatch.undo()
    assert add_lines(store, features, [records[30]]) == 1
    assert store.exporter.line_count() == 31


def test_the_exporter_gives_back_the_history(opened) -> None:
    data = random_history(50, seed=9)
    store, _ = opened("sqlite://", data)
    backfill(store, data, RULES)
    back = store.exporter.canonical()
    assert len(back.inspections) == len(data.inspections)
    lines = back.lines.set_index("line_id").loc[data.lines["line_id"]]
    expected = data.lines.set_index("line_id")
    for col in ("date", "trader_id", "hs_code", "destination_country"):
        assert (lines[col].astype(str) == expected[col].astype(str)).all()
    pd.testing.assert_series_equal(lines["value_usd"], expected["value_usd"], check_dtype=False)
    first = data.lines.set_index("line_id").loc["L00001", "date"].date()
    assert store.exporter.line_dates(["L00001", "nope"]) == {"L00001": first}


@pytest.mark.postgres
def test_analyze_gives_postgres_statistics_of_every_table(opened, postgres_url) -> None:
    """After a bulk load the planner must know the tables' sizes, or it plans for empty ones."""
    data = random_history(400, seed=5)
    store, features = opened(postgres_url, data)
    names = sorted(store.tables.names)
    query = sa.text(
        "SELECT relname FROM pg_stat_user_tables WHERE relname IN :names AND last_analyze IS NOT NULL"
    ).bindparams(sa.bindparam("names", expanding=True))
    add_lines(store, features, checked(RULES, data.lines.to_dict("records")))
    with store.backend.connect() as conn:
        assert conn.execute(query, {"names": names}).scalars().all() == []
    store.analyze()
    with store.backend.connect() as conn:
        assert sorted(conn.execute(query, {"names": names}).scalars()) == names


@pytest.mark.postgres
def test_many_lines_read_together_get_what_each_gets_alone(opened, postgres_url) -> None:
    """On PostgreSQL a batch's history reads go pipelined, grouped by the parts each line needs; every
    line must still get exactly the features it gets when read on its own."""
    data = random_history(900, seed=12)
    lines = data.lines.sort_values("date", kind="stable")
    store, features = opened(postgres_url, data)
    early = lines.iloc[:600]
    backfill(
        store,
        CanonicalData(early, data.inspections[data.inspections["line_id"].isin(early["line_id"])]),
        RULES,
    )
    records = checked(RULES, lines.iloc[600:].to_dict("records"))
    records[0] = {**records[0], "declarant_id": None}  # a line that needs fewer parts
    together = read_frame(store, features, records)
    alone = pd.concat([read_frame(store, features, [r]) for r in records])
    pd.testing.assert_frame_equal(together, alone)
    assert together["trader_lines_365d"].sum() > 0  # the reads found history


def test_a_backfill_whose_outcome_differs_from_the_stored_one_is_refused(opened) -> None:
    """A folder loaded again with an inspection's result changed: refused naming the line, nothing stored."""
    data = random_history(200, seed=9)
    store, _ = opened("sqlite://", data)
    backfill(store, data, RULES)
    before = snapshot(store)
    changed = data.inspections.copy()
    first = changed["line_id"].iloc[0]
    flipped = {"violation": "clean", "clean": "violation"}[changed["outcome"].iloc[0]]
    changed.loc[changed.index[0], ["outcome", "violation_type"]] = [
        flipped,
        "x" if flipped == "violation" else None,
    ]
    with pytest.raises(ConflictError, match=f"{first!r}"):
        backfill(store, CanonicalData(data.lines, changed), RULES)
    assert snapshot(store) == before


@pytest.mark.parametrize("store_url", ["sqlite://", pytest.param("postgres", marks=pytest.mark.postgres)])
def test_exported_outcomes_take_selection_and_propensity_from_the_lines_decision(
    opened, store_url, request
) -> None:
    """An outcome fed back to the service carries no propensity: the export joins its line's latest decision;
    an outcome loaded with its own (a simulated or recorded history) keeps it."""
    url = request.getfixturevalue("postgres_url") if store_url == "postgres" else store_url
    data = random_history(30, seed=4)
    first_ids = data.lines["line_id"].iloc[:3].tolist()
    own = data.inspections[~data.inspections["line_id"].isin(first_ids)].assign(
        selection="rule", propensity=0.25
    )
    store, _ = opened(url, data)
    backfill(store, CanonicalData(data.lines, own), RULES)
    decision = {
        "request_id": "r", "key_id": "k", "model_name": "m", "risk_score": 0.1, "anomaly_score": 0.5,
        "oddness_score": None, "channel": "red", "reasons": [], "list_versions": {},
    }  # fmt: skip
    with store.transaction() as conn:
        store.decisions.record(
            conn,
            [
                {**decision, "line_id": first_ids[0], "model_version": "1", "selection": "model",
                 "propensity": 1.0},
                {**decision, "line_id": first_ids[0], "model_version": "2", "selection": "exploration",
                 "propensity": 0.02},
            ],
        )  # fmt: skip
    store.add_outcomes(
        [
            {
                "line_id": first_ids[0],
                "inspected_on": date(2024, 12, 1),
                "outcome": "clean",
                "violation_type": None,
            }
        ]
    )
    back = store.exporter.outcomes().set_index("line_id")
    assert back.loc[first_ids[0], "selection"] == "exploration"  # the latest decision's
    assert back.loc[first_ids[0], "propensity"] == pytest.approx(0.02)
    kept = own["line_id"].iloc[0]
    assert back.loc[kept, "selection"] == "rule" and back.loc[kept, "propensity"] == pytest.approx(0.25)
