"""Parties family: list match scores as of the line's date, the distance to a listed party in the trade
graph, new traders of a counterparty, what inspections found on a counterparty's lines; and the same
values online, from the store."""

from datetime import date, timedelta

import numpy as np
import pytest

from roundabout.data.validation import FormatRules
from roundabout.features import build_features
from roundabout.features.artifacts import PRIOR_WEIGHT
from roundabout.parties.entries import ListEntry
from roundabout.parties.index import ListVersion, LoadedList, ScreeningIndex
from roundabout.store import ServiceStore
from tests.support.replay import assert_same_features, replay

D0 = date(2023, 5, 1)
LISTED_ON = D0 + timedelta(days=10)
ENTRIES = [
    ListEntry("S1", "ООО «Электроника Плюс»", ("OOO Elektronika Plyus",), programmes=("RUSSIA-EO14024",),
              countries=("RU",), listed_on=LISTED_ON),
    ListEntry("S2", "ТОО «Каспий Тех»", ("TOO Kaspiy Tekh",), programmes=("RUSSIA-EO14071",),
              countries=("KZ",)),
]  # fmt: skip
LISTED_TRADER = "210140099999"


@pytest.fixture(scope="module")
def index() -> ScreeningIndex:
    return ScreeningIndex.build([LoadedList(ListVersion("ofac", 1), ENTRIES)])


def _history(hist):
    day = lambda n: D0 + timedelta(days=n)  # noqa: E731
    rows = [
        # A ships to the listed buyer before it is listed (day 5), then after (day 20)
        hist.line("a-early", day(5), trader_id="210140010001", counterparty_name="Elektronika Plus LLC",
                  counterparty_country="RU", direction="export", destination_country="RU"),
        hist.line("a-late", day(20), trader_id="210140010001", counterparty_name="Elektronika Plus LLC",
                  counterparty_country="RU", direction="export", destination_country="RU"),
        hist.line("a-later", day(30), trader_id="210140010001", counterparty_name="Acme GmbH"),
        # the listed Kazakh trader deals with Beta Trading FZE; B then buys from Beta too
        hist.line("listed", day(12), trader_id=LISTED_TRADER, trader_name="Kaspiy Tekh LLP",
                  counterparty_name="Beta Trading FZE", counterparty_country="AE"),
        hist.line("b", day(25), trader_id="210140020001", counterparty_name="Beta Trading FZE",
                  counterparty_country="AE"),
        hist.line("c", day(26), trader_id="210140030001", counterparty_name="Gamma Ltd"),
        # inspections of Beta's lines, any trader
        hist.line("beta-1", day(1), trader_id="210140040001", counterparty_name="Beta Trading FZE"),
        hist.line("beta-2", day(2), trader_id="210140050001", counterparty_name="beta trading fze"),
        hist.line("beta-3", day(200), trader_id="210140060001", counterparty_name="Beta Trading FZE"),
        # D again: before Beta's violation was found (day 3), and after
        hist.line("d-2", day(2), trader_id="210140040001", counterparty_name="Acme GmbH"),
        hist.line("d-50", day(50), trader_id="210140040001", counterparty_name="Acme GmbH"),
    ]  # fmt: skip
    outcomes = [("beta-1", day(3), "violation"), ("beta-2", day(4), "clean")]
    return hist.data_of(rows, outcomes)


def test_list_scores_count_only_entries_listed_by_the_date(hist, fitted, index) -> None:
    data = _history(hist)
    f = build_features(data, fitted(data), screening=index)
    assert f.loc["a-early", "counterparty_list_score"] == 0.0  # resembles S1, listed only on day 10
    assert f.loc["a-late", "counterparty_list_score"] >= index.threshold
    assert f.loc["a-late", "listed_party_russia"] == 1.0
    assert f.loc["listed", "trader_list_score"] >= index.threshold  # undated entry: always counts
    assert f.loc["c", "counterparty_list_score"] == 0.0 and f.loc["c", "trader_list_score"] == 0.0


def test_party_features_are_missing_without_lists(hist, fitted) -> None:
    data = _history(hist)
    f = build_features(data, fitted(data))
    for name in (
        "counterparty_list_score",
        "trader_list_score",
        "listed_party_russia",
        "listed_party_distance",
    ):
        assert f[name].isna().all(), name


def test_distance_to_a_listed_party_in_the_trade_graph(hist, fitted, index) -> None:
    data = _history(hist)
    d = build_features(data, fitted(data), screening=index)["listed_party_distance"]
    assert d["listed"] == 0  # the trader is listed
    assert d["a-late"] == 1  # ships to a listed party
    assert d["a-later"] == 1  # shipped to one before (as of this date)
    assert d["a-early"] == 3  # not listed yet, nothing before
    assert d["b"] == 2  # its counterparty dealt with a listed trader before
    assert d["c"] == 3


def test_new_traders_and_violations_of_a_counterparty(hist, fitted, index) -> None:
    data = _history(hist)
    art = fitted(data)
    f = build_features(data, art, screening=index)
    # Beta: D (day 1), E (day 2), the listed trader (day 12) before B on day 25, all within 90 days
    assert f.loc["b", "counterparty_new_traders_90d"] == 3
    assert f.loc["beta-3", "counterparty_new_traders_90d"] == 0  # day 200: none in the 90 days before
    assert f.loc["beta-3", "counterparty_traders"] == 4
    assert f.loc["b", "counterparty_inspections"] == 2
    prior = art.prior_violation_rate
    assert f.loc["b", "counterparty_violation_rate"] == pytest.approx(
        (1 + PRIOR_WEIGHT * prior) / (2 + PRIOR_WEIGHT)
    )
    assert f.loc["beta-1", "counterparty_inspections"] == 0  # its own outcome comes later
    assert np.isclose(f.loc["c", "counterparty_violation_rate"], prior)


def test_counterparties_behind_violations_found_on_any_traders_lines(hist, fitted, index) -> None:
    data = _history(hist)
    f = build_features(data, fitted(data), screening=index)["trader_flagged_counterparties"]
    assert f["d-2"] == 0  # D has dealt with Beta since day 1, but its violation is found on day 3
    assert f["d-50"] == 1  # Beta, and Acme has no violation
    assert f["b"] == 0  # B's first line with Beta is this one
    assert f["beta-3"] == 0 and f["c"] == 0


@pytest.mark.parametrize("store_kind", ["sqlite", "postgres"])
def test_the_store_gives_the_same_party_features(hist, fitted, index, store_kind, request) -> None:
    """One definition: the online path (read as of each date, then added) equals the batch features."""
    data = _history(hist)
    art = fitted(data)
    batch = build_features(data, art, screening=index)
    url = "sqlite://" if store_kind == "sqlite" else request.getfixturevalue("postgres_url")
    store = ServiceStore.open(url)
    try:
        store.migrate()
        online = replay(store, store.features(art, screening=lambda: index), data, FormatRules(), 1)
    finally:
        store.dispose()
    assert_same_features(online, batch)
