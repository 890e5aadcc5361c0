"""`RiskModel`: everything the risk model needs in one object, with the fast scoring paths serving calls.

It holds the native LightGBM booster, the exported anomaly forest, the oddness detector, the fusion
(calibration), the channel
thresholds, the feature artifacts, the out-of-fold target statistics of id columns and the list of model
inputs in order. Two paths, same numbers:

- `score_one(features, line)`: one line, as the online feature store gives it (a 1-D float array in
  `base_features` order, or a mapping name -> value) plus the canonical line (for the id statistics).
  Plain numpy and one or two calls of LightGBM's single-row fast path (`RiskClassifier.raw_score_one`,
  `contributions_one`); no DataFrame, no sklearn, no `Booster.predict`.
- `score_batch(X)`: a full input matrix (`matrix()` builds it from a feature frame and the lines).

`save(dir)` / `load(dir)` write and read a folder of plain files (LightGBM text model, npz arrays, JSON),
which is what the MLflow pyfunc packs as its artifact.
"""

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Self

import numpy as np
import pandas as pd

from roundabout.data.history import beside_history
from roundabout.data.io import CanonicalData
from roundabout.features import FEATURES, FeatureArtifacts, build_features
from roundabout.features.catalogue import extra_feature_name
from roundabout.features.context import CONTEXT_FEATURES
from roundabout.features.oddities import describe_oddity
from roundabout.models.anomaly import AnomalyDetector
from roundabout.models.channels import Thresholds
from roundabout.models.classifier import RiskClassifier
from roundabout.models.explain import Explainer, Reason, reason_evidence, reason_templates
from roundabout.models.fusion import Fusion
from roundabout.models.list_rule import ListRule
from roundabout.models.oddness import OddnessDetector
from roundabout.models.persistence import load_parts, save_parts
from roundabout.models.policy import SelectionPolicy, draws
from roundabout.models.profile import ReferenceProfile
from roundabout.models.scores import BatchScores, LineRecords, LineScore, scores_frame
from roundabout.models.target_stats import TargetStats
from roundabout.parties.index import ScreeningIndex

#: Reason feature name of the oddness detector's part of the score.
ODDNESS = "oddness"


@dataclass
class RiskModel:
    """The fitted risk model. Build it with `training`, or `RiskModel.load(dir)`."""

    classifier: RiskClassifier
    anomaly: AnomalyDetector
    fusion: Fusion
    thresholds: Thresholds
    artifacts: FeatureArtifacts
    base_features: list[str]
    target_stats: TargetStats = field(default_factory=TargetStats)
    top_k: int = 3
    n_contributions: int = 10
    metadata: dict[str, Any] = field(default_factory=dict)
    #: The base features the classifier reads (None: all; the anomaly detector picks its own, `anomaly.py`).
    classifier_base: list[str] | None = None
    #: The oddness detector (None in models trained before it: their oddness_score is missing).
    oddness: OddnessDetector | None = None
    #: The exploration quota and strategy the channels were cut for (`policy.py`).
    policy: SelectionPolicy = field(default_factory=SelectionPolicy)
    #: The holdout's inputs, scores and channels, which the monitor compares served lines with (`profile.py`).
    profile: ReferenceProfile | None = None

    def __post_init__(self) -> None:
        base = self.base_features
        self.classifier_base = list(self.classifier_base) if self.classifier_base is not None else list(base)
        unknown = [name for name in self.classifier_base if name not in base]
        if unknown:
            raise ValueError(f"classifier inputs that are no base feature: {unknown[:5]}")
        #: The classifier's inputs, in its column order: the base features it reads, then the id statistics.
        self.feature_names = [*self.classifier_base, *self.target_stats.feature_names]
        self.categorical = categorical_inputs(base, self.artifacts)
        self.anomaly_columns = anomaly_inputs(base, self.categorical)
        templates = reason_templates(self.feature_names, self.target_stats.columns)
        evidence = reason_evidence(self.feature_names, self.target_stats.columns)
        categorical = set(self.categorical) & set(self.feature_names)
        self.explainer = Explainer(
            self.feature_names, templates, self._level_name, categorical, self.top_k, evidence
        )
        self._index = {name: i for i, name in enumerate(base)}
        self._anomaly_idx = np.asarray(self.anomaly_columns, dtype=np.int64)
        prior, rule_on = self.artifacts.prior_violation_rate, self.fusion.list_rule > 0
        self.list_rule = ListRule.for_inputs(base, rule_on, prior)
        missing = [n for n in (self.oddness.inputs if self.oddness else []) if n not in self._index]
        if missing:
            raise ValueError(f"oddness inputs that are no base feature: {missing[:5]}")
        self._oddness_idx = np.asarray(
            [self._index[n] for n in self.oddness.inputs] if self.oddness else [], dtype=np.int64
        )
        # The classifier's columns of an input matrix ([base..., id statistics...]); None when it reads all.
        positions = [self._index[name] for name in self.classifier_base]
        positions += [len(base) + j for j in range(len(self.target_stats.feature_names))]
        whole = positions == list(range(len(base) + len(self.target_stats.feature_names)))
        self._classifier_idx = None if whole else np.asarray(positions, dtype=np.int64)

    def classifier_part(self, X: np.ndarray) -> np.ndarray:
        """The classifier's columns of input rows (a matrix, or one row)."""
        if self._classifier_idx is None:
            return X
        return X[..., self._classifier_idx]

    def _level_name(self, feature: str, code: int) -> str | None:
        try:
            names = self.artifacts.level_names(feature)
        except KeyError:
            return None
        return names[code - 1] if 0 < code <= len(names) else None

    # inputs ----------------------------------------------------------------------------------------
    def matrix(
        self,
        features: pd.DataFrame | np.ndarray,
        lines: pd.DataFrame | Sequence[Mapping[str, Any]] | None = None,
    ) -> np.ndarray:
        """The model's input matrix: the base features (a frame holding them, or an array whose columns are
        `base_features` in order, as the online store gives them), then the id statistics of `lines`
        (canonical lines: a frame or records)."""
        if isinstance(features, pd.DataFrame):
            missing = [c for c in self.base_features if c not in features.columns]
            if missing:
                raise KeyError(f"feature frame lacks model inputs: {', '.join(missing[:10])}")
            X = features[self.base_features].to_numpy(dtype="float64", na_value=np.nan)
        else:
            X = np.asarray(features, dtype="float64")
            if X.ndim != 2 or X.shape[1] != len(self.base_features):
                raise ValueError(f"expected {len(self.base_features)} feature columns, got shape {X.shape}")
        if self.target_stats.columns:
            if lines is None:
                raise ValueError("this model uses id statistics: pass the canonical lines too")
            X = np.hstack([X, self.target_stats.transform(lines)])
        return X

    def features_of(
        self, data: CanonicalData, progress: Any = None, screening: ScreeningIndex | None = None
    ) -> pd.DataFrame:
        """Point-in-time features of `data` (parties screened against `screening`, if given)."""
        return build_features(data, self.artifacts, progress, screening)

    def vector(
        self, features: np.ndarray | Mapping[str, float], line: Mapping[str, Any] | None = None
    ) -> np.ndarray:
        """One line's input row (1-D) from store features (array in `base_features` order or mapping)."""
        if isinstance(features, Mapping):
            x = np.array([_as_float(features.get(name)) for name in self.base_features], dtype="float64")
        else:
            x = np.asarray(features, dtype="float64")
            if x.shape != (len(self.base_features),):
                raise ValueError(f"expected {len(self.base_features)} features, got shape {x.shape}")
        if self.target_stats.columns:
            if line is None:
                raise ValueError("this model uses id statistics: pass the canonical line too")
            x = np.concatenate([x, self.target_stats.transform_one(line)])
        return x

    # scoring ---------------------------------------------------------------------------------------
    def score_one(
        self,
        features: np.ndarray | Mapping[str, float],
        line: Mapping[str, Any] | None = None,
        explain: bool = True,
        top_k: int | None = None,
        draw: float | None = None,
    ) -> LineScore:
        """Score one line: the single-line path (numpy and the native booster only); `draw` is the line's
        exploration draw (`policy.draw`; None: not drawn)."""
        x = self.vector(features, line)
        xc = self.classifier_part(x)
        # LightGBM's single-row fast path: in the calling thread, without Booster.predict's Python layer.
        raw = self.classifier.raw_score_one(xc)
        anomaly = self.anomaly.anomaly_score_one(x[self._anomaly_idx])
        oddness, oddest = self._oddness(x[None, :])
        odd = float(oddness[0]) if self.oddness else None
        risk, hit = self.list_rule.lift_one(self.fusion.risk_one(raw, anomaly, odd), x, self.thresholds.red)
        evidence = self.fusion.evidence_one(anomaly, odd)
        chosen = self.policy.select_one(self.thresholds, risk, hit, evidence, draw)
        if not explain:
            return LineScore(risk, anomaly, chosen[0], [], {}, odd, *chosen[1:])
        contrib = self.classifier.contributions_one(xc)
        reasons, contributions = self._explain(xc, contrib, anomaly, top_k, (odd, int(oddest[0]), line))
        if hit:
            reasons = self.list_rule.first(x, reasons, self.explainer.top_k if top_k is None else top_k)
        return LineScore(risk, anomaly, chosen[0], reasons, contributions, odd, *chosen[1:])

    def score_batch(
        self,
        X: np.ndarray,
        explain: bool = False,
        top_k: int | None = None,
        lines: Sequence[Mapping[str, Any]] | None = None,
        draws: np.ndarray | None = None,
    ) -> BatchScores:
        """Score an input matrix (`matrix()`: base features, then id statistics). With `lines` (the
        canonical lines of the rows) an oddness reason names the line's own figures; `draws` are the rows'
        exploration draws (None: none drawn)."""
        X = np.asarray(X, dtype="float64")
        Xc = self.classifier_part(X)
        raw = self.classifier.raw_score(Xc) if len(X) else np.empty(0)
        # The detector picks its columns chunk by chunk (no copy of X) and walks the trees in threads.
        anomaly = self.anomaly.anomaly_score(X, columns=self._anomaly_idx) if len(X) else np.empty(0)
        oddness, oddest = self._oddness(X)
        fused = oddness if self.oddness else None
        hits = self.list_rule.hits(X)
        risk = self.list_rule.lift(self.fusion.risk(raw, anomaly, fused), hits, self.thresholds.red)
        shown = oddness if self.oddness else np.full(len(X), np.nan)
        evidence = self.fusion.evidence(anomaly, fused)
        chosen = self.policy.select(self.thresholds, risk, hits, evidence, draws)
        out = BatchScores(risk, anomaly, chosen.channel, raw, shown, selection=chosen.selection)
        out.propensity, out.exploration = chosen.propensity, chosen.exploration
        if explain and len(X):
            contrib = self.classifier.contributions(Xc)

            excess = self.fusion.oddness_excess(oddness) if self.oddness else np.zeros(len(X))

            def odd(i: int) -> tuple[float | None, int, Mapping[str, Any] | None]:
                # Only a line whose oddness counts gets a reason that reads its fields.
                line = lines[i] if lines is not None and excess[i] > 0 else None
                return (float(oddness[i]) if self.oddness else None, int(oddest[i]), line)

            pairs = [self._explain(Xc[i], contrib[i], anomaly[i], top_k, odd(i)) for i in range(len(X))]
            k = self.explainer.top_k if top_k is None else top_k
            pairs = [
                (self.list_rule.first(X[i], p[0], k), p[1]) if hits[i] else p for i, p in enumerate(pairs)
            ]
            out.reasons = [p[0] for p in pairs]
            out.contributions = [p[1] for p in pairs]
        elif explain:
            out.reasons, out.contributions = [], []
        return out

    def score_data(
        self,
        data: CanonicalData,
        explain: bool = False,
        progress: Any = None,
        history: CanonicalData | None = None,
        screening: ScreeningIndex | None = None,
        key: bytes | None = None,
    ) -> pd.DataFrame:
        """Build features and score every line of a canonical data folder (the back-fill path); the frame
        of `scores_frame`; `key` draws lines for exploration (`policy.py`; None: none drawn). With a
        `history` (the folders before a held-out period, stacked), features are built over the history
        and `data` together, with the history's outcomes only (`data`'s own are ignored: a held-out period
        must not see its labels), and only `data`'s lines are scored."""
        if history is None:
            features = self.features_of(data, progress, screening)
        else:
            beside = beside_history(data, history)
            features = self.features_of(beside.data, progress, screening)[beside.target]
        records = LineRecords(data.lines) if explain else None
        ids = data.lines["line_id"].to_numpy(dtype=object)
        u = draws(key, ids) if key is not None and self.policy.rate else None
        X = self.matrix(features, data.lines)
        return scores_frame(ids, self.score_batch(X, explain=explain, lines=records, draws=u))

    def _oddness(self, X: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """Oddness of input rows and the detector's index of each row's oddest trait."""
        if self.oddness is None or not len(X):
            return np.zeros(len(X)), np.full(len(X), -1)
        return self.oddness.score(X[:, self._oddness_idx])

    def _oddness_reason(
        self, oddness: float | None, oddest: int, line: Mapping[str, Any] | None
    ) -> list[Reason]:
        """The oddness part's reason: its share of the fused log-odds, and what is odd about the line."""
        if self.oddness is None or oddness is None:
            return []
        share = self.fusion.d * float(self.fusion.oddness_excess(oddness))
        trait = self.oddness.oddest_input(oddest)
        if not share or trait is None:
            return []
        text = describe_oddity(self.artifacts, line, trait[0]) or (
            f"The line is unlike lines of its goods: its {trait[0].replace('_', ' ')} is rarer than "
            f"1 in {10**oddness:,.0f} training lines"
        )
        return [Reason(ODDNESS, round(oddness, 3), share, text)]

    def _explain(
        self,
        x: np.ndarray,
        contrib: np.ndarray,
        anomaly: float,
        top_k: int | None = None,
        odd: tuple[float | None, int, Mapping[str, Any] | None] = (None, -1, None),
    ) -> tuple[list[Reason], dict[str, float]]:
        shares = self.fusion.a * contrib[:-1]
        anomaly_part = float(self.fusion.b * self.fusion.anomaly_z(anomaly))
        extra = self._oddness_reason(*odd)
        reasons = self.explainer.reasons(x, shares, anomaly_part, float(anomaly), top_k, extra)
        top = np.argsort(-np.abs(shares), kind="stable")[: self.n_contributions]
        contributions = {self.feature_names[i]: float(shares[i]) for i in top if shares[i] != 0.0}
        if anomaly_part:
            contributions["anomaly"] = anomaly_part
        if extra:
            contributions[ODDNESS] = extra[0].contribution
        return reasons, contributions

    # persistence -----------------------------------------------------------------------------------
    def save(self, directory: Path) -> Path:
        """Write the model as a folder of plain files (`persistence.py`); returns the folder."""
        return save_parts(directory, self)

    @classmethod
    def load(cls, directory: Path) -> Self:
        """Read a saved model folder (`persistence.py`); a missing or inconsistent part raises."""
        parts, saved_inputs = load_parts(directory)
        model = cls(**parts)
        if model.feature_names != saved_inputs or model.classifier.booster.num_feature() != len(saved_inputs):
            raise ValueError(f"{directory}: the classifier's inputs do not match the saved feature list")
        return model


def categorical_inputs(base_features: list[str], artifacts: FeatureArtifacts) -> list[str]:
    """Inputs that are fitted level codes: catalogue categories and categorical extra columns."""
    cats = {f.name for f in FEATURES if f.dtype == "category"}
    cats |= {extra_feature_name(n) for n, kind in artifacts.extra_columns.items() if kind == "categorical"}
    return [name for name in base_features if name in cats]


def anomaly_inputs(base_features: list[str], categorical: list[str]) -> list[int]:
    """Columns the isolation forest sees: every base feature except level codes (their order is arbitrary)
    and the context family, which the oddness detector reads (in the forest they moved the planted schemes'
    recall and found the odd lines no better: docs/models.md)."""
    skip = set(categorical) | set(CONTEXT_FEATURES)
    return [i for i, name in enumerate(base_features) if name not in skip]


def _as_float(value: Any) -> float:
    return np.nan if value is None else float(value)
