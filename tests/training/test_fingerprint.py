"""The data hash follows the files' content, not where they are; the config hash only what shapes the
model."""

import shutil
from pathlib import Path

from roundabout.training import TrainConfig
from roundabout.training.fingerprint import config_hash, content_hash, data_folders


def test_content_hash_follows_content_not_place(world_dir: Path, tmp_path: Path) -> None:
    copy = shutil.copytree(world_dir, tmp_path / "copy")
    assert content_hash([copy]) == content_hash([world_dir])
    (copy / "inspections.parquet").unlink()
    assert content_hash([copy]) != content_hash([world_dir])


def test_config_hash_ignores_where_the_run_is_logged() -> None:
    base = config_hash(TrainConfig())
    assert config_hash(TrainConfig(experiment="other", registered_model="x")) == base
    assert config_hash(TrainConfig(seed=1)) != base
    assert config_hash(TrainConfig.model_validate({"classifier": {"num_leaves": 15}})) != base


def test_a_folders_split_reads_three_folders(tmp_path: Path) -> None:
    config = TrainConfig.model_validate(
        {"split": {"kind": "folders", "valid_data": tmp_path / "v", "holdout_data": tmp_path / "h"}}
    )
    assert data_folders(tmp_path / "t", config) == [tmp_path / "t", tmp_path / "v", tmp_path / "h"]
    assert data_folders(tmp_path / "t", TrainConfig()) == [tmp_path / "t"]
