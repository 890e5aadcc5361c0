"""GET /v1/monitoring and the monitor's gauges in process: decisions keep the inputs the model saw, the
background monitor reads them back, admins read its figures, and nothing is computed on a request."""

from datetime import date

import numpy as np

from roundabout.store.served import decode_inputs
from tests.support.bodies import api_line
from tests.support.inprocess import InProcessApp


def test_no_figures_before_a_pass_found_lines(api: InProcessApp) -> None:
    """A pass on an empty store finds nothing: 404 says why, not an empty report."""
    assert api.app.state.service.monitor.run() == "empty"
    answer = api.get("/v1/monitoring", "admin")
    assert answer.status_code == 404
    assert "no decided line" in answer.json()["detail"]


def test_decisions_keep_the_inputs_in_the_versions_order(api: InProcessApp) -> None:
    lines = [api_line(line_id=f"MON/{i}", value_usd=1000.0 * (i + 1)) for i in range(3)]
    assert api.post("/v1/score", "scorer", json={"lines": lines}).status_code == 200
    assert (
        api.post("/v1/score", "scorer", json={"lines": [api_line(line_id="MON/single")]}).status_code == 200
    )
    store = api.app.state.service.store
    names = store.served.input_names()[("roundabout", "1")]
    current = api.app.state.service.live_model.current
    assert names == list(current.model.base_features)
    served = store.served.period(date(2000, 1, 1), date(2100, 1, 1))
    mine = served[served["line_id"].str.startswith("MON/")]
    X = decode_inputs(list(mine["inputs"]), len(names))
    assert len(mine) == 4 and np.isfinite(X).any(axis=1).all()
    value = X[:, names.index("log_value_usd")]
    by_id = dict(zip(mine["line_id"], value, strict=True))
    assert by_id["MON/0"] < by_id["MON/1"] < by_id["MON/2"]  # the inputs of each line, not of another


def test_admins_read_the_figures_and_prometheus_the_gauges(api: InProcessApp) -> None:
    api.post("/v1/score", "scorer", json={"lines": [api_line(line_id="MON/g")]})
    assert api.app.state.service.monitor.run() == "computed"
    answer = api.get("/v1/monitoring", "admin")
    assert answer.status_code == 200, answer.text
    body = answer.json()
    assert body["model_name"] == "roundabout" and body["model_version"] == "1" and body["lines"] >= 1
    assert {f["name"] for f in body["inputs"]} >= {"log_value_usd", "raw_hs6"}
    assert all(f["status"] == "few lines" for f in body["inputs"])  # a handful of lines flags nothing
    assert body["alerts"] == []
    assert api.get("/v1/monitoring", "scorer").status_code == 403
    assert api.get("/v1/monitoring").status_code == 401
    metrics = api.get("/metrics").text
    assert "roundabout_monitor_input_psi{important=" in metrics
    assert 'roundabout_monitor_channel_share{channel="red"}' in metrics
    assert "roundabout_monitor_last_pass_timestamp_seconds" in metrics
