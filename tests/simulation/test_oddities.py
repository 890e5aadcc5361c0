"""The oddness suite: each kind changes what it says and only that, as far as it says, into values truly
never seen; altered lines stay valid, lose their labels, come from honest imports of the last months; the
same seed gives the same world; a kind with nothing left to plant plants nothing instead of failing."""

from datetime import date

import numpy as np
import pandas as pd
import pytest

from roundabout.data.io import CanonicalData
from roundabout.data.schema import LINE_COLUMNS
from roundabout.data.validation import FormatRules, validate_lines
from roundabout.simulation import SimulationConfig, simulate
from roundabout.simulation.oddities import (
    COMBO_KINDS,
    SINGLE_KINDS,
    OdditiesConfig,
    alter_world,
    fields_of,
)
from roundabout.simulation.oddities.reference import UNSEEN_FIELDS, Seen
from tests.support.oddness import altered_world, recall_at, recall_by_kind

PER_KIND = 5
RULES = FormatRules(max_date=date(2030, 1, 1))


@pytest.fixture(scope="module")
def train() -> CanonicalData:
    return simulate(SimulationConfig(n_lines=4000, seed=3))


@pytest.fixture(scope="module")
def test_world() -> CanonicalData:
    return simulate(SimulationConfig(n_lines=4000, seed=4))


@pytest.fixture(scope="module")
def altered(train, test_world):
    return altered_world(train, test_world, per_kind=PER_KIND)


def _hs6(codes: pd.Series) -> pd.Series:
    return codes.str.slice(0, 6)


def _pairs(manifest: pd.DataFrame, original: pd.DataFrame, changed: pd.DataFrame):
    """(manifest row, original line, altered line) of every altered line."""
    before, after = original.set_index("line_id"), changed.set_index("line_id")
    for row in manifest.itertuples(index=False):
        yield row, before.loc[row.line_id], after.loc[row.line_id]


def _same(a: object, b: object) -> bool:
    return (pd.isna(a) and pd.isna(b)) or a == b


def test_every_kind_is_planted_on_its_own_lines(altered) -> None:
    manifest = altered.manifest
    assert list(manifest.columns) == ["line_id", "kind", "combo", "fields", "date", "hs6", "description"]
    assert manifest["kind"].value_counts().to_dict() == {k: PER_KIND for k in SINGLE_KINDS + COMBO_KINDS}
    assert manifest["line_id"].is_unique
    assert manifest["combo"].to_numpy().tolist() == [k in COMBO_KINDS for k in manifest["kind"]]
    assert len(SINGLE_KINDS) >= 9 and len(COMBO_KINDS) >= 5


def test_each_kind_changes_its_fields_and_nothing_else(altered, test_world) -> None:
    for row, before, after in _pairs(altered.manifest, test_world.lines, altered.data.lines):
        changed = {c for c in LINE_COLUMNS if c != "line_id" and not _same(before[c], after[c])}
        assert changed == set(fields_of(row.kind)), row.kind
        for name in changed:
            assert f"{name} " in row.description and " -> " in row.description
    untouched = ~test_world.lines["line_id"].isin(altered.manifest["line_id"])
    pd.testing.assert_frame_equal(test_world.lines[untouched], altered.data.lines[untouched])
    assert list(altered.data.lines.columns) == list(test_world.lines.columns)
    assert (altered.data.lines.dtypes == test_world.lines.dtypes).all()


def test_numbers_go_as_far_as_the_kind_says(altered, train, test_world) -> None:
    ref = train.lines
    usual_value = (ref["value_usd"] / ref["net_mass_kg"]).groupby(_hs6(ref["hs_code"])).median()
    usual_units = (ref["quantity"] / ref["net_mass_kg"]).groupby(_hs6(ref["hs_code"])).median()
    for row, _, after in _pairs(altered.manifest, test_world.lines, altered.data.lines):
        net, h = after["net_mass_kg"], after["hs_code"][:6]
        if "value_per_kg_high" in row.kind:
            assert 29 <= after["value_usd"] / net / usual_value[h] <= 301
        if "value_per_kg_low" in row.kind:
            assert after["value_usd"] >= 0.01
            assert after["value_usd"] == 0.01 or 29 <= usual_value[h] * net / after["value_usd"] <= 301
        if "quantity_per_kg" in row.kind:
            factor = after["quantity"] / net / usual_units[h]
            assert (
                min(abs(np.log(factor / 50)), abs(np.log(factor * 50))) < np.log(1.5) or after["quantity"] < 3
            )
        if "gross_net" in row.kind:
            assert 2.99 <= after["gross_mass_kg"] / net <= 10.01


def test_unseen_values_were_never_seen_with_the_hs6(altered, train, test_world) -> None:
    planted: set[tuple[str, str, str]] = set()
    reference, test = train.lines, test_world.lines
    for row, _, after in _pairs(altered.manifest, test, altered.data.lines):
        h = after["hs_code"][:6]
        for name in set(fields_of(row.kind)) & set(UNSEEN_FIELDS):
            value = after[name]
            assert value not in set(reference.loc[_hs6(reference["hs_code"]) == h, name].dropna()), row.kind
            earlier = (_hs6(test["hs_code"]) == h) & (test["date"] <= after["date"])
            assert value not in set(test.loc[earlier, name].dropna()), row.kind
            assert value != "KZ"
            assert (name, h, value) not in planted, "two altered lines share a new value"
            planted.add((name, h, value))


def test_altered_lines_pass_the_data_contract(altered) -> None:
    lines = altered.data.lines
    rows = lines[lines["line_id"].isin(altered.manifest["line_id"])]
    result = validate_lines(rows[list(LINE_COLUMNS)], RULES)
    assert result.summary.rows_rejected == 0, result.summary.by_reason


def test_only_honest_imports_of_the_last_months_are_altered(altered, test_world) -> None:
    lines = test_world.lines.set_index("line_id").loc[altered.manifest["line_id"]]
    assert (lines["direction"] == "import").all()
    assert (lines["date"] > test_world.lines["date"].max() - pd.DateOffset(months=3)).all()
    truth = test_world.truth.set_index("line_id").loc[altered.manifest["line_id"]]
    assert not truth["is_circumvention"].any()
    violations = test_world.inspections.loc[test_world.inspections["outcome"] == "violation", "line_id"]
    assert not altered.manifest["line_id"].isin(violations).any()


def test_labels_of_altered_lines_are_dropped(altered, train, test_world) -> None:
    ids = altered.manifest["line_id"]
    inspections = altered.data.inspections
    assert not inspections["line_id"].isin(ids).any()
    kept = test_world.inspections[~test_world.inspections["line_id"].isin(ids)].reset_index(drop=True)
    pd.testing.assert_frame_equal(inspections, kept)
    assert test_world.inspections["line_id"].isin(ids).any(), "no inspected line was altered: nothing tested"
    # outcomes joined onto the lines as columns are emptied too
    joined = test_world.lines.merge(test_world.inspections, on="line_id", how="left")
    lines, manifest = alter_world(joined, train.lines, OdditiesConfig(per_kind=PER_KIND))
    hit = lines["line_id"].isin(manifest["line_id"])
    assert lines.loc[hit, ["inspected_on", "outcome", "violation_type"]].isna().all().all()
    assert lines.loc[~hit, "outcome"].notna().sum() == joined.loc[~hit, "outcome"].notna().sum()


def test_the_same_seed_gives_the_same_world_and_another_does_not(altered, train, test_world) -> None:
    again = altered_world(train, test_world, per_kind=PER_KIND)
    pd.testing.assert_frame_equal(again.manifest, altered.manifest)
    pd.testing.assert_frame_equal(again.data.lines, altered.data.lines)
    other = altered_world(train, test_world, per_kind=PER_KIND, seed=1)
    assert set(other.manifest["line_id"]) != set(altered.manifest["line_id"])


def test_a_kind_with_nothing_left_to_plant_plants_nothing(train, test_world) -> None:
    every_mode = pd.concat(
        [train.lines.assign(transport_mode=m) for m in ("road", "rail", "air", "sea", "pipeline", "post")]
    )
    lines, manifest = alter_world(
        test_world.lines, every_mode, OdditiesConfig(per_kind=3, kinds=("mode_unseen", "gross_net"))
    )
    assert manifest["kind"].tolist() == ["gross_net"] * 3
    assert (lines["transport_mode"] == test_world.lines["transport_mode"]).all()


def test_countries_fall_back_to_any_valid_code_when_the_data_has_none_left(train, test_world) -> None:
    seen = Seen.of([train.lines], test_world.lines)
    hs_code = str(test_world.lines["hs_code"].iloc[0])
    for country in seen.universe["origin_country"]:
        seen.plant("origin_country", hs_code, country)
    fallback = seen.unseen("origin_country", hs_code, 0)
    assert fallback and not set(fallback) & set(seen.universe["origin_country"]) and "KZ" not in fallback


def test_the_config_refuses_what_it_cannot_plant(train, test_world) -> None:
    with pytest.raises(ValueError, match="unknown kind"):
        OdditiesConfig(kinds=("value_per_kg_huge",))
    with pytest.raises(ValueError, match="changes a field twice"):
        alter_world(
            test_world.lines, train.lines, OdditiesConfig(kinds=("value_per_kg_high+value_per_kg_low",))
        )


def test_recall_helpers_count_the_top_lines() -> None:
    scores = pd.Series([0.9, 0.1, 0.8, 0.2, 0.7, 0.3, 0.6, 0.4, 0.5, 0.0], index=[f"l{i}" for i in range(10)])
    assert recall_at(scores, ["l0", "l1"], 0.1) == 0.5
    assert recall_at(scores, ["l0", "l2", "l4"], 0.3) == 1.0
    manifest = pd.DataFrame(
        {"line_id": ["l0", "l1", "l2"], "kind": ["a", "a", "a+b"], "combo": [False, False, True]}
    )
    table = recall_by_kind(scores, manifest, (0.1, 0.2))
    assert table["a"] == {"lines": 2.0, "at_10pct": 0.5, "at_20pct": 0.5}
    assert table["all combos"]["at_20pct"] == 1.0 and table["all"]["lines"] == 3.0


def test_altering_a_canonical_world_keeps_its_truth(altered, test_world) -> None:
    pd.testing.assert_frame_equal(altered.data.truth, test_world.truth)
    assert altered.data.extra_columns == test_world.extra_columns
