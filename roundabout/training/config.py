"""The training job's options: one typed, documented config, loadable from YAML (any subset of keys).

Every field has a description; `roundabout train --config FILE` reads a YAML file of the same shape
(docs/models.md lists the options). Unknown keys fail fast with their name.
"""

from collections.abc import Iterable
from datetime import date
from pathlib import Path
from typing import Any, Literal, Self

from pydantic import BaseModel, ConfigDict, Field, field_validator, model_validator

from roundabout.data.schema import ID_COLUMNS
from roundabout.errors import ConfigError
from roundabout.yaml_config import load_yaml_config


class _Options(BaseModel):
    model_config = ConfigDict(extra="forbid")


class SplitConfig(_Options):
    """How lines are split by time into train / validation / holdout (the holdout is the most recent)."""

    kind: Literal["fractions", "dates", "folders"] = Field(
        "fractions",
        description="fractions: by date quantiles of the lines; dates: explicit cut dates; folders: fixed "
        "validation and holdout data folders (e.g. another administration's train/valid/test files)",
    )
    valid_fraction: float = Field(0.15, gt=0, lt=0.5, description="fractions: share of lines in validation")
    holdout_fraction: float = Field(
        0.15, gt=0, lt=0.5, description="fractions: share of lines in the holdout"
    )
    valid_start: date | None = Field(None, description="dates: first day of the validation period")
    holdout_start: date | None = Field(None, description="dates: first day of the holdout period")
    valid_data: Path | None = Field(
        None, description="folders: canonical data folder of the validation lines"
    )
    holdout_data: Path | None = Field(None, description="folders: canonical data folder of the holdout lines")

    @model_validator(mode="after")
    def _complete(self) -> Self:
        if self.kind == "dates" and (self.valid_start is None or self.holdout_start is None):
            raise ValueError("split.kind 'dates' needs valid_start and holdout_start")
        if (
            self.kind == "dates"
            and self.valid_start
            and self.holdout_start
            and self.valid_start >= self.holdout_start
        ):
            raise ValueError("split.valid_start must be before split.holdout_start")
        if self.kind == "folders" and (self.valid_data is None or self.holdout_data is None):
            raise ValueError("split.kind 'folders' needs valid_data and holdout_data")
        if self.kind == "fractions" and self.valid_fraction + self.holdout_fraction >= 0.8:
            raise ValueError("split: validation and holdout fractions leave too little to train on")
        return self


class ClassifierConfig(_Options):
    """The LightGBM classifier of inspected lines."""

    learning_rate: float = Field(0.05, gt=0, le=1, description="Boosting learning rate")
    num_leaves: int = Field(31, ge=2, description="Leaves per tree")
    min_data_in_leaf: int = Field(20, ge=1, description="Fewest training lines in a leaf")
    feature_fraction: float = Field(0.8, gt=0, le=1, description="Share of features tried per tree")
    bagging_fraction: float = Field(0.8, gt=0, le=1, description="Share of lines sampled per tree")
    lambda_l2: float = Field(1.0, ge=0, description="L2 regularisation of leaf values")
    num_boost_round: int = Field(3000, ge=1, description="Most boosting rounds (early stopping ends sooner)")
    early_stopping_rounds: int = Field(
        50, ge=1, description="Stop when validation average precision has not improved for this many rounds"
    )
    class_weight: Literal["balanced", "sqrt", "none"] = Field(
        "balanced",
        description="Weight of violations: balanced = negatives/positives of the training labels, sqrt = its "
        "square root, none = 1",
    )
    scale_pos_weight: float | None = Field(
        None, gt=0, description="Weight of violations given outright (overrides class_weight)"
    )
    cat_smooth: float = Field(10.0, gt=0, description="Smoothing of categorical splits (LightGBM cat_smooth)")
    min_data_per_group: int = Field(
        100, ge=1, description="Fewest lines of a category for its own split (LightGBM min_data_per_group)"
    )
    num_threads: int = Field(
        1,
        ge=0,
        description="LightGBM training threads (0: all cores). One is fastest for labelled sets of tens of "
        "thousands of lines, and immune to OpenMP spinning when the machine is shared",
    )

    def lgb_params(self) -> dict[str, Any]:
        keys = (
            "learning_rate",
            "num_leaves",
            "min_data_in_leaf",
            "feature_fraction",
            "bagging_fraction",
            "lambda_l2",
            "cat_smooth",
            "min_data_per_group",
        )
        return {k: getattr(self, k) for k in keys}


class SearchConfig(_Options):
    """What the run learns from the data itself, on the validation period, within a time budget: which input
    families to keep (`selection.py`) and the classifier's settings (`tuning.py`)."""

    budget_minutes: float = Field(
        1.0,
        ge=0,
        description="Time for selection and tuning together (0: none; the config as given). The first half "
        "goes to selection, the rest to tuning",
    )
    max_trials: int = Field(30, ge=1, description="Most tuning trials")
    min_gain: float = Field(
        0.003, ge=0, description="Validation average precision a family's removal must add for it to go"
    )
    id_alpha: float = Field(
        0.05,
        gt=0,
        le=1,
        description="Level of the test an id family must pass to be kept: its earlier violation rate or "
        "count sets a trader's later violations apart on the training lines (1: keep every id family)",
    )
    drop_families: list[str] = Field(
        default_factory=list,
        description="Input families left out from the start (a chosen.yaml lists those selection dropped)",
    )


class AnomalyConfig(_Options):
    """The IsolationForest over all lines."""

    n_estimators: int = Field(200, ge=1, description="Isolation trees")
    max_samples: int = Field(256, ge=2, description="Lines drawn to grow each tree")
    fit_rows: int = Field(
        200_000, ge=100, description="At most this many training lines (a random sample) fit it"
    )


class FusionConfig(_Options):
    """How classifier, anomaly and oddness scores become one calibrated risk_score (docs/models.md)."""

    anomaly_weight: float | None = Field(
        None, ge=0, description="Fixed weight b of the anomaly z in the fused log-odds; default: fitted"
    )
    min_anomaly_weight: float = Field(
        0.5,
        ge=0,
        description="Floor of the fitted anomaly weight (labels under-represent what nobody inspected)",
    )
    list_hits_red: bool = Field(
        True,
        description="A line whose counterparty or trader matches a sanctions list entry goes red, its risk "
        "lifted into the red band (a mandatory criterion, not a learned one; docs/models.md)",
    )
    oddness_weight: float | None = Field(
        4.0,
        ge=0,
        description="Weight d of the oddness excess in the fused log-odds, a policy: log-odds a line gains "
        "once its oddest trait is ten times rarer than the 1% edge (docs/models.md); null: fitted on the "
        "validation labels with min_oddness_weight as floor",
    )
    min_oddness_weight: float = Field(
        4.0,
        ge=0,
        description="Floor of d when it is fitted (oddness_weight null); few labels fall past the oddness "
        "edge, so a fitted d is unstable (13 on one world, which filled the red channel)",
    )
    max_oddness_excess: float = Field(
        1.0,
        gt=0,
        description="Most orders of magnitude past the edge that count: the oddness part adds at most "
        "d times this to the log-odds, so extreme honest oddities do not crowd the red channel",
    )
    oddness_quantile: float = Field(
        0.99,
        gt=0,
        lt=1,
        description="Share of training lines whose oddness adds nothing to the risk; lower lifts more odd "
        "lines (and more honest novelty) into the channels",
    )


class ChannelConfig(_Options):
    """The selection policy, saved with the model: channel shares (the capacity, exploration included) and
    the exploration quota (docs/models.md, "Selection")."""

    red_share: float = Field(
        0.01, gt=0, lt=1, description="Share of traffic sent to red (physical inspection)"
    )
    yellow_share: float = Field(
        0.15, ge=0, lt=1, description="Share of traffic sent to yellow (documentary check)"
    )
    period_days: int = Field(
        90, ge=1, description="The most recent this many days of data set the thresholds"
    )
    exploration_rate: float = Field(
        0.002,
        ge=0,
        lt=1,
        description="Share of lines drawn at random for inspection whatever their score (part of the "
        "capacity: the model's thresholds leave room for it); 0: no exploration",
    )
    exploration_strategy: Literal["uniform", "risk", "anomaly"] = Field(
        "uniform",
        description="How draws are spread: uniform; risk: in proportion to the risk score; anomaly: in "
        "proportion to the odds the anomaly and oddness parts add (each mixed with a uniform floor)",
    )
    exploration_channel: Literal["red", "yellow"] = Field(
        "red", description="Channel of a drawn line: red (physical inspection) or yellow (documentary)"
    )
    exploration_floor: float = Field(
        0.25,
        ge=0,
        le=1,
        description="Uniform share of a non-uniform strategy: every line keeps at least this share of the "
        "rate as its chance, which bounds inverse-propensity weights",
    )

    @model_validator(mode="after")
    def _fits(self) -> Self:
        room = self.red_share if self.exploration_channel == "red" else self.yellow_share
        if self.exploration_rate >= room:
            raise ValueError(
                f"channels.exploration_rate {self.exploration_rate} does not fit in the "
                f"{self.exploration_channel} share {room}: the quota is part of the capacity"
            )
        if self.red_share + self.yellow_share >= 1:
            raise ValueError("channels: red_share + yellow_share must be below 1")
        return self


class LabelsConfig(_Options):
    """How inspected lines are weighted in training (docs/models.md, "Learning from biased labels")."""

    weighting: Literal["ipw", "none"] = Field(
        "ipw",
        description="ipw: each inspected line weighs 1/propensity (clipped at max_weight), so the labels "
        "stand for the traffic rather than for what was chosen; none: every line 1. Lines without a "
        "recorded propensity weigh 1",
    )
    max_weight: float = Field(
        20.0,
        ge=1,
        description="Clip of the inverse-propensity weight: a line drawn with chance 1/500 counts as this "
        "many, not 500, trading a little bias for much less variance",
    )


class TargetStatsConfig(_Options):
    """Out-of-fold target statistics of high-cardinality id columns."""

    columns: list[str] = Field(
        default_factory=lambda: ["trader_id", "declarant_id", "counterparty_name", "hs_code"],
        description="Id columns given smoothed violation rates: canonical id columns or the data's extra "
        "columns (empty list: none)",
    )
    smoothing: float = Field(
        20.0, ge=0, description="Pseudo-count m of the prior in (violations + m*prior)/(n + m)"
    )
    folds: int = Field(5, ge=2, description="Folds of the out-of-fold statistics on training lines")

    @field_validator("columns")
    @classmethod
    def _once(cls, value: list[str]) -> list[str]:
        if twice := sorted({c for c in value if value.count(c) > 1}):
            raise ValueError(f"named more than once: {', '.join(twice)}")
        return value

    def check_columns(self, extra_columns: Iterable[str]) -> None:
        """Refuse a column the data cannot have (a typo would silently give every line the prior, a
        constant input): the allowed ones are the canonical id columns and the data's extra columns."""
        extra = sorted(extra_columns)
        if unknown := [c for c in self.columns if c not in ID_COLUMNS and c not in extra]:
            ids, extras = ", ".join(ID_COLUMNS), ", ".join(extra) or "none"
            raise ConfigError(
                f"target_stats.columns: {', '.join(map(repr, unknown))}: not an id column of the data "
                f"(allowed: the canonical id columns {ids}; the data's extra columns: {extras})"
            )


class EvaluationConfig(_Options):
    """What the holdout report measures."""

    inspection_rates: list[float] = Field(
        default_factory=lambda: [0.01, 0.02, 0.05, 0.10], description="Shares of lines inspected, best first"
    )
    calibration_bins: int = Field(10, ge=2, description="Bins of the reliability table")


class PromotionConfig(_Options):
    """When a new model displaces the champion."""

    rate: float = Field(0.05, gt=0, lt=1, description="Inspection rate the comparison is made at")
    metric: Literal["precision", "recall", "value_caught"] = Field(
        "precision", description="Metric compared at that rate"
    )
    against: Literal["outcomes", "exploration", "truth"] = Field(
        "outcomes",
        description="outcomes: inspected holdout lines (always available); exploration: the same weighted "
        "by inverse propensity, so a challenger is not judged only on lines the champion chose (needs "
        "propensities); truth: simulation only",
    )
    min_gain: float = Field(0.0, ge=0, description="The new model must beat the champion by more than this")


class TrainConfig(_Options):
    """Every option of `roundabout train`."""

    seed: int = Field(0, ge=0, description="Seed of every random choice (LightGBM, forest, folds)")
    split: SplitConfig = SplitConfig()
    classifier: ClassifierConfig = ClassifierConfig()
    search: SearchConfig = SearchConfig()
    anomaly: AnomalyConfig = AnomalyConfig()
    fusion: FusionConfig = FusionConfig()
    channels: ChannelConfig = ChannelConfig()
    labels: LabelsConfig = LabelsConfig()
    target_stats: TargetStatsConfig = TargetStatsConfig()
    evaluation: EvaluationConfig = EvaluationConfig()
    promotion: PromotionConfig = PromotionConfig()
    top_k_reasons: int = Field(3, ge=1, description="Reasons returned per line")
    experiment: str = Field("roundabout", description="MLflow experiment (overridden by --experiment)")
    registered_model: str | None = Field(
        None, description="Registered model name (overridden by --register); default: settings (roundabout)"
    )
    log_model: bool = Field(True, description="Log and register the model (off only for quick experiments)")

    @classmethod
    def from_yaml(cls, path: Path) -> Self:
        """Read a YAML file of options; a problem raises ConfigError naming the key."""
        return load_yaml_config(path, cls, "training config")


def describe_options(model: type[BaseModel] = TrainConfig, prefix: str = "") -> list[tuple[str, str, str]]:
    """(key, default, description) of every option, nested keys dotted: the table in docs/models.md."""
    rows: list[tuple[str, str, str]] = []
    for name, info in model.model_fields.items():
        key = f"{prefix}{name}"
        annotation = info.annotation
        if isinstance(annotation, type) and issubclass(annotation, BaseModel):
            rows += describe_options(annotation, f"{key}.")
            continue
        default = info.default_factory() if info.default_factory else info.default  # type: ignore[call-arg]
        rows.append((key, repr(default), info.description or ""))
    return rows
