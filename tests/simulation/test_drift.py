"""Planted drift (`SimulationConfig.drift`): none leaves the world as it was; each kind changes its own
columns only, on lines dated from its start, on its share of the lines it concerns, the same way for the same
seed; drifted lines stay valid and truth is untouched; the options load from YAML (the docs' example too)
and a bad one is refused naming its key."""

from datetime import date
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from typer.testing import CliRunner

from roundabout.cli import app
from roundabout.data.io import read_folder
from roundabout.data.validation import FormatRules, validate_lines
from roundabout.errors import ConfigError
from roundabout.simulation import STAGES, SimulationConfig, simulate, stages
from roundabout.simulation.config import NewCode, PriceShock, RouteShift
from roundabout.simulation.drift import plant_drift
from roundabout.simulation.goods import catalog
from roundabout.simulation.world import DRIFT_STAGE, SimulatedWorld, simulate_world

N, SEED = 6_000, 3
EXAMPLE = Path(__file__).parents[2] / "docs" / "examples" / "drift.yaml"
ROUTE = {"kind": "route_shift", "starts": "2023-07-01", "share": 0.4, "dispatch": ["CN", "TR", "DE"]}
CODE = {"kind": "new_code", "starts": "2024-01-01", "share": 0.3}
PRICE = {"kind": "price_shock", "starts": "2024-06-01", "share": 0.5, "chapters": [84, 85, 90]}
DRIFTED = {"dispatch_country", "trading_country", "hs_code", "value_usd"}


def _config(*shifts: dict, seed: int = SEED) -> SimulationConfig:
    return SimulationConfig.model_validate({"n_lines": N, "seed": seed, "drift": list(shifts)})


@pytest.fixture(scope="module")
def base() -> SimulatedWorld:
    return simulate_world(_config())


@pytest.fixture(scope="module")
def drifted() -> tuple[SimulatedWorld, list[str]]:
    seen: list[str] = []
    return simulate_world(_config(ROUTE, CODE, PRICE), progress=seen.append), seen


def _changed(before: pd.DataFrame, after: pd.DataFrame) -> dict[str, np.ndarray]:
    """Column -> rows whose value changed (missing on both sides is no change)."""
    out = {}
    for column in before.columns:
        same = (before[column] == after[column]).fillna(False) | (
            before[column].isna() & after[column].isna()
        )
        out[column] = ~same.to_numpy(dtype=bool)
    return out


def _chapter(lines: pd.DataFrame) -> pd.Series:
    return lines["hs_code"].str.slice(0, 2).astype(int)


def test_no_drift_by_default_and_a_zero_share_changes_nothing(base) -> None:
    assert SimulationConfig().drift == ()
    assert stages(SimulationConfig()) == STAGES and DRIFT_STAGE not in STAGES
    # the drift draws from a generator of its own: shifts that move no line leave every byte of the world
    idle = simulate_world(_config(*({**shift, "share": 0.0} for shift in (ROUTE, CODE, PRICE))))
    for name in ("lines", "inspections", "truth"):
        pd.testing.assert_frame_equal(getattr(idle.data, name), getattr(base.data, name))


def test_each_kind_changes_its_columns_only_from_its_start(base, drifted) -> None:
    before, after = base.data.lines, drifted[0].data.lines
    changed = _changed(before, after)
    assert {column for column, rows in changed.items() if rows.any()} == DRIFTED
    dates = before["date"]

    route = changed["dispatch_country"]
    dt_imports = before["document_kind"].eq("DT") & before["direction"].eq("import")
    assert (dt_imports & before["dispatch_country"].isin(ROUTE["dispatch"]))[route].all()
    assert (dates[route] >= pd.Timestamp(ROUTE["starts"])).all()
    assert after.loc[route, "dispatch_country"].eq("GE").all()
    assert not (changed["trading_country"] & ~route).any()
    assert after.loc[route, "trading_country"].eq("GE").all()

    code = changed["hs_code"]
    assert (_chapter(before)[code] == 85).all() and (dates[code] >= pd.Timestamp(CODE["starts"])).all()
    assert after.loc[code, "hs_code"].eq("8524110000").all()
    assert not before["hs_code"].eq("8524110000").any() and "8524110000" not in set(catalog().hs10)

    price = changed["value_usd"]
    assert _chapter(after)[price].isin(PRICE["chapters"]).all()
    assert (dates[price] >= pd.Timestamp(PRICE["starts"])).all()
    np.testing.assert_allclose(after.loc[price, "value_usd"], (before.loc[price, "value_usd"] * 2.5).round(2))


def test_each_kind_touches_its_share_of_the_lines_it_concerns(base, drifted) -> None:
    before, after = base.data.lines, drifted[0].data.lines
    changed = _changed(before, after)
    dates = before["date"]

    concerned = (
        before["document_kind"].eq("DT")
        & before["direction"].eq("import")
        & before["dispatch_country"].isin(ROUTE["dispatch"])
        & (dates >= pd.Timestamp(ROUTE["starts"]))
    )
    docs = before.loc[concerned, "document_id"]
    shifted = before.loc[changed["dispatch_country"], "document_id"].unique()
    assert len(shifted) == round(ROUTE["share"] * docs.nunique())
    assert docs.isin(shifted).sum() == changed["dispatch_country"].sum(), "whole declarations shift"
    assert abs(changed["dispatch_country"].sum() / concerned.sum() - ROUTE["share"]) < 0.1

    concerned = (_chapter(before) == 85) & (dates >= pd.Timestamp(CODE["starts"]))
    assert concerned.sum() > 300
    assert changed["hs_code"].sum() == round(CODE["share"] * concerned.sum())

    concerned = _chapter(after).isin(PRICE["chapters"]) & (dates >= pd.Timestamp(PRICE["starts"]))
    assert concerned.sum() > 300
    assert changed["value_usd"].sum() == round(PRICE["share"] * concerned.sum())


def test_the_drift_is_the_same_for_a_seed(base, drifted) -> None:
    again = simulate(_config(ROUTE, CODE, PRICE))
    pd.testing.assert_frame_equal(again.lines, drifted[0].data.lines)
    shifts = [RouteShift(), NewCode(), PriceShock(share=0.5)]
    lines = base.data.lines
    one = plant_drift(np.random.default_rng(1), lines, shifts)
    pd.testing.assert_frame_equal(plant_drift(np.random.default_rng(1), lines, shifts), one)
    other = plant_drift(np.random.default_rng(2), lines, shifts)
    assert not other["hs_code"].equals(one["hs_code"]) and not other["value_usd"].equals(one["value_usd"])
    assert lines["hs_code"].ne("8524110000").all(), "the input frame is left as it was"


def test_drifted_lines_stay_valid_and_truth_is_untouched(base, drifted) -> None:
    world, seen = drifted
    result = validate_lines(world.data.lines, FormatRules(max_date=date(2030, 1, 1)))
    assert result.summary.rows_rejected == 0, result.summary.by_reason
    pd.testing.assert_frame_equal(world.data.truth, base.data.truth)
    assert np.array_equal(world.hidden.scheme, base.hidden.scheme)
    assert np.array_equal(world.hidden.violation, base.hidden.violation)
    assert seen == list(stages(_config(ROUTE))) and seen.index(DRIFT_STAGE) == seen.index("inspections") - 1


def test_the_options_load_from_yaml_and_round_trip(tmp_path: Path) -> None:
    path = tmp_path / "sim.yaml"
    path.write_text(
        "drift:\n"
        "  - {kind: route_shift, starts: 2024-01-01, to: AZ, traded: false}\n"
        '  - {kind: new_code, code: "8549110000", chapters: []}\n'
        "  - {kind: price_shock, factor: 0.5}\n"
    )
    cfg = SimulationConfig.from_yaml(path, n_lines=N)
    route, code, price = cfg.drift
    assert isinstance(route, RouteShift) and (route.to, route.traded, route.share) == ("AZ", False, 0.3)
    assert isinstance(code, NewCode) and (code.code, code.chapters, code.starts) == ("8549110000", (), None)
    assert isinstance(price, PriceShock) and (price.factor, price.chapters, price.share) == (0.5, (), 1.0)
    assert SimulationConfig.model_validate(cfg.model_dump(mode="json")) == cfg
    assert SimulationConfig.model_validate(cfg.model_dump()) == cfg


def test_the_docs_example_is_accepted(tmp_path: Path) -> None:
    cfg = SimulationConfig.from_yaml(EXAMPLE)
    assert [shift.kind for shift in cfg.drift] == ["route_shift", "new_code", "price_shock"]
    result = CliRunner().invoke(
        app, ["simulate", "--config", str(EXAMPLE), "--lines", "3000", "--out", str(tmp_path / "w")]
    )
    assert result.exit_code == 0, result.output
    lines = read_folder(tmp_path / "w").lines
    assert lines["hs_code"].eq("8524110000").any() and lines["dispatch_country"].eq("GE").any()


@pytest.mark.parametrize(
    ("body", "message"),
    [
        (
            "- {kind: price_shock, factor: -1}",
            r"drift\.0\.price_shock\.factor: Input should be greater than 0",
        ),
        ("- {kind: new_code, chapter: 85}", r"drift\.0\.new_code\.chapter: Extra inputs are not permitted"),
        ("- {kind: route_shift, share: 1.5}", r"drift\.0\.route_shift\.share: Input should be less than"),
        (
            "- {kind: price_shock}\n- {kind: route_shift, to: RU}",
            r"drift\.1\.route_shift\.to: .*RU is in the EAEU",
        ),
        ("- {kind: route_shift, dispatch: [XX]}", r"drift\.0\.route_shift\.dispatch: .*country codes: XX"),
        ("- {kind: new_code, code: '8542310000'}", r"drift\.0\.code: 8542310000 is a code the world already"),
        ("- {kind: new_code, code: '85423'}", r"drift\.0\.new_code\.code: String should match pattern"),
        ("- {kind: price_shock, starts: 2025-01-01}", r"drift\.0\.starts \(2025-01-01\) must be before end"),
        ("- {kind: inflation}", r"drift\.0: Input tag 'inflation' found using 'kind' does not match"),
    ],
)
def test_a_bad_option_is_refused_naming_its_key(tmp_path: Path, body: str, message: str) -> None:
    path = tmp_path / "sim.yaml"
    path.write_text("drift:\n" + "".join(f"  {line}\n" for line in body.splitlines()))
    with pytest.raises(ConfigError, match=message):
        SimulationConfig.from_yaml(path)


def test_the_foreign_shape_takes_no_new_code() -> None:
    with pytest.raises(ValueError, match=r"drift\.0\.code: the foreign shape takes no new code"):
        SimulationConfig.model_validate({"shape": "foreign", "drift": [{"kind": "new_code"}]})
    cfg = SimulationConfig.model_validate({**_config(ROUTE, PRICE).model_dump(), "shape": "foreign"})
    foreign = simulate(cfg)
    assert foreign.lines["dispatch_country"].eq("GE").any()
