"""The service store: every line the service has seen, their per-(key, day) aggregates, inspection outcomes
and every scoring decision, in SQLite (the embedded default) or PostgreSQL (production).

`ServiceStore` (`service_store.py`) is the one object a process opens; behind it: a backend per database
(`backends/`), the tables (`tables.py`) and their versioned migrations (`schema.py`, `migrations/`), the
history reader that evaluates the feature history specs online (`reader.py`), the aggregate writer
(`writer.py`), the features of a model version's artifacts (`online_features.py`), the exporter
(`exporter.py`), the decision log (`decisions.py`) and the loading of a whole history (`backfill.py`).
"""

from roundabout.store.backends import STORE_ERRORS, Backend, open_backend
from roundabout.store.online_features import OnlineFeatures
from roundabout.store.service_store import ServiceStore

__all__ = ["STORE_ERRORS", "Backend", "OnlineFeatures", "ServiceStore", "open_backend"]
