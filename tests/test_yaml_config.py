"""One YAML loader for the simulation config, the training config and ingest mappings: every problem is a
ConfigError naming the file and the key, and a YAML error keeps PyYAML's whole message."""

from pathlib import Path

import pytest

from roundabout.data.mapping import MappingError, load_mapping
from roundabout.errors import ConfigError
from roundabout.simulation import SimulationConfig
from roundabout.training import TrainConfig


@pytest.mark.parametrize(
    ("load", "what"),
    [(TrainConfig.from_yaml, "training config"), (SimulationConfig.from_yaml, "simulation config"),
     (load_mapping, "mapping")],
)  # fmt: skip
def test_every_config_file_fails_the_same_way(load: object, what: str, tmp_path: Path) -> None:
    path = tmp_path / "x.yaml"
    with pytest.raises(ConfigError, match=f"^{what} file not found: {path}$"):
        load(path)  # type: ignore[operator]
    path.write_text("a: [unclosed\n")
    with pytest.raises(ConfigError) as bad:
        load(path)  # type: ignore[operator]
    message = bad.value.message
    assert message.startswith(f"{what} {path} is not valid YAML: ")
    assert (
        f'in "{path}", line 1' in message and "a: [unclosed" in message and "expected ',' or ']'" in message
    )
    path.write_text("- a list\n")
    with pytest.raises(ConfigError, match=f"^{what} {path} must be a YAML mapping of keys, got list$"):
        load(path)  # type: ignore[operator]


def test_a_rule_broken_names_the_key(tmp_path: Path) -> None:
    path = tmp_path / "train.yaml"
    path.write_text("split: {kind: dates}\nclassifier: {num_leaves: 1}\n")
    with pytest.raises(ConfigError) as bad:
        TrainConfig.from_yaml(path)
    assert bad.value.message.startswith(f"training config {path}: ")
    assert "classifier.num_leaves: Input should be greater than or equal to 2" in bad.value.message
    assert "split: Value error, split.kind 'dates' needs valid_start and holdout_start" in bad.value.message


def test_a_mapping_problem_is_a_mapping_error(tmp_path: Path) -> None:
    path = tmp_path / "m.yaml"
    path.write_text("name: x\ncolums: {}\n")
    with pytest.raises(MappingError, match="colums: Extra inputs are not permitted"):
        load_mapping(path)


def test_empty_files_are_defaults_and_overrides_apply(tmp_path: Path) -> None:
    path = tmp_path / "empty.yaml"
    path.write_text("")
    assert TrainConfig.from_yaml(path) == TrainConfig()
    path.write_text("seed: 3\nn_lines: 10\n")
    config = SimulationConfig.from_yaml(path, n_lines=500, seed=None)
    assert (config.n_lines, config.seed) == (500, 3)
