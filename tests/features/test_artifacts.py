"""Artifacts: fitted once, saved with a version and content hash, used unchanged at scoring time."""

import json
from datetime import date

import pytest

from roundabout.features import ArtifactsError, FeatureArtifacts, build_features


def test_save_load_roundtrip_gives_identical_features(hist, tmp_path) -> None:
    data = hist.random_history(400, seed=3)
    fitted = FeatureArtifacts().fit(data.lines, data.inspections)
    fitted.save(tmp_path / "art")
    loaded = FeatureArtifacts.load(tmp_path / "art")
    assert loaded.content_hash == fitted.content_hash and loaded.version == fitted.version
    assert build_features(data, loaded).equals(build_features(data, fitted))


def test_fit_is_deterministic_and_hash_tracks_content(hist) -> None:
    data = hist.random_history(300, seed=1)
    a = FeatureArtifacts().fit(data.lines, data.inspections)
    b = FeatureArtifacts().fit(data.lines, data.inspections)
    other = FeatureArtifacts().fit(data.lines.iloc[:200], data.inspections)
    assert a.content_hash == b.content_hash != other.content_hash


def test_reference_comes_from_training_data_only(hist) -> None:
    """Scoring new data with saved artifacts uses the training references, not the new data's."""
    train = hist.data_of([hist.line(f"t{i}", date(2023, 1, 2), value_usd=100.0 + i) for i in range(30)])
    score = hist.data_of([hist.line(f"s{i}", date(2024, 1, 2), value_usd=1e6) for i in range(30)])
    art = FeatureArtifacts().fit(train.lines)
    assert (build_features(score, art)["uv_kg_z"] > 10).all()


def test_altered_file_is_refused(hist, tmp_path) -> None:
    data = hist.random_history(100)
    path = FeatureArtifacts().fit(data.lines).save(tmp_path)
    body = json.loads(path.read_text())
    body["payload"]["prior_violation_rate"] = 0.99
    path.write_text(json.dumps(body))
    with pytest.raises(ArtifactsError, match="hash"):
        FeatureArtifacts.load(tmp_path)


def test_unfitted_artifacts_say_so(hist) -> None:
    with pytest.raises(ArtifactsError, match="not fitted"):
        build_features(hist.random_history(10), FeatureArtifacts())
