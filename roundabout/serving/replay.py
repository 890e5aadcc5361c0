"""Replaying a canonical folder through the service's scoring path, as a risk system would have sent it:
day by day, each day's lines in calls of up to `call_lines` (`scoring.score_lines`: features from the store
as of the line's date, the line added, its decision recorded with the model's inputs), and each outcome fed
back once its inspection date has passed. What a shadow run of a new model on last month's traffic needs,
and what the demo uses to show the monitor on months the model never saw.
"""

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import pandas as pd

from roundabout.data.io import CanonicalData
from roundabout.data.records import RecordValidator
from roundabout.data.rules import FormatRules
from roundabout.models import RiskModel
from roundabout.parties.index import ScreeningIndex
from roundabout.serving.live_model import ServingVersion
from roundabout.serving.scoring import score_lines
from roundabout.serving.turns import Turns
from roundabout.store import ServiceStore


@dataclass(frozen=True)
class Replayed:
    lines: int
    outcomes: int
    channels: dict[str, int]


def replay(
    store: ServiceStore,
    model: RiskModel,
    label: tuple[str, str],
    data: CanonicalData,
    rules: FormatRules,
    screening: ScreeningIndex | None = None,
    call_lines: int = 1000,
    on_lines: Callable[[int], None] | None = None,
    explain: bool = True,
) -> Replayed:
    """Score `data`'s lines into `store` with `model` (registered as `label`: name, version) through the
    service's path, with reasons unless `explain` is False; `on_lines(n)` after each call of n lines. Lines
    the store already holds are scored as the service scores a retried line (once stored, a new decision
    recorded)."""
    features = store.features(model.artifacts, model.base_features, lambda: screening)
    validator = RecordValidator(rules, data.extra_columns)
    version = ServingVersion(model, features, validator, label[0], label[1], "replay", None)
    store.served.register_inputs(label[0], label[1], features.names)
    key = store.selection_key()
    writes, channels = Turns(), {"red": 0, "yellow": 0, "green": 0}
    outcomes = data.inspections.sort_values("inspected_on", kind="stable").to_dict("records")
    fed, calls = 0, 0
    for day, day_lines in data.lines.sort_values("date", kind="stable").groupby("date", sort=True):
        known = []
        while fed < len(outcomes) and pd.Timestamp(outcomes[fed]["inspected_on"]) < day:
            known.append(validator.outcome(_plain(outcomes[fed])))
            fed += 1
        if known:
            store.add_outcomes(known)
        records = [validator.line(_plain(r)) for r in day_lines.to_dict("records")]
        for start in range(0, len(records), call_lines):
            call = records[start : start + call_lines]
            calls += 1
            request = f"replay-{calls}"
            results = score_lines(version, store, writes, call, explain, 3, request, "replay", key)
            for result in results:
                channels[result["channel"]] += 1
            if on_lines is not None:
                on_lines(len(call))
    rest = [validator.outcome(_plain(o)) for o in outcomes[fed:]]
    if rest:
        store.add_outcomes(rest)
    return Replayed(len(data.lines), len(outcomes), channels)


def _plain(record: dict[str, Any]) -> dict[str, Any]:
    """A frame row as the API would have received it: missing values as None."""
    return {k: (None if not isinstance(v, (list, dict)) and pd.isna(v) else v) for k, v in record.items()}
