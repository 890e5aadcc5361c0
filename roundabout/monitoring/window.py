"""One monitoring pass over the service store: read a period's decided lines, decode the inputs each
decision recorded, name the category values behind the catch-all bins, and compute the figures."""

import json
import time
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta

import numpy as np
import pandas as pd

from roundabout.data.schema import LINE_COLUMNS
from roundabout.errors import ConfigError, NotFoundError
from roundabout.features.artifacts import CATEGORY_COLUMNS, FeatureArtifacts, category_values
from roundabout.features.columns import columns_from_frame
from roundabout.models import RiskModel
from roundabout.models.profile import ReferenceProfile
from roundabout.monitoring.config import MonitorConfig
from roundabout.monitoring.figures import figures
from roundabout.monitoring.report import MonitorReport
from roundabout.store import ServiceStore, schema
from roundabout.store.served import decode_inputs


def inputs_matrix(
    served: pd.DataFrame, names: list[str], recorded: Mapping[tuple[str, str], list[str]]
) -> tuple[np.ndarray, np.ndarray]:
    """The period's inputs in `names` order, and where each was recorded: a line decided by a version
    whose input names the store does not know, or that recorded no inputs, has none."""
    X = np.full((len(served), len(names)), np.nan)
    seen = np.zeros((len(served), len(names)), dtype=bool)
    if not len(served):
        return X, seen
    keys = list(zip(served["model_name"], served["model_version"], strict=True))
    groups = pd.Series(range(len(keys))).groupby(pd.Series(keys, dtype=object)).indices
    blobs = served["inputs"].to_numpy(dtype=object)
    for key, rows in groups.items():
        own = recorded.get(key)
        if own is None:
            continue
        position = {name: i for i, name in enumerate(own)}
        cols = [j for j, name in enumerate(names) if name in position]
        decoded = decode_inputs(blobs[rows], len(own))
        ok = np.array([b is not None and len(b) == len(own) * 4 for b in blobs[rows]], dtype=bool)
        X[np.ix_(rows[ok], cols)] = decoded[ok][:, [position[names[j]] for j in cols]]
        seen[np.ix_(rows[ok], cols)] = True
    return X, seen


@dataclass(frozen=True)
class Monitored:
    """What the monitor needs of a model: its profile, its inputs in order, which of them are level codes,
    and its feature artifacts (level names, extra columns). Small and picklable, so a pass can run in a
    process of its own (`serving/live_monitor.py`)."""

    profile: ReferenceProfile | None
    base_features: list[str]
    categorical: list[str]
    artifacts: FeatureArtifacts

    @classmethod
    def of(cls, model: "RiskModel | Monitored") -> "Monitored":
        if isinstance(model, Monitored):
            return model
        return cls(model.profile, list(model.base_features), list(model.categorical), model.artifacts)


def category_values_seen(
    served: pd.DataFrame, model: Monitored, names: list[str], top: int
) -> dict[str, tuple[list[tuple[str, int]], list[tuple[str, int]]]]:
    """Per categorical input, the period's most frequent values behind its two catch-all bins, with their
    line counts: values that are none of the model's levels (unseen at training, or too rare to get a
    level), and known levels too rare in the holdout to get a bin of their own (a rare route that grew)."""
    profile = model.profile
    wanted = [
        n for n in names if n in model.categorical and (n in CATEGORY_COLUMNS or n.startswith("extra_"))
    ]
    if not len(served) or not wanted or profile is None:
        return {}
    extra = dict(model.artifacts.extra_columns)
    frame = served
    if extra and "extra" in served.columns:
        parsed = [json.loads(x) if isinstance(x, str) else {} for x in served["extra"]]
        frame = served.assign(**{name: [p.get(name) for p in parsed] for name in extra})
    cols = columns_from_frame(frame, extra)
    out = {}
    for name in wanted:
        values = pd.Series(category_values(cols, name)).dropna().astype(str)
        levels = model.artifacts.level_names(name)
        binned = {levels[c - 1] for c in profile.inputs[name].levels if 0 < c <= len(levels)}
        known = values.isin(set(levels))
        unknown = values[~known].value_counts().head(top)
        other = values[known & ~values.isin(binned)].value_counts().head(top)
        out[name] = (
            [(str(v), int(c)) for v, c in unknown.items()],
            [(str(v), int(c)) for v, c in other.items()],
        )
    return out


def monitor_store(
    store: ServiceStore,
    model: RiskModel | Monitored,
    label: tuple[str, str],
    config: MonitorConfig | None = None,
    last: date | None = None,
) -> MonitorReport:
    """The figures of the `config.days` days of line dates ending `last` (default: the latest decided
    line's date) for `model` (its name and version in `label`) from `store`."""
    config = config or MonitorConfig()
    started = time.perf_counter()
    model = Monitored.of(model)
    profile = model.profile
    if profile is None:
        raise ConfigError(
            f"model {label[0]} version {label[1]} has no reference profile (trained before monitoring "
            "existed): retrain it to monitor against it"
        )
    current, head = schema.current_revision(store.backend), schema.head_revision()
    if current != head:
        raise ConfigError(
            f"the store at {store.url} is at schema {current or 'none'}, this code reads {head}: run "
            "`roundabout store upgrade` (or start the service, which upgrades it) first"
        )
    last = last or store.served.last_date()
    if last is None:
        raise NotFoundError(f"no decided line in the store at {store.url}: nothing to monitor yet")
    first = last - timedelta(days=config.days - 1)
    columns = [*LINE_COLUMNS, "extra"] if model.artifacts.extra_columns else list(LINE_COLUMNS)
    served = store.served.period(first, last, columns)
    names = [n for n in model.base_features if n in profile.inputs]
    X, seen = inputs_matrix(served, names, store.served.input_names())
    values = category_values_seen(served, model, names, config.top_values)
    report = figures(served, X, seen, profile, names, first, last, config, values, label)
    report.computed_at = datetime.now(UTC).isoformat(timespec="seconds")
    report.seconds = round(time.perf_counter() - started, 3)
    return report
