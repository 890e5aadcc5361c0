"""Fitting the risk model on a split history: features, classifier, anomaly forest, oddness detector,
fusion, thresholds.

Inputs missing or constant on every training line are dropped first (`inputs.py`); the input families and
the classifier's settings are then chosen on the validation period within the search budget
(`search.py`). Everything is fitted on the training period except what needs held-out lines: early
stopping, selection, tuning and the fusion's Platt scaling use the validation period's inspected lines;
channel thresholds use the score distribution of the most recent `channels.period_days` of the data. Only
the lines a step needs are scored (validation, holdout, the recent period and a reference sample), which
keeps a million-line history within minutes. A split drawn from a history too large for one process
(`dask_split.py`: every labelled line and a uniform draw) gives the artifacts, the anomaly detectors, the
reference sample and the channel thresholds its drawn lines only, so they estimate every line's.
"""

from collections.abc import Callable
from dataclasses import dataclass, field

import numpy as np
import pandas as pd

from roundabout.features import FeatureArtifacts, feature_names
from roundabout.models.anomaly import AnomalyDetector
from roundabout.models.classifier import RiskClassifier
from roundabout.models.fusion import Fusion
from roundabout.models.list_rule import ListRule
from roundabout.models.oddness import ODDNESS_INPUTS, OddnessDetector
from roundabout.models.policy import SelectionPolicy
from roundabout.models.profile import ReferenceProfile, build_profile
from roundabout.models.risk_model import RiskModel, anomaly_inputs, categorical_inputs
from roundabout.models.target_stats import TargetStats
from roundabout.training.classifier_data import ClassifierData
from roundabout.training.config import TrainConfig
from roundabout.training.exploration import weights
from roundabout.training.inputs import families, usable_inputs
from roundabout.training.search import SearchResult, chosen_config, search_classifier, without_families
from roundabout.training.split import Split, labels, selection_of
from roundabout.training.stages import Mark, no_mark
from roundabout.training.tuning import TrialReport

#: Fits a configured classifier instead of its own `fit` (same arguments), e.g. on a cluster
#: (`models/dask_classifier.py`); it may fit in process when the labelled set is small.
ClassifierFit = Callable[..., RiskClassifier]
#: Lines of the training period whose anomaly scores set the fusion's anomaly scale.
ANOMALY_REFERENCE_ROWS = 20_000


@dataclass
class Fitted:
    """The fitted model and what evaluation and the run log need: features, labels, holdout scores, the
    inputs dropped as unusable, the search and the configuration that reproduces the model."""

    model: RiskModel
    features: pd.DataFrame
    label: np.ndarray
    holdout_risk: np.ndarray
    holdout_anomaly: np.ndarray
    holdout_raw: np.ndarray
    counts: dict[str, int] = field(default_factory=dict)
    unusable: dict[str, str] = field(default_factory=dict)
    search: SearchResult | None = None
    chosen: TrainConfig | None = None


def _all_families(artifacts: FeatureArtifacts, id_columns: list[str]) -> set[str]:
    """Every family an input of this data could belong to (for checking names given in a config)."""
    names = feature_names(artifacts)
    return set(families(names, id_columns))


def fit_risk_model(
    split: Split,
    config: TrainConfig,
    mark: Mark | None = None,
    on_trial: TrialReport | None = None,
    fit_classifier: ClassifierFit | None = None,
) -> Fitted:
    """Fit every part of the risk model on `split` (see the module docstring); the classifier by
    `fit_classifier(classifier, *fit arguments)` when given."""
    mark = mark or no_mark
    data = split.data
    config.target_stats.check_columns(data.extra_columns)
    lines = data.lines
    label = labels(data)
    _, propensity = selection_of(data)
    ipw = config.labels.weighting == "ipw" and bool((propensity < 1).any())
    weight = weights(propensity, config.labels.max_weight) if ipw else None

    mark("features")
    drawn = split.drawn_lines()
    train_drawn = split.train & drawn  # what estimates something of every training line
    train_lines = lines[train_drawn]
    train_outcomes = data.inspections[data.inspections["line_id"].isin(train_lines["line_id"])]
    artifacts = FeatureArtifacts().fit(train_lines, train_outcomes, data.extra_columns)
    features = split.features(artifacts)
    usable, unusable = usable_inputs(features, split.train)
    X_all = features[usable].to_numpy(dtype="float64", na_value=np.nan)

    mark("select and tune")
    train_lab = split.train & ~np.isnan(label)
    valid_lab = split.valid & ~np.isnan(label)
    idx_train, idx_valid = np.flatnonzero(train_lab), np.flatnonzero(valid_lab)
    id_columns = list(config.target_stats.columns)
    stats = _target_stats(config, id_columns)
    te_train = stats.fit_transform(lines.iloc[idx_train], label[idx_train])
    candidates = ClassifierData(
        [*usable, *stats.feature_names],
        frozenset(categorical_inputs(usable, artifacts)),
        np.hstack([X_all[idx_train], te_train]),
        label[idx_train],
        np.hstack([X_all[idx_valid], stats.transform(lines.iloc[idx_valid])]),
        label[idx_valid],
        config.seed,
        weight[idx_train] if weight is not None else None,
        weight[idx_valid] if weight is not None else None,
    )
    known = _all_families(artifacts, id_columns)
    groups = without_families(families(usable, id_columns), config.search.drop_families, known)
    search = search_classifier(candidates, groups, config, on_trial)

    mark("fit classifier")
    chosen = set(search.inputs)
    base = usable  # what the model reads: the anomaly detector sees every usable input
    classifier_base = [name for name in base if name in chosen]
    kept_ids = [c for c in id_columns if f"te_{c}_rate" in chosen]
    stats = _target_stats(config, kept_ids)
    te_train = stats.fit_transform(lines.iloc[idx_train], label[idx_train])
    position = {name: i for i, name in enumerate(base)}
    cls_cols = [position[name] for name in classifier_base]
    cls_cols += [len(base) + j for j in range(len(stats.feature_names))]

    def inputs(idx: np.ndarray) -> np.ndarray:
        """The model's input matrix of rows `idx` that are not training rows of the classifier."""
        if not stats.columns:
            return X_all[idx]
        return np.hstack([X_all[idx], stats.transform(lines.iloc[idx])])

    def for_classifier(X: np.ndarray) -> np.ndarray:
        return X[:, cls_cols]

    X_valid = inputs(idx_valid)
    categorical = categorical_inputs(base, artifacts)
    classifier = RiskClassifier(
        params=search.classifier.lgb_params(),
        num_boost_round=search.classifier.num_boost_round,
        early_stopping_rounds=search.classifier.early_stopping_rounds,
        scale_pos_weight=search.classifier.scale_pos_weight,
        seed=config.seed,
        num_threads=search.classifier.num_threads,
        class_weight=search.classifier.class_weight,
    )
    fit_args = (
        for_classifier(np.hstack([X_all[idx_train], te_train])),
        label[idx_train],
        [*classifier_base, *stats.feature_names],
        [name for name in categorical if name in chosen],
        for_classifier(X_valid),
        label[idx_valid],
        weight[idx_train] if weight is not None else None,
        weight[idx_valid] if weight is not None else None,
    )
    classifier = fit_classifier(classifier, *fit_args) if fit_classifier else classifier.fit(*fit_args)

    mark("fit anomaly")
    cols = anomaly_inputs(base, categorical)
    anomaly = AnomalyDetector(
        config.anomaly.n_estimators, config.anomaly.max_samples, config.anomaly.fit_rows, config.seed
    ).fit(X_all[train_drawn][:, cols])

    mark("fit oddness")
    odd_names = [name for name in base if name in ODDNESS_INPUTS]
    odd_cols = [position[name] for name in odd_names]
    oddness = OddnessDetector().fit(X_all[train_drawn][:, odd_cols], odd_names)

    def odd(X: np.ndarray) -> np.ndarray:
        return oddness.score(X[:, odd_cols])[0]

    mark("calibrate")
    rng = np.random.default_rng(config.seed)
    train_rows = np.flatnonzero(train_drawn)
    ref_rows = np.sort(rng.choice(train_rows, min(ANOMALY_REFERENCE_ROWS, len(train_rows)), replace=False))
    anomaly_ref = anomaly.anomaly_score(X_all[ref_rows][:, cols])
    raw_valid = classifier.raw_score(for_classifier(X_valid))
    anomaly_valid = anomaly.anomaly_score(X_all[idx_valid][:, cols])
    fusion = Fusion.fit(
        raw_valid,
        anomaly_valid,
        label[idx_valid],
        anomaly_ref,
        config.fusion.min_anomaly_weight,
        config.fusion.anomaly_weight,
        odd(X_valid),
        odd(X_all[ref_rows]),
        config.fusion.min_oddness_weight,
        config.fusion.oddness_weight,
        config.fusion.oddness_quantile,
        config.fusion.max_oddness_excess,
        weight[idx_valid] if weight is not None else None,
    )
    idx_hold = np.flatnonzero(split.holdout)
    X_hold = inputs(idx_hold)
    raw_hold = classifier.raw_score(for_classifier(X_hold))
    anomaly_hold = anomaly.anomaly_score(X_hold[:, cols])
    risk_hold = fusion.risk(raw_hold, anomaly_hold, odd(X_hold))

    dates = lines["date"].to_numpy(dtype="datetime64[D]")
    recent = drawn & (dates >= dates.max() - np.timedelta64(config.channels.period_days - 1, "D"))
    if np.array_equal(recent, recent & split.holdout):
        in_hold = recent[idx_hold]
        recent_risk = risk_hold[in_hold]
        recent_evidence = fusion.evidence(anomaly_hold[in_hold], odd(X_hold[in_hold]))
    else:
        idx_recent = np.flatnonzero(recent)
        X_recent = inputs(idx_recent)
        anomaly_recent, odd_recent = anomaly.anomaly_score(X_recent[:, cols]), odd(X_recent)
        recent_risk = fusion.risk(classifier.raw_score(for_classifier(X_recent)), anomaly_recent, odd_recent)
        recent_evidence = fusion.evidence(anomaly_recent, odd_recent)
    period = (str(dates[recent].min()), str(dates[recent].max()))
    ch = config.channels
    policy = SelectionPolicy.fit(
        ch.exploration_rate, ch.exploration_strategy, ch.exploration_channel, ch.exploration_floor,
        recent_risk, recent_evidence,
    )  # fmt: skip
    thresholds = policy.thresholds(recent_risk, recent_evidence, ch.red_share, ch.yellow_share, period)
    # the sanctions-list rule lifts list hits into the red band (models/list_rule.py)
    fusion.list_rule = 1.0 if config.fusion.list_hits_red else 0.0
    rule = ListRule.for_inputs(base, config.fusion.list_hits_red, artifacts.prior_violation_rate)
    risk_hold = rule.lift(risk_hold, rule.hits(X_hold), thresholds.red)

    model = RiskModel(
        classifier=classifier,
        anomaly=anomaly,
        fusion=fusion,
        thresholds=thresholds,
        artifacts=artifacts,
        base_features=base,
        classifier_base=classifier_base,
        target_stats=stats,
        top_k=config.top_k_reasons,
        oddness=oddness,
        policy=policy,
        metadata={
            "best_iteration": classifier.best_iteration_,
            "trained_on": split.summary(),
            **({"classifier_fitted_with": classifier.fitted_with} if classifier.fitted_with else {}),
        },
    )
    model.profile = reference_profile(model, X_hold, risk_hold, fusion.evidence(anomaly_hold, odd(X_hold)))
    counts = {
        "train_labelled": len(idx_train),
        "train_violations": int(label[idx_train].sum()),
        "valid_labelled": len(idx_valid),
        "valid_violations": int(label[idx_valid].sum()),
        "holdout_lines": len(idx_hold),
        "holdout_labelled": int((~np.isnan(label[idx_hold])).sum()),
        "train_weighted": int(ipw),
        "train_uncertain": int((propensity[idx_train] < 1).sum()),
    }
    if split.drawn is not None:
        counts["lines_drawn"] = int(drawn.sum())
    counts["inputs"] = len(model.feature_names)
    chosen = chosen_config(config, search)
    return Fitted(model, features, label, risk_hold, anomaly_hold, raw_hold, counts, unusable, search, chosen)


def reference_profile(
    model: RiskModel, X_hold: np.ndarray, risk_hold: np.ndarray, evidence: np.ndarray
) -> ReferenceProfile:
    """The holdout's profile (`models/profile.py`): its base inputs, risk scores, and channels as the service
    decides them (exploration draws included, from a fixed seed: the shares the thresholds were cut for)."""
    base = X_hold[:, : len(model.base_features)]
    draws = np.random.default_rng(0).random(len(risk_hold)) if model.policy.rate else None
    chosen = model.policy.select(model.thresholds, risk_hold, model.list_rule.hits(X_hold), evidence, draws)
    gain = model.classifier.importance()
    total = sum(gain.values()) or 1.0
    shares = {name: value / total for name, value in gain.items() if name in model.base_features}
    levels = {name: model.artifacts.level_names(name) for name in model.categorical}
    part = model.metadata.get("trained_on", {}).get("holdout", {})
    period = (str(part.get("start", "")), str(part.get("end", "")))
    return build_profile(
        base, model.base_features, levels, risk_hold, chosen.channel, period, shares, chosen.selection
    )


def _target_stats(config: TrainConfig, columns: list[str]) -> TargetStats:
    c = config.target_stats
    return TargetStats(columns, c.smoothing, c.folds, config.seed)


def holdout_features(
    model: RiskModel, split: Split, features: pd.DataFrame | None, artifacts_hash: str | None
) -> pd.DataFrame:
    """A model's features of the holdout lines, rebuilt with its own artifacts unless they are the same."""
    if features is not None and model.artifacts.content_hash == artifacts_hash:
        return features[split.holdout]
    return split.features(model.artifacts)[split.holdout]
