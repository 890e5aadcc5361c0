"""A scheme may start partway through the world (`SchemeConfig.starts`): every line of it is dated on or
after that day (and after the invasion), it really begins there, at its full prevalence, and the schemes
left alone keep their dates. A start on or after the world's end is refused, naming the key."""

from datetime import date
from pathlib import Path

import pandas as pd
import pytest

from roundabout.errors import ConfigError
from roundabout.reference import INVASION
from roundabout.simulation import SimulationConfig, simulate
from roundabout.simulation.inspections import registration_month

N = 20_000
STARTS = {
    "shell_company": date(2023, 9, 1),
    "reexport_chain": date(2023, 6, 1),
    "mix_shift": date(2024, 1, 1),
    "transit_diversion": date(2024, 6, 1),
    "price_anomaly": date(2021, 3, 1),  # before the invasion: the invasion still comes first
}


@pytest.fixture(scope="module")
def frames() -> tuple[pd.DataFrame, pd.DataFrame]:
    """Lines with their scheme, of a world with late starts and of the same world without."""
    out = []
    for starts in (STARTS, {}):
        cfg = SimulationConfig.model_validate(
            {"n_lines": N, "seed": 2, "schemes": {name: {"starts": day} for name, day in starts.items()}}
        )
        world = simulate(cfg)
        assert world.truth is not None
        out.append(world.lines.assign(scheme=world.truth["scheme"].to_numpy()))
    return out[0], out[1]


def test_every_line_of_a_scheme_is_dated_from_its_start(frames) -> None:
    late, _ = frames
    prevalence = SimulationConfig().schemes.prevalences()
    for name, starts in STARTS.items():
        dates = late.loc[late["scheme"].eq(name), "date"]
        first = max(pd.Timestamp(starts), pd.Timestamp(INVASION))
        assert len(dates) == round(prevalence[name] * N), name
        assert dates.min() >= first, name
        assert (dates.min() - first).days < 60, f"{name} begins when it starts, not long after"


def test_shells_are_registered_for_the_scheme(frames) -> None:
    late, _ = frames
    shells = late.loc[late["scheme"].eq("shell_company"), "trader_id"].drop_duplicates()
    registered = registration_month(shells)
    assert (registered >= pd.Timestamp(STARTS["shell_company"]).replace(day=1)).all()


def test_schemes_without_a_start_run_from_the_invasion(frames) -> None:
    late, default = frames
    for frame in (late, default):
        dates = frame.loc[frame["scheme"].eq("misclassification"), "date"]
        assert dates.min() < pd.Timestamp(2022, 9, 1), "from the invasion on, as before"
    columns = ["date", "hs_code", "value_usd"]
    both = [f.loc[f["scheme"].eq("misclassification"), columns].sort_values(columns) for f in frames]
    pd.testing.assert_frame_equal(both[0].reset_index(drop=True), both[1].reset_index(drop=True))
    for name, starts in STARTS.items():
        if starts > INVASION:
            assert default.loc[default["scheme"].eq(name), "date"].min() < pd.Timestamp(starts), name


def test_a_start_after_the_end_is_refused(tmp_path: Path) -> None:
    with pytest.raises(ValueError, match=r"schemes\.mix_shift\.starts"):
        SimulationConfig.model_validate({"schemes": {"mix_shift": {"starts": "2024-12-31"}}})
    SimulationConfig.model_validate({"schemes": {"mix_shift": {"starts": "2024-12-30"}}})
    path = tmp_path / "sim.yaml"
    path.write_text("end: 2023-12-31\nschemes:\n  shell_company:\n    starts: 2024-02-01\n")
    with pytest.raises(ConfigError, match=r"schemes\.shell_company\.starts"):
        SimulationConfig.from_yaml(path)
