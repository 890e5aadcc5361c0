"""`roundabout keys new`: the key once, and its configuration entry."""

import json

from typer.testing import CliRunner

from roundabout.cli import app
from roundabout.serving.keys import hash_key

runner = CliRunner()


def test_keys_new_prints_the_key_once_and_its_entry() -> None:
    from roundabout.settings import ApiKey

    result = runner.invoke(app, ["keys", "new", "--id", "risk-system", "--scopes", "score,feedback"])
    assert result.exit_code == 0, result.output
    key = result.output.split("key (shown once): ")[1].split()[0]
    entry = ApiKey.model_validate(json.loads(result.output.split("configuration entry:")[1]))
    assert entry.id == "risk-system" and entry.sha256 == hash_key(key)
    assert {s.value for s in entry.scopes} == {"score", "feedback"}
    bad = runner.invoke(app, ["keys", "new", "--id", "x", "--scopes", "score,everything"])
    assert bad.exit_code == 2 and "key options: scopes.1" in bad.stderr
