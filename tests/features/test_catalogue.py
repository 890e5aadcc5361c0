"""The catalogue: complete, in the frame's column order, documented in docs/features.md."""

from datetime import date
from pathlib import Path

from roundabout.data.io import CanonicalData
from roundabout.features import FEATURE_NAMES, FEATURES, FeatureArtifacts, build_features
from roundabout.features.catalogue import BY_NAME, catalogue_markdown

DOCS = Path(__file__).resolve().parents[2] / "docs" / "features.md"


def test_frame_columns_follow_the_catalogue(hist) -> None:
    data = hist.random_history(50)
    frame = build_features(data, FeatureArtifacts().fit(data.lines))
    assert list(frame.columns) == list(FEATURE_NAMES)
    assert list(frame.index) == list(data.lines["line_id"])
    assert (frame.dtypes == "float64").all()


def test_every_feature_is_documented_with_a_reason() -> None:
    for spec in FEATURES:
        assert spec.description and spec.source and spec.reason, spec.name
        assert spec.reason.format(value=1.0)  # the template renders with a value
    assert catalogue_markdown() in DOCS.read_text()


def test_extra_columns_flow_through_and_missing_fields_give_nan(hist) -> None:
    frame = hist.frame_of([hist.line("a", date(2023, 1, 2)), hist.line("b", date(2023, 1, 3))])
    frame = frame.drop(columns=["declarant_id", "quantity", "counterparty_name"])  # a source without them
    frame["trader_id"] = ["XX-1", "XX-1"]
    frame["payment_type"] = ["cash"] * 2
    frame["tax_rate"] = [0.12, 0.5]
    data = CanonicalData(
        frame, hist.outcomes_of([]), extra_columns={"payment_type": "categorical", "tax_rate": "numeric"}
    )
    art = FeatureArtifacts().fit(data.lines, data.inspections, data.extra_columns)
    f = build_features(data, art)
    assert list(f.columns[-2:]) == ["extra_payment_type", "extra_tax_rate"]
    assert list(f["extra_tax_rate"]) == [0.12, 0.5]
    assert f["declarant_lines"].isna().all() and f["chain_reship_share"].isna().all()
    assert list(f["trader_age_days"]) == [0, 1]  # first-seen fallback for a non-BIN id


def test_reason_texts_hold_for_any_value_they_are_shown_with() -> None:
    """A reason shows the line's value: "registered only 10162 days before" read wrong for a 28-year-old
    firm, and "first received" for a trader whose Tier 1-2 lines are exports."""
    age = BY_NAME["trader_age_days"].reason.format(value=10162.0)
    assert age == "The trader was registered 10,162 days before this line"
    assert "received" not in BY_NAME["first_chpl_after_invasion"].reason
