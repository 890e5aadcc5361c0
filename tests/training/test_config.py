"""Training options that depend on the data are checked against it before any work is done."""

from datetime import date

import numpy as np
import pytest

from roundabout.data.io import INSPECTIONS_SCHEMA, CanonicalData, empty_frame
from roundabout.errors import ConfigError
from roundabout.training import TrainConfig
from roundabout.training.fit import fit_risk_model
from roundabout.training.split import Split
from tests.support.histories import frame_of, line


def _split(extra: dict[str, str]) -> Split:
    lines = frame_of([line(f"L{i}", date(2023, 1, 1 + i)) for i in range(3)])
    for name in extra:
        lines[name] = "x"
    data = CanonicalData(lines, empty_frame(INSPECTIONS_SCHEMA), None, extra)
    return Split(
        data, np.array([True, False, False]), np.array([False, True, False]), np.array([False, False, True])
    )


def test_an_unknown_target_stats_column_is_refused_before_any_work(monkeypatch: pytest.MonkeyPatch) -> None:
    """A typo (`importer_id`) would give every line the prior, a constant input: refused at fit, naming
    the column and the ones allowed, before a feature is built."""

    def no_work(*args: object, **kwargs: object) -> None:
        raise AssertionError("features were built before the options were checked")

    monkeypatch.setattr(Split, "features", no_work)
    config = TrainConfig.model_validate({"target_stats": {"columns": ["trader_id", "importer_id"]}})
    with pytest.raises(ConfigError) as err:
        fit_risk_model(_split({"payment_type": "categorical"}), config)
    message = err.value.message
    assert message.startswith("target_stats.columns: 'importer_id': not an id column of the data")
    assert "trader_id, trader_name, declarant_id, counterparty_name, hs_code, customs_office" in message
    assert "the data's extra columns: payment_type" in message


def test_the_datas_extra_columns_are_allowed() -> None:
    config = TrainConfig.model_validate({"target_stats": {"columns": ["payment_type", "customs_office"]}})
    config.target_stats.check_columns(["payment_type"])
    with pytest.raises(ConfigError, match=r"'payment_type': not an id column .* extra columns: none"):
        config.target_stats.check_columns([])


def test_a_target_stats_column_named_twice_is_refused() -> None:
    with pytest.raises(ValueError, match=r"target_stats.columns\n.*named more than once: trader_id"):
        TrainConfig.model_validate({"target_stats": {"columns": ["trader_id", "hs_code", "trader_id"]}})
