"""Monitoring: how far what the service sees has moved from what its model was judged on, and what
inspections find by channel and by selection.

From the service store (the decided lines of a period, with the model inputs each decision was made on, and
the outcomes that came back) against the model's reference profile (`models/profile.py`): the population
stability index and missing share of each input, levels the model does not know, the risk score's shift,
the channel shares, hit rates with confidence intervals, and the alerts they raise. `roundabout monitor`
prints and writes them (`html.py`); the service computes them on a schedule for Prometheus and
`GET /v1/monitoring` (`serving/`).
"""

from roundabout.monitoring.config import MonitorConfig
from roundabout.monitoring.report import MonitorReport
from roundabout.monitoring.window import monitor_store

__all__ = ["MonitorConfig", "MonitorReport", "monitor_store"]
