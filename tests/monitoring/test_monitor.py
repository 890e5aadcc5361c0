"""The monitor on a served world: planted shifts are flagged on the inputs they move, a world without one
flags nothing, and the report reads as a self-contained page and as JSON."""

import json
from datetime import date
from pathlib import Path

import pytest

from roundabout.errors import ConfigError, NotFoundError
from roundabout.models.profile import OTHER
from roundabout.monitoring import MonitorConfig, MonitorReport, monitor_store
from roundabout.monitoring.html import render
from roundabout.monitoring.report import DRIFTED, STABLE, WARNING
from roundabout.simulation import SimulationConfig
from roundabout.store import ServiceStore
from tests.support.monitoring import LABEL, Served, serve_world

SERVED_FROM = date(2024, 9, 1)
WORLD = {"n_lines": 40_000, "seed": 3, "end": "2024-10-31"}
#: One shift per family: new routes, a code the model never saw, every price tripled.
SHIFTS = [
    {"kind": "route_shift", "starts": "2024-09-01", "share": 0.5, "to": "GE"},
    {"kind": "new_code", "starts": "2024-09-01", "share": 0.5, "code": "8524110000", "chapters": [85]},
    {"kind": "price_shock", "starts": "2024-09-01", "factor": 3.0},
]


def _served(tmp: Path, drift: list[dict]) -> Served:
    config = SimulationConfig.model_validate({**WORLD, "drift": drift})
    return serve_world(config, SERVED_FROM, tmp, f"sqlite:///{tmp / 'store.db'}")


@pytest.fixture(scope="module")
def steady_model(tmp_path_factory: pytest.TempPathFactory) -> Served:
    return _served(tmp_path_factory.mktemp("steady"), [])


@pytest.fixture(scope="module")
def steady(steady_model: Served) -> MonitorReport:
    return monitor_store(steady_model.store, steady_model.model, LABEL)


@pytest.fixture(scope="module")
def shifted(tmp_path_factory: pytest.TempPathFactory) -> MonitorReport:
    served = _served(tmp_path_factory.mktemp("shifted"), SHIFTS)
    return monitor_store(served.store, served.model, LABEL)


def _by_name(report: MonitorReport) -> dict:
    return {f.name: f for f in report.inputs}


def test_a_world_without_a_shift_raises_nothing(steady: MonitorReport) -> None:
    assert steady.lines > 1000 and steady.lines_without_inputs == 0
    assert steady.last == "2024-10-31" and steady.first == "2024-10-02"
    assert [f.name for f in steady.inputs if f.status == DRIFTED] == []
    assert max(f.psi or 0.0 for f in steady.inputs) < MonitorConfig().psi_alert
    assert steady.score.status in (STABLE, WARNING)
    assert steady.alerts == []


def test_planted_shifts_are_flagged_on_the_inputs_they_move(shifted: MonitorReport) -> None:
    inputs = _by_name(shifted)
    drifted = {f.name for f in shifted.inputs if f.status == DRIFTED}
    # the route: the dispatch (and trading) country; the new code: its HS6 and what hangs on the heading;
    # the price: the unit value against its reference
    assert {"raw_dispatch_country", "raw_trading_country", "raw_hs6", "uv_kg_z", "log_value_usd"} <= drifted
    assert inputs["raw_hs6"].unknown_observed > 0.1 > inputs["raw_hs6"].unknown_reference
    assert ("852411", pytest.approx(inputs["raw_hs6"].unknown_values[0][1])) == inputs[
        "raw_hs6"
    ].unknown_values[0]
    # inputs no shift touches stay put
    for untouched in ("direction", "document_kind", "trader_age_days"):
        assert inputs[untouched].status != DRIFTED, untouched
    assert {a.subject for a in shifted.alerts} >= drifted
    assert {"important_input_drift", "input_drift"} <= {a.rule for a in shifted.alerts}
    assert shifted.drifted(1)[0].psi >= shifted.drifted()[-1].psi


def test_the_route_shift_reads_as_more_lines_from_the_new_country(shifted: MonitorReport) -> None:
    """Georgia was too rare a dispatch country in the holdout for a bin of its own: its lines fill the
    "other known levels" bin, and the report names it there."""
    dispatch = _by_name(shifted)["raw_dispatch_country"]
    other = next(s for s in dispatch.shifts if s.bin == OTHER)
    assert other.observed > other.reference + 0.1
    assert dispatch.other_values[0][0] == "GE"


def test_the_report_is_one_offline_page_and_strict_json(shifted: MonitorReport) -> None:
    page = render(shifted)
    assert page.startswith("<!doctype html>") and "data:image/png;base64," in page
    assert "http://" not in page and "https://" not in page and "<script" not in page
    assert "raw_hs6" in page and "852411" in page
    body = json.loads(json.dumps(shifted.to_dict(), allow_nan=False))
    assert body["model_version"] == LABEL[1] and len(body["days"]) == 30 and len(body["weeks"]) == 5
    assert {h["group"] for h in body["hit_rates"]} == {"channel", "selection"}


def test_figures_by_day_and_week_add_up(shifted: MonitorReport) -> None:
    hs6 = _by_name(shifted)["raw_hs6"]
    assert len(hs6.daily_psi) == 30 and len(hs6.weekly_psi) == len(hs6.weekly_unknown) == 5
    assert hs6.weekly_unknown[-1] > 0.1 > (hs6.unknown_reference or 0.0)
    assert all(m is None or 0.0 <= m <= 1.0 for m in hs6.weekly_missing)
    assert sum(w.lines for w in shifted.weeks) == sum(d.lines for d in shifted.days) == shifted.lines
    red = next(h for h in shifted.hit_rates if (h.group, h.value) == ("channel", "red"))
    assert sum(w.inspected["channel:red"] for w in shifted.weeks) == red.inspected
    assert sum(w.violations["channel:red"] for w in shifted.weeks) == red.violations


def test_a_model_without_a_profile_or_an_empty_store_is_a_clear_error(
    tmp_path: Path, steady_model: Served
) -> None:
    served = steady_model
    profile, served.model.profile = served.model.profile, None
    with pytest.raises(ConfigError, match="no reference profile"):
        monitor_store(served.store, served.model, LABEL)
    served.model.profile = profile
    empty = ServiceStore.open(f"sqlite:///{tmp_path / 'empty.db'}")
    empty.migrate()
    with pytest.raises(NotFoundError, match="no decided line"):
        monitor_store(empty, served.model, LABEL)


def test_a_store_of_an_older_schema_is_named_with_the_fix(tmp_path: Path, steady_model: Served) -> None:
    from roundabout.store import schema

    old = ServiceStore.open(f"sqlite:///{tmp_path / 'old.db'}")
    schema.migrate(old.backend, "0007")
    with pytest.raises(ConfigError, match="roundabout store upgrade"):
        monitor_store(old, steady_model.model, LABEL)
