"""The ready Prometheus rules file reads only metrics the service exports, with the monitor's thresholds."""

import re
from pathlib import Path

import yaml

from roundabout.monitoring import MonitorConfig
from roundabout.serving.metrics import Metrics

RULES = Path(__file__).resolve().parents[2] / "docs" / "prometheus" / "roundabout-rules.yml"


def _exported() -> set[str]:
    names = set()
    for family in Metrics().registry.collect():
        names |= {sample.name for sample in family.samples} | {family.name}
    return names


def test_every_rule_reads_exported_metrics_and_says_what_to_do() -> None:
    groups = yaml.safe_load(RULES.read_text())["groups"]
    rules = [rule for group in groups for rule in group["rules"]]
    assert len(rules) >= 5
    exported = _exported()
    for rule in rules:
        used = set(re.findall(r"roundabout_[a-z_]+", rule["expr"]))
        assert used and used <= exported, (rule["alert"], used - exported)
        assert rule["labels"]["severity"] in {"critical", "warning"}
        assert rule["annotations"]["summary"] and rule["annotations"]["description"]


def test_the_rules_use_the_monitors_thresholds() -> None:
    text = RULES.read_text()
    config = MonitorConfig()
    assert f"> {config.psi_alert}" in text
    assert f">= {config.min_lines}" in text and f">= {config.min_inspected}" in text
