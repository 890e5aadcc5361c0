"""`roundabout audit` as a user meets it: no store, a store from before the trail, a checkpoint on demand."""

from pathlib import Path

from typer.testing import CliRunner

from roundabout.audit import Entry
from roundabout.cli import app
from roundabout.store import ServiceStore
from roundabout.store.schema import migrate

runner = CliRunner()


def test_without_a_store_or_a_trail_verify_says_what_to_do(tmp_path: Path) -> None:
    missing = runner.invoke(app, ["audit", "verify", "--store", f"sqlite:///{tmp_path / 'none.db'}"])
    assert missing.exit_code == 2 and "no service store" in missing.output
    old = ServiceStore.open(f"sqlite:///{tmp_path / 'old.db'}")
    migrate(old.backend, "0009")
    old.dispose()
    before = runner.invoke(app, ["audit", "verify", "--store", f"sqlite:///{tmp_path / 'old.db'}"])
    assert before.exit_code == 2 and "store upgrade" in before.output


def test_a_checkpoint_is_signed_on_demand_and_verifies(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 'store.db'}"
    store = ServiceStore.open(url)
    store.migrate()
    assert "nothing new to sign" in runner.invoke(app, ["audit", "checkpoint", "--store", url]).output
    store.audit.record([Entry("history_load", "cli", None, {"lines": 0})])
    store.dispose()
    signed = runner.invoke(app, ["audit", "checkpoint", "--store", url])
    assert signed.exit_code == 0 and "checkpoint: record 1" in signed.output
    verified = runner.invoke(app, ["audit", "verify", "--store", url])
    assert verified.exit_code == 0, verified.output
    rows = {line.split("│")[1].strip(): line.split("│")[2].strip() for line in verified.output.splitlines()
            if line.count("│") == 3}  # fmt: skip
    assert rows["valid checkpoints"] == "1" and rows["last signed record"] == "1" and rows["problems"] == "0"
