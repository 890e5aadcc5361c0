"""Statistics fitted on a training set and used unchanged at scoring time: the `FeatureArtifacts`.

They hold the unit-value references (median and MAD of log unit value by HS6+origin, HS6 and chapter),
the levels of categorical features, how often each transport mode and customs office is used for each
HS heading, the prior violation rate that smooths outcome histories, and the declared extra columns.
Saved as one JSON file carrying the feature-definition version and a content hash, so a model can name
exactly the statistics it was trained with, and loading refuses a file whose content was altered.
"""

import hashlib
import json
from collections.abc import Mapping
from pathlib import Path
from typing import Any, Self

import numpy as np
import pandas as pd

from roundabout.errors import ConfigError
from roundabout.features.catalogue import FEATURE_NAMES
from roundabout.features.columns import Columns, columns_from_frame, map_values
from roundabout.features.context_tables import fit_context
from roundabout.features.robust import robust_groups

#: Version of the feature definitions; bump when a definition changes meaning.
FEATURES_VERSION = "1.0"
ARTIFACTS_FILE = "feature_artifacts.json"
#: A unit-value or heading group needs this many reference lines to be used (else fall back a level).
MIN_GROUP = 20
#: A categorical value needs this many training lines to get its own level (else it is "other" = 0).
MIN_LEVEL_COUNT = 5
#: Robust scale floor (log units) so near-constant groups do not give huge z-scores.
SCALE_FLOOR = 0.1
#: Pseudo-count of the prior in smoothed violation rates: (violations + w*prior) / (inspections + w).
PRIOR_WEIGHT = 10.0

#: Source column of each categorical feature (derived in `category_values`).
CATEGORY_COLUMNS: dict[str, str] = {
    "hs_chapter": "hs_code",
    "document_kind": "document_kind",
    "direction": "direction",
    "procedure": "procedure",
    "origin_country": "origin_country",
    "destination_country": "destination_country",
    "transport_mode": "transport_mode",
    "customs_office": "customs_office",
    "raw_hs6": "hs6",
    "raw_dispatch_country": "dispatch_country",
    "raw_trading_country": "trading_country",
    "raw_counterparty_country": "counterparty_country",
    "raw_trader_id": "trader_id",
    "raw_declarant_id": "declarant_id",
    "raw_counterparty": "counterparty_key",
}
#: A categorical feature keeps at most this many levels, the most frequent (the rest are "other"): party ids
#: run to tens of thousands, and a level seen a handful of times teaches a tree nothing but noise.
MAX_LEVELS = 1000


class ArtifactsError(ConfigError):
    """Artifacts that cannot be used: not fitted, altered on disk, or of another feature version."""


def _chapter_text(code: str | None) -> str | None:
    return code[:2] if code is not None and len(code) >= 2 else None


def _heading_text(code: str | None) -> str | None:
    return code[:4] if code is not None and len(code) >= 4 else None


def category_values(cols: Columns, feature: str) -> np.ndarray:
    """The raw category values (strings or None) behind a categorical feature."""
    if feature == "hs_chapter":
        return map_values(cols["hs_code"], _chapter_text, object)
    if feature.startswith("extra_"):
        return cols[f"extra:{feature.removeprefix('extra_')}"]
    return cols[CATEGORY_COLUMNS[feature]]


def heading_values(cols: Columns) -> np.ndarray:
    return map_values(cols["hs_code"], _heading_text, object)


def log_unit_values(cols: Columns) -> tuple[np.ndarray, np.ndarray]:
    """log(value/net kg) and log(value/quantity); NaN where a side is missing or not positive."""
    value, mass, qty = cols["value_usd"], cols["net_mass_kg"], cols["quantity"]
    with np.errstate(divide="ignore", invalid="ignore"):
        kg = np.where((value > 0) & (mass > 0), np.log(value / mass), np.nan)
        unit = np.where((value > 0) & (qty > 0), np.log(value / qty), np.nan)
    return kg, unit


def _robust_reference(keys: np.ndarray, logs: np.ndarray) -> dict[str, list[float]]:
    """{group: [median, scale]} over groups with at least MIN_GROUP finite values."""
    stats = robust_groups(keys, logs, MIN_GROUP, SCALE_FLOOR)
    rows = zip(stats.index, stats["median"], stats["scale"], strict=True)
    return {str(k): [float(m), float(s)] for k, m, s in rows}


def _group_keys(cols: Columns) -> dict[str, np.ndarray]:
    hs6 = cols["hs6"]
    origin = cols["origin_country"]
    both = np.full(len(hs6), None, dtype=object)
    ok = pd.notna(hs6) & pd.notna(origin)
    both[ok] = hs6[ok] + "|" + origin[ok]
    return {"hs6_origin": both, "hs6": hs6, "chapter": map_values(cols["hs_code"], _chapter_text, object)}


def _levels(values: np.ndarray) -> list[str]:
    """Values seen on at least MIN_LEVEL_COUNT training lines, the MAX_LEVELS most frequent, sorted."""
    counts = pd.Series(values[pd.notna(values)]).value_counts()
    counts = counts.sort_index().sort_values(ascending=False, kind="stable")  # ties by value: deterministic
    kept = counts[counts >= MIN_LEVEL_COUNT].head(MAX_LEVELS)
    return sorted(str(v) for v in kept.index)


def _shares(headings: np.ndarray, values: np.ndarray) -> dict[str, dict[str, float]]:
    ok = pd.notna(headings) & pd.notna(values)
    counts = pd.DataFrame({"h": headings[ok], "v": values[ok]}).groupby(["h", "v"]).size()
    size = counts.groupby(level="h").sum()
    out: dict[str, dict[str, float]] = {}
    for (h, v), c in counts.items():
        if size[h] >= MIN_GROUP:
            out.setdefault(str(h), {})[str(v)] = float(c) / float(size[h])
    return out


def reference_index(tables: dict[str, dict[str, list[float]]]) -> tuple[dict[str, int], np.ndarray]:
    """Flatten the three reference levels: {level-tagged group: row} and rows of (median, scale, level).
    Row 0 is "no reference" (NaN, NaN, 0)."""
    rows = [(np.nan, np.nan, 0.0)]
    index: dict[str, int] = {}
    for name, level in (("hs6_origin", 3.0), ("hs6", 2.0), ("chapter", 1.0)):
        for group, (median, scale) in tables[name].items():
            index[f"{level:.0f}:{group}"] = len(rows)
            rows.append((median, scale, level))
    return index, np.array(rows, dtype="float64")


class FeatureArtifacts:
    """Fitted feature statistics (sklearn-style: configure in `__init__`, learn in `fit`)."""

    def __init__(self) -> None:
        self.payload: dict[str, Any] | None = None
        self.content_hash: str | None = None
        self.version: str = FEATURES_VERSION
        self._lookup: dict[str, Any] | None = None

    # fitting -----------------------------------------------------------------------------------------
    def fit(
        self,
        lines: pd.DataFrame,
        inspections: pd.DataFrame | None = None,
        extra_columns: Mapping[str, str] | None = None,
    ) -> Self:
        """Learn the statistics from training lines (and their outcomes, for the prior violation rate)."""
        extra = dict(extra_columns or {})
        cols = columns_from_frame(lines, extra)
        kg, unit = log_unit_values(cols)
        keys = _group_keys(cols)
        reference = {
            "kg": {level: _robust_reference(k, kg) for level, k in keys.items()},
            "unit": {level: _robust_reference(k, unit) for level, k in keys.items()},
        }
        levels = {name: _levels(category_values(cols, name)) for name in CATEGORY_COLUMNS}
        for name, kind in extra.items():
            if kind == "categorical":
                levels[f"extra_{name}"] = _levels(cols[f"extra:{name}"])
        headings = heading_values(cols)
        prior = 0.0
        if inspections is not None and len(inspections):
            ids = pd.Index(lines["line_id"].to_numpy(dtype=object))
            known = ids.get_indexer(inspections["line_id"].to_numpy(dtype=object)) >= 0
            if known.any():
                prior = float((inspections["outcome"].to_numpy(dtype=object)[known] == "violation").mean())
        payload = {
            "version": FEATURES_VERSION,
            "feature_names": list(FEATURE_NAMES),
            "constants": {
                "min_group": MIN_GROUP,
                "min_level_count": MIN_LEVEL_COUNT,
                "scale_floor": SCALE_FLOOR,
                "prior_weight": PRIOR_WEIGHT,
            },
            "n_lines": len(lines),
            "unit_value_reference": reference,
            "levels": levels,
            "transport_mode_share": _shares(headings, cols["transport_mode"]),
            "customs_office_share": _shares(headings, cols["customs_office"]),
            "prior_violation_rate": prior,
            "extra_columns": extra,
            "context": fit_context(cols),
        }
        self._set(payload)
        return self

    def _set(self, payload: dict[str, Any]) -> None:
        self.payload = payload
        self.version = str(payload["version"])
        self.content_hash = _hash(payload)
        self._lookup = None

    # persistence -------------------------------------------------------------------------------------
    def save(self, directory: Path) -> Path:
        """Write the artifacts to `directory/feature_artifacts.json`; returns the file path."""
        payload = self._require()
        directory = Path(directory)
        directory.mkdir(parents=True, exist_ok=True)
        path = directory / ARTIFACTS_FILE
        body = {"content_hash": self.content_hash, "payload": payload}
        path.write_text(json.dumps(body, sort_keys=True, separators=(",", ":")))
        return path

    @classmethod
    def load(cls, directory: Path) -> Self:
        """Read saved artifacts, checking the content hash and the feature version."""
        path = Path(directory) / ARTIFACTS_FILE
        if not path.exists():
            raise ArtifactsError(f"no feature artifacts at {path}")
        body = json.loads(path.read_text())
        payload = body["payload"]
        if _hash(payload) != body.get("content_hash"):
            raise ArtifactsError(f"{path}: content hash does not match; the file was altered")
        if payload.get("version") != FEATURES_VERSION:
            raise ArtifactsError(
                f"{path}: fitted for feature version {payload.get('version')}, "
                f"this code is {FEATURES_VERSION}"
            )
        out = cls()
        out._set(payload)
        return out

    # lookups used by the feature families ------------------------------------------------------------
    @property
    def extra_columns(self) -> dict[str, str]:
        return dict(self._require()["extra_columns"])

    @property
    def prior_violation_rate(self) -> float:
        return float(self._require()["prior_violation_rate"])

    def lookup(self) -> dict[str, Any]:
        """Dicts for fast per-value lookups, built once from the payload."""
        if self._lookup is None:
            p = self._require()
            self._lookup = {
                "levels": {
                    name: {v: float(i + 1) for i, v in enumerate(lv)} for name, lv in p["levels"].items()
                },
                "reference_kg": reference_index(p["unit_value_reference"]["kg"]),
                "reference_unit": reference_index(p["unit_value_reference"]["unit"]),
                "transport_mode_share": p["transport_mode_share"],
                "customs_office_share": p["customs_office_share"],
                # absent from artifacts fitted before the context family existed: its features are NaN
                "context": p.get("context"),
            }
        return self._lookup

    def level_names(self, feature: str) -> list[str]:
        """Level names of a categorical feature; code i (1-based) is `level_names[i - 1]`, 0 is other."""
        return list(self._require()["levels"][feature])

    def _require(self) -> dict[str, Any]:
        if self.payload is None:
            raise ArtifactsError("feature artifacts are not fitted: call fit() or load()")
        return self.payload


def _hash(payload: Mapping[str, Any]) -> str:
    text = json.dumps(payload, sort_keys=True, separators=(",", ":"))
    return hashlib.sha256(text.encode()).hexdigest()
