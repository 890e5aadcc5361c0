"""The risk model: a LightGBM classifier of inspected lines (`classifier`), an IsolationForest over all lines
exported to numpy arrays (`anomaly`), a detector of traits rare for a line's commodity (`oddness`), their
fusion into one calibrated `risk_score` (`fusion`), channel
thresholds under an inspection capacity (`channels`), TreeSHAP explanations turned into reasons
(`explain`), out-of-fold id statistics (`target_stats`), the in-memory `RiskModel` that holds all of it
with the single-line and batch scoring paths serving calls (`risk_model`), what scoring returns
(`scores`), and its MLflow pyfunc (`pyfunc`).
Design notes: docs/models.md.
"""

from roundabout.models.channels import CHANNELS, Thresholds
from roundabout.models.explain import Reason
from roundabout.models.risk_model import RiskModel
from roundabout.models.scores import BatchScores, LineScore

__all__ = ["CHANNELS", "BatchScores", "LineScore", "Reason", "RiskModel", "Thresholds"]
