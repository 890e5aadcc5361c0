"""Online store: same features as the batch path, idempotent writes, clear errors on bad input."""

from datetime import date

import numpy as np
import pandas as pd
import psycopg
import pytest
import sqlalchemy as sa

from roundabout.data.validation import FormatRules
from roundabout.features import FeatureArtifacts, build_features
from roundabout.features.records import InvalidRecordError
from roundabout.features.store import FeatureStore

#: Kazakh BINs plus the one foreign id format of the random histories.
RULES = FormatRules(trader_id_pattern=r"\d{12}|FOREIGN-\d+")


def _store(url: str, data) -> FeatureStore:
    store = FeatureStore(url, FeatureArtifacts().fit(data.lines, data.inspections), rules=RULES)
    store.create_schema()
    return store


def _snapshot(store: FeatureStore) -> dict[str, list]:
    """Every row of every store table, to prove a failed write changed nothing."""
    with store.engine.connect() as conn:
        return {
            t.name: sorted(map(tuple, conn.execute(sa.select(t)).all()), key=repr)
            for t in store.schema.meta.sorted_tables
        }


def test_replay_matches_batch_sqlite(hist, tmp_path) -> None:
    data = hist.random_history(700, seed=2)
    store = _store(f"sqlite:///{tmp_path / 'store.db'}", data)
    online = hist.replay(store, data)
    hist.assert_same_features(online, build_features(data, store.artifacts))


@pytest.mark.postgres
def test_replay_matches_batch_postgres(hist, postgres_url) -> None:
    data = hist.random_history(300, seed=4)
    store = _store(postgres_url, data)
    try:
        online = hist.replay(store, data)
        hist.assert_same_features(online, build_features(data, store.artifacts))
    finally:
        store.dispose()


def test_bulk_add_then_features_equal_batch_for_later_lines(hist, tmp_path) -> None:
    """Loading history in one frame and scoring later lines gives the batch answer too."""
    data = hist.random_history(1500, seed=8)
    store = _store(f"sqlite:///{tmp_path / 's.db'}", data)
    cut = pd.Timestamp("2023-06-01")
    early = data.lines[data.lines["date"] < cut]
    assert store.add_lines(early) == len(early)  # > 256 rows: the vectorised frame path
    store.add_outcomes(data.inspections[data.inspections["inspected_on"] < cut])
    later = data.lines[data.lines["date"] == data.lines.loc[data.lines["date"] >= cut, "date"].min()]
    online = store.features_for(later)
    hist.assert_same_features(online, build_features(data, store.artifacts).loc[online.index])


def test_lines_added_out_of_date_order_give_the_batch_distinct_counts(hist, tmp_path) -> None:
    """A (key, value) pair first stored on a later day moves to its earlier day when a back-filled line
    shows it sooner: the running distinct counts then equal the batch counts."""
    data = hist.random_history(900, seed=11)
    store = _store(f"sqlite:///{tmp_path / 's.db'}", data)
    cut = pd.Timestamp("2023-03-01")
    last = data.lines["date"].max()
    history = data.lines[data.lines["date"] < last]
    store.add_lines(history[history["date"] >= cut].to_dict("records"))  # later half first, one by one
    store.add_lines(history[history["date"] < cut])  # then the earlier half as one frame
    online = store.features_for(data.lines[data.lines["date"] >= cut])  # as of each line's own date
    batch = build_features(data, store.artifacts).loc[online.index]
    names = ["trader_counterparties", "trader_counterparty_countries", "counterparty_traders"]
    assert (online[names] > 0).any().all()  # the check below compares counts, not zeros
    np.testing.assert_allclose(online[names].to_numpy(), batch[names].to_numpy())


def test_a_store_without_the_distinct_table_gets_it_filled(hist, tmp_path) -> None:
    """Stores made before the running distinct counts existed are upgraded by `create_schema`."""
    data = hist.random_history(700, seed=12)
    store = _store(f"sqlite:///{tmp_path / 's.db'}", data)
    last = data.lines["date"].max()
    store.add_lines(data.lines[data.lines["date"] < last])
    final = data.lines[data.lines["date"] == last]
    expected = store.features_for(final)
    assert (expected["counterparty_traders"] > 0).any()
    with store.engine.begin() as conn:
        conn.execute(sa.text("DROP TABLE feat_distinct"))
    store.create_schema()
    pd.testing.assert_frame_equal(store.features_for(final), expected)


def test_adding_a_line_twice_changes_nothing(hist) -> None:
    data = hist.random_history(120, seed=6)
    store = _store("sqlite://", data)
    assert store.add_lines(data.lines) == 120
    before = _snapshot(store)
    assert store.add_lines(data.lines) == 0
    assert store.add_lines(data.lines.iloc[:3].to_dict("records")) == 0
    assert _snapshot(store) == before
    assert store.add_outcomes(data.inspections) == len(data.inspections)
    after_outcomes = _snapshot(store)
    assert store.add_outcomes(data.inspections) == 0
    assert _snapshot(store) == after_outcomes


@pytest.fixture(params=["sqlite", pytest.param("postgres", marks=pytest.mark.postgres)])
def store_url(request: pytest.FixtureRequest) -> str:
    """An empty database of each kind the store runs on (PostgreSQL: one-line writes are pipelined)."""
    return "sqlite://" if request.param == "sqlite" else request.getfixturevalue("postgres_url")


def test_outcome_before_its_line_counts_once_the_line_arrives(hist, store_url) -> None:
    data = hist.data_of(
        [
            hist.line("a", date(2023, 1, 2), declarant_id="BRK"),
            hist.line("b", date(2023, 2, 1), declarant_id="BRK"),
        ],
        [("a", date(2023, 1, 10), "violation")],
    )
    store = _store(store_url, data)
    try:
        store.add_outcomes(data.inspections)
        store.add_lines([data.lines.to_dict("records")[0]])
        feats = store.features_for_line(data.lines.to_dict("records")[1])
    finally:
        store.dispose()
    assert feats["declarant_inspections"] == 1
    online = pd.DataFrame([feats], index=pd.Index(["b"], name="line_id"))
    hist.assert_same_features(online, build_features(data, store.artifacts))


@pytest.mark.postgres
def test_a_write_failing_in_the_pipeline_stores_nothing_and_the_next_line_goes_in(
    hist, postgres_url, monkeypatch
) -> None:
    """A one-line add on PostgreSQL sends its writes without waiting for each; an error in one of them
    must still roll the whole line back, and leave the pooled connection fit for the next line."""
    data = hist.random_history(40, seed=3)
    records = data.lines.sort_values("date", kind="stable").to_dict("records")
    store = _store(postgres_url, data)
    try:
        store.add_lines(records[:30])
        before = _snapshot(store)
        broken = store._statement("pairs")
        monkeypatch.setattr(broken, "sql", broken.sql.replace("first_day", "no_such_column", 1))
        with pytest.raises(psycopg.errors.UndefinedColumn):
            store.add_lines([records[30]])
        assert _snapshot(store) == before
        monkeypatch.undo()
        assert store.add_lines([records[30]]) == 1
        assert store.line_count() == 31
    finally:
        store.dispose()


def test_read_lines_gives_back_the_history(hist) -> None:
    data = hist.random_history(50, seed=9)
    store = _store("sqlite://", data)
    store.add_lines(data.lines)
    back = store.read_lines().set_index("line_id").loc[data.lines["line_id"]]
    expected = data.lines.set_index("line_id")
    for col in ("date", "trader_id", "hs_code", "destination_country"):
        assert (back[col].astype(str) == expected[col].astype(str)).all()
    assert np.allclose(back["value_usd"], expected["value_usd"])


BAD = [
    ({"value_usd": None}, "value_usd", "missing"),
    ({"net_mass_kg": -1.0, "gross_mass_kg": 5.0}, "net_mass_kg", "negative"),
    ({"transport_mode": "teleport"}, "transport_mode", "unknown value"),
    ({"destination_country": "XX"}, "destination_country", "ISO"),
    ({"hs_code": "85423100"}, "hs_code", "commodity code"),
    ({"trader_id": "12AB"}, "trader_id", "trader id"),
    ({"date": "2023-13-45"}, "date", "not a date"),
    ({"direction": None}, "direction", "missing"),
]


@pytest.mark.parametrize(("change", "field", "reason"), BAD)
def test_bad_input_names_the_field_and_leaves_the_store_unchanged(hist, change, field, reason) -> None:
    data = hist.random_history(60, seed=7)
    store = _store("sqlite://", data)
    store.add_lines(data.lines)
    before = _snapshot(store)
    good = hist.line("new-1", date(2023, 8, 1))
    bad = {**hist.line("new-2", date(2023, 8, 1)), **change}
    with pytest.raises(InvalidRecordError, match=reason) as err:
        store.add_lines([good, bad])
    assert err.value.field == field and err.value.row == 2
    assert str(err.value).startswith(field)
    with pytest.raises(InvalidRecordError) as err:
        store.features_for_line(bad)
    assert err.value.field == field
    assert _snapshot(store) == before


def test_bad_row_in_a_large_frame_rejects_the_whole_frame(hist) -> None:
    data = hist.random_history(400, seed=12)
    store = _store("sqlite://", data)
    frame = data.lines.copy()
    frame.loc[300, "quantity"] = -5.0
    with pytest.raises(InvalidRecordError, match="negative") as err:
        store.add_lines(frame)
    assert err.value.field == "quantity" and err.value.row == 301
    assert store.line_count() == 0


def test_bad_outcome_is_refused(hist) -> None:
    data = hist.random_history(20, seed=7)
    store = _store("sqlite://", data)
    with pytest.raises(InvalidRecordError) as err:
        store.add_outcomes([{"line_id": "L00001", "inspected_on": "2023-01-01", "outcome": "maybe"}])
    assert err.value.field == "outcome"


def test_features_need_artifacts() -> None:
    store = FeatureStore("sqlite://")
    store.create_schema()
    with pytest.raises(ValueError, match="artifacts"):
        store.features_for_line({})


@pytest.mark.postgres
def test_analyze_gives_postgres_statistics_of_every_table(hist, postgres_url) -> None:
    """After a bulk load the planner must know the tables' sizes, or it plans for empty ones."""
    data = hist.random_history(400, seed=5)
    store = _store(postgres_url, data)
    names = sorted(store.schema.meta.tables)
    query = sa.text(
        "SELECT relname FROM pg_stat_user_tables WHERE relname IN :names AND last_analyze IS NOT NULL"
    ).bindparams(sa.bindparam("names", expanding=True))
    try:
        store.add_lines(data.lines)
        with store.engine.connect() as conn:
            assert conn.execute(query, {"names": names}).scalars().all() == []
        store.analyze()
        with store.engine.connect() as conn:
            assert sorted(conn.execute(query, {"names": names}).scalars()) == names
    finally:
        store.dispose()


@pytest.mark.postgres
def test_many_lines_read_together_get_what_each_gets_alone(hist, postgres_url) -> None:
    """On PostgreSQL a batch's history reads go pipelined, grouped by the parts each line needs; every
    line must still get exactly the features it gets when read on its own."""
    data = hist.random_history(900, seed=12)
    lines = data.lines.sort_values("date", kind="stable")
    early, later = lines.iloc[:600], lines.iloc[600:]
    store = _store(postgres_url, data)
    try:
        store.add_lines(early)
        store.add_outcomes(data.inspections[data.inspections["line_id"].isin(set(early["line_id"]))])
        store.analyze()
        records = later.to_dict("records")
        records[0] = {**records[0], "declarant_id": None}  # a line that needs fewer parts
        together = store.features_for(records)
        store.clear_cache()
        alone = pd.DataFrame(
            [store.features_for_line(r) for r in records], index=together.index, columns=together.columns
        )
    finally:
        store.dispose()
    pd.testing.assert_frame_equal(together, alone)
    assert together["trader_lines_365d"].sum() > 0  # the reads found history
