"""What the loop measures: per policy and period what inspections found (against the simulator's truth),
and per retraining how well the exploration sample estimates the new model's precision.

- *Found* is inspected with a violation found; *selected* is sent to inspection. Circumvention lines are
  the truth's; value caught is the customs value of circumvention lines found over that of all the
  period's circumvention lines.
- A policy *detects* the new scheme in a period when it selects at least half of the scheme's lines of
  that period (what inspectors then find depends on their detection rate, the same for every policy).
- Precision at the capacity: the new model inspects the top `red_share` of the holdout period's lines.
  The truth is the expected share of them where an inspection would find a violation (the simulator's
  detection rates times the hidden truth: circumvention, and honest lines' ordinary violations). The
  estimates from the holdout's inspected lines are the inverse-propensity (Hajek) one and the naive one
  (the plain violation rate of the inspected among them).
"""

from typing import Any

import numpy as np
import pandas as pd

from roundabout.data.io import CanonicalData
from roundabout.models.policy import EXPLORATION, Selection
from roundabout.simulation.config import InspectionConfig
from roundabout.simulation.inspections import HiddenTruth
from roundabout.simulation.trade_arrays import LEG_IMPORT
from roundabout.training.metrics import top_mask
from roundabout.training.split import labels, selection_of
from roundabout.training.train import TrainResult


def period_measures(
    lines: pd.DataFrame, truth: pd.DataFrame, chosen: Selection, found: pd.DataFrame, new_scheme: str
) -> dict[str, Any]:
    """One policy's period: `lines` and `truth` of the period (same order), its decisions and outcomes."""
    selected = chosen.channel != "green"
    hit = lines["line_id"].isin(found.loc[found["outcome"] == "violation", "line_id"]).to_numpy()
    circ = truth["is_circumvention"].to_numpy(dtype=bool)
    new = (truth["scheme"] == new_scheme).to_numpy()
    value = lines["value_usd"].to_numpy(dtype="float64", na_value=0.0)
    circ_value = float(value[circ].sum())
    return {
        "lines": len(lines),
        "inspections": int(selected.sum()),
        "explored": int((chosen.selection == EXPLORATION).sum()),
        "violations_found": int(hit.sum()),
        "circumvention": int(circ.sum()),
        "circumvention_selected": int((circ & selected).sum()),
        "circumvention_found": int((circ & hit).sum()),
        "value_caught": float(value[circ & hit].sum() / circ_value) if circ_value else 0.0,
        "new_scheme_lines": int(new.sum()),
        "new_scheme_selected": int((new & selected).sum()),
        "new_scheme_found": int((new & hit).sum()),
    }


def chance_of_finding(hidden: HiddenTruth, cfg: InspectionConfig) -> np.ndarray:
    """Per line, the chance a physical inspection finds a violation: the simulator's detection rate on
    circumvention (less on the import leg of a chain) and on honest lines' ordinary violations."""
    circ = hidden.scheme > 0
    chain = np.where(hidden.leg == LEG_IMPORT, cfg.chain_import_detection, 1.0)
    return np.where(circ, cfg.detection_rate * chain, np.where(hidden.violation > 0, cfg.detection_rate, 0.0))


def precision_check(
    result: TrainResult, data: CanonicalData, holdout: np.ndarray, chance: np.ndarray, rate: float
) -> dict[str, float]:
    """The new model's precision at `rate` on the `holdout` lines of `data`: the truth (`chance` of each
    holdout line), the inverse-propensity estimate and the naive one (see the module docstring)."""
    model = result.model
    features = model.features_of(data)[holdout]
    risk = model.score_batch(model.matrix(features, data.lines[holdout])).risk_score
    top = top_mask(risk, rate)
    label = labels(data)[holdout]
    _, propensity = selection_of(data)
    p = propensity[holdout]
    seen = top & ~np.isnan(label)
    weight = np.where(seen & np.isfinite(p) & (p > 0), 1.0 / np.where(p > 0, p, 1.0), 0.0)
    y = np.where(seen, label, 0.0)
    return {
        "truth": float(chance[top].mean()),
        "ipw_estimate": float(weight @ y / weight.sum()) if weight.sum() else float("nan"),
        "naive_estimate": float(y[seen].mean()) if seen.any() else float("nan"),
        "inspected_in_top": int(seen.sum()),
        "promoted": float(result.decision is not None and result.decision.promoted),
    }
