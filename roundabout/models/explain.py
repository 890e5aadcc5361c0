"""Per-line explanations: TreeSHAP contributions grouped by feature, turned into reasons an officer can read.

LightGBM's `pred_contrib` gives each feature's additive share of the classifier's log-odds (TreeSHAP);
times the fusion weight `a` it is the feature's share of the fused log-odds. Every model input is one
feature, so grouping is by input column; the inputs that pushed the score up most become reasons, their
text filled from the feature catalogue's template with the line's value (a category's level code is
shown as its level name: "Origin US"). The anomaly part's share, `b * z`, competes with them on the same
scale and, when it is among the top ones, gets its own reason; so does the oddness detector's, `d * w`,
whose text names the line's oddest trait (`features/oddities.py`). Inputs with a missing value get no text
(what is missing cannot be described as a red flag), and neither does a rate whose evidence is nothing: a
smoothed violation rate of a trader, declarant or id never inspected is the prior, and a reason
"earlier inspections found violations" would claim a history that does not exist.
"""

from collections.abc import Callable, Sequence
from dataclasses import dataclass

import numpy as np

from roundabout.features import FEATURES
from roundabout.models.target_stats import feature_names_for

ANOMALY = "anomaly"
#: A contribution must add at least this much log-odds to be worth a reason.
MIN_CONTRIBUTION = 0.05

_ID_LABELS = {
    "trader_id": "trader (importer)",
    "trader_name": "trader name",
    "declarant_id": "declarant",
    "counterparty_name": "counterparty (seller)",
    "hs_code": "commodity code",
    "customs_office": "customs office",
}


@dataclass(frozen=True)
class Reason:
    """One reason: the input, its value, its share of the fused log-odds, and the text."""

    feature: str
    value: float | str | None
    contribution: float
    text: str

    def to_dict(self) -> dict[str, object]:
        return {
            "feature": self.feature,
            "value": self.value,
            "contribution": self.contribution,
            "text": self.text,
        }


def reason_evidence(feature_names: list[str], target_columns: list[str]) -> dict[str, str]:
    """For inputs whose reason claims a history: the input that must be above 0 for the claim to hold."""
    evidence = {f.name: f.evidence for f in FEATURES if f.evidence is not None}
    for col in target_columns:
        rate, n = feature_names_for([col])
        evidence[rate] = evidence[n] = n
    present = set(feature_names)
    return {name: needed for name, needed in evidence.items() if name in present and needed in present}


def reason_templates(feature_names: list[str], target_columns: list[str]) -> dict[str, str]:
    """Template of every model input: the catalogue's, or generated for extra columns and target stats."""
    catalogue = {f.name: f.reason for f in FEATURES}
    out: dict[str, str] = {}
    te = {}
    for col in target_columns:
        label = _ID_LABELS.get(col, col.replace("_", " "))
        rate, n = feature_names_for([col])
        te[rate] = f"Earlier inspections of this {label} found violations ({{value:.0%}} smoothed)"
        te[n] = f"This {label} was inspected often before (log count {{value:.1f}})"
    for name in feature_names:
        if name in catalogue:
            out[name] = catalogue[name]
        elif name in te:
            out[name] = te[name]
        elif name.startswith("extra_"):
            out[name] = f"Declared {name.removeprefix('extra_').replace('_', ' ')}: {{value}}"
        else:
            out[name] = f"{name}: {{value}}"
    return out


def anomaly_text(anomaly_score: float) -> str:
    return (
        f"The line is unusual as a whole: its combination of goods, route, value and history is rarely "
        f"seen (anomaly score {anomaly_score:.2f})"
    )


def format_reason(template: str, value: float | str) -> str:
    try:
        return template.format(value=value)
    except (ValueError, TypeError, KeyError, IndexError):
        return template.split("{")[0].rstrip(" :(") + f": {value}"


class Explainer:
    """Turns a line's contributions and values into its top reasons."""

    def __init__(
        self,
        feature_names: list[str],
        templates: dict[str, str],
        level_name: Callable[[str, int], str | None],
        categorical: set[str],
        top_k: int = 3,
        evidence: dict[str, str] | None = None,
    ) -> None:
        self.feature_names = feature_names
        self.templates = templates
        self.level_name = level_name
        self.categorical = categorical
        self.top_k = top_k
        index = {name: i for i, name in enumerate(feature_names)}
        self._evidence = {index[name]: index[needed] for name, needed in (evidence or {}).items()}

    def display_value(self, name: str, value: float) -> float | str | None:
        if not np.isfinite(value):
            return None
        if name in self.categorical:
            code = int(value)
            return (self.level_name(name, code) or "other") if code > 0 else "other"
        return float(value)

    def reasons(
        self,
        values: np.ndarray,
        contrib: np.ndarray,
        anomaly_part: float,
        anomaly_score: float,
        top_k: int | None = None,
        extra: Sequence[Reason] = (),
    ) -> list[Reason]:
        """Top reasons of one line. `contrib` are per-input shares of the fused log-odds (no bias column);
        `extra` are reasons of other parts of the fused log-odds (the oddness detector's), which compete
        with the inputs' on their contribution."""
        k = self.top_k if top_k is None else top_k
        order = np.argsort(-contrib, kind="stable")
        candidates: list[tuple[float, int]] = [(float(contrib[i]), int(i)) for i in order[: k + 4]]
        candidates.append((float(anomaly_part), -1))
        candidates += [(r.contribution, -2 - j) for j, r in enumerate(extra)]
        candidates.sort(key=lambda item: -item[0])
        out: list[Reason] = []
        for share, i in candidates:
            if len(out) == k or share < MIN_CONTRIBUTION:
                break
            if i == -1:
                out.append(Reason(ANOMALY, float(anomaly_score), share, anomaly_text(anomaly_score)))
                continue
            if i < -1:
                out.append(extra[-2 - i])
                continue
            name = self.feature_names[i]
            shown = self.display_value(name, float(values[i]))
            needed = self._evidence.get(i)
            if shown is None or (needed is not None and not values[needed] > 0):
                continue
            out.append(Reason(name, shown, share, format_reason(self.templates[name], shown)))
        return out
