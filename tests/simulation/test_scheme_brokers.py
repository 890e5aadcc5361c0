"""A scheme can be run through other brokers than the few every scheme shares
(`SchemeConfig.complicit_broker_share`): with 0, none of its declarations goes through them, while the
other schemes keep using them; the default leaves the world as it was."""

import pandas as pd

from roundabout.simulation import SimulationConfig, simulate


def _world(**transit: float) -> pd.DataFrame:
    cfg = SimulationConfig.model_validate(
        {"n_lines": 20_000, "seed": 4, "schemes": {"transit_diversion": {"prevalence": 0.02, **transit}}}
    )
    world = simulate(cfg)
    assert world.truth is not None
    return world.lines.assign(scheme=world.truth["scheme"].to_numpy())


def _usual_broker_share(lines: pd.DataFrame) -> float:
    """Share of transit-diversion lines declared by the trader itself or by a broker it uses on its honest
    lines (the complicit brokers are no trader's usual one)."""
    honest = lines[lines["scheme"] == ""]
    usual = set(zip(honest["trader_id"], honest["declarant_id"], strict=True))
    scheme = lines[lines["scheme"] == "transit_diversion"]
    pairs = zip(scheme["trader_id"], scheme["declarant_id"], strict=True)
    return sum((t, d) in usual or d == t for t, d in pairs) / len(scheme)


def test_a_scheme_without_the_shared_brokers_goes_through_the_traders_usual_ones() -> None:
    shared, own = _world(), _world(complicit_broker_share=0.0)
    assert _usual_broker_share(shared) < 0.6  # most declarations through the shared complicit brokers
    assert _usual_broker_share(own) > 0.9
    assert _world().equals(shared)  # the default is the world as it was
