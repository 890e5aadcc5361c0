"""Single-line calls scored together in one transaction give what one call after the other gives."""

import asyncio
import sqlite3
from pathlib import Path
from typing import Any

import mlflow
import pytest
import sqlalchemy as sa
from psycopg.errors import DeadlockDetected

from roundabout.data.io import CanonicalData, read_folder
from roundabout.data.records import RecordValidator
from roundabout.data.validation import FormatRules
from roundabout.models.pyfunc import load_risk_model
from roundabout.serving import single_lines
from roundabout.serving.live_model import ServingVersion
from roundabout.serving.scoring import LineCall, score_calls
from roundabout.serving.single_lines import SingleLineScorer
from roundabout.serving.turns import Turns
from roundabout.store import ServiceStore
from roundabout.store.backfill import backfill
from tests.support.replay import read_frame
from tests.support.server import Registry

RULES = FormatRules()


@pytest.fixture(scope="module")
def world(registry: Registry) -> tuple[Any, CanonicalData, list[dict[str, Any]]]:
    """The champion, a history to start stores from, and 12 later lines as the API checks them: the
    first 10 lines of one busy trader, in date order, then two of them sent again."""
    mlflow.set_tracking_uri(registry.tracking_uri)
    model = load_risk_model("models:/roundabout@champion")
    data = read_folder(registry.data_dir)
    lines = data.lines.sort_values(["date", "line_id"], kind="stable")
    busy = lines["trader_id"].value_counts().index[0]
    later = lines[lines["date"] >= lines["date"].quantile(0.8)]
    mine = later[later["trader_id"] == busy].head(10)
    assert mine["date"].nunique() > 3, "the test needs lines on several dates"
    history = CanonicalData(lines[lines["date"] < mine["date"].min()], data.inspections.iloc[:0])
    validator = RecordValidator(RULES)
    records = [*mine.to_dict("records"), *mine.iloc[[2, 7]].to_dict("records")]
    return model, history, [validator.line(r) for r in records]


class Served:
    """A version serving on its own store (holding the history), with the turns its writes take."""

    def __init__(self, model: Any, history: CanonicalData, url: str) -> None:
        self.store = ServiceStore.open(url)
        self.store.migrate()
        backfill(self.store, history, RULES)
        features = self.store.features(model.artifacts, model.base_features)
        validator = RecordValidator(RULES, model.artifacts.extra_columns)
        self.version = ServingVersion(model, features, validator, "roundabout", "1", "champion", None)
        self.writes = Turns()

    def scorer(self, **kwargs: Any) -> SingleLineScorer:
        return SingleLineScorer(self.store, self.writes, **kwargs)

    def stored(self) -> tuple[int, int]:
        return self.store.exporter.line_count(), self.store.decisions.count()

    def history(self, line: dict[str, Any]) -> dict[str, float]:
        features = read_frame(self.store, self.version.features, [line]).iloc[0]
        return {k: v for k, v in features.items() if k.startswith("trader_")}


@pytest.fixture
def served(world: Any, tmp_path: Path) -> Any:
    model, history, _ = world
    s = Served(model, history, f"sqlite:///{tmp_path / 'store.db'}")
    yield s
    s.store.dispose()


def _calls(lines: list[dict[str, Any]]) -> list[LineCall]:
    return [LineCall(line, True, 5, f"r{i}", "k", b"selection-key") for i, line in enumerate(lines)]


def test_a_group_scores_and_stores_as_one_call_after_the_other(world: Any, tmp_path: Path) -> None:
    model, history, lines = world
    together = Served(model, history, f"sqlite:///{tmp_path / 'together.db'}")
    apart = Served(model, history, f"sqlite:///{tmp_path / 'apart.db'}")
    before = together.stored()[0]
    history_before = [together.history(line) for line in lines]

    grouped = score_calls(together.version, together.store, together.writes, _calls(lines))
    one_by_one = [score_calls(apart.version, apart.store, apart.writes, [call])[0] for call in _calls(lines)]

    assert grouped == one_by_one
    # Later lines of the trader saw the earlier ones of the same group: as of each line's date, the
    # trader's history now differs from what the store held before the group.
    history_after = [together.history(line) for line in lines]
    assert sum(a != b for a, b in zip(history_before, history_after, strict=True)) >= 5
    # The two lines sent again are scored as the first time and stored once; every call is audited.
    assert grouped[10] == grouped[2] and grouped[11] == grouped[7]
    assert together.stored() == apart.stored() == (before + 10, 12)


def test_the_scorer_groups_waiting_calls_and_answers_each(world: Any, tmp_path: Path) -> None:
    model, history, lines = world
    served = Served(model, history, f"sqlite:///{tmp_path / 'store.db'}")
    reference = Served(model, history, f"sqlite:///{tmp_path / 'reference.db'}")
    expected = score_calls(reference.version, reference.store, reference.writes, _calls(lines))
    sizes: list[int] = []
    results = _run_grouped(served, lines, served.scorer(on_group=sizes.append))
    assert sizes == [1, len(lines) - 1]
    assert results == expected


def test_a_call_that_fails_fails_alone(world: Any, served: Served, monkeypatch: pytest.MonkeyPatch) -> None:
    lines, before = world[2], served.stored()
    serving = served.version
    model = serving.model
    bad = lines[3]["line_id"]
    score_one = serving.model.score_one

    def breaks_on_one(features: Any, line: Any, *args: Any) -> Any:
        if line["line_id"] == bad:
            raise ZeroDivisionError("a scoring bug")
        return score_one(features, line, *args)

    monkeypatch.setattr(serving, "model", _Wrapped(model, score_one=breaks_on_one))
    outcomes = _run_grouped(served, lines[:6])
    assert [isinstance(o, ZeroDivisionError) for o in outcomes] == [False, False, False, True, False, False]
    assert served.stored() == (before[0] + 5, 5)


def test_a_store_error_fails_the_whole_group_and_stores_nothing(
    world: Any, served: Served, monkeypatch: pytest.MonkeyPatch
) -> None:
    lines, before = world[2], served.stored()

    def disk_full(conn: Any, rows: Any, lines: Any = None) -> None:
        raise sqlite3.OperationalError("database or disk is full")

    monkeypatch.setattr(served.store.decisions, "record", disk_full)
    outcomes = _run_grouped(served, lines[:6])
    assert all(isinstance(o, sqlite3.OperationalError) for o in outcomes)
    assert served.stored() == before


def _run_grouped(
    served: Served, lines: list[dict[str, Any]], scorer: SingleLineScorer | None = None
) -> list[Any]:
    """Submit the calls while the store is held: the first call's group waits for the store, and all the
    others queue behind it and form the next group. Each call's result, or the error it raised."""
    scorer = scorer or served.scorer()
    serving = served.version

    async def main() -> list[Any]:
        calls = _calls(lines)
        served.writes.acquire()
        tasks = [asyncio.create_task(scorer.score(serving, calls[0]))]
        await asyncio.sleep(0)
        while not scorer._queue.empty():  # the scorer has taken the first call
            await asyncio.sleep(0.001)
        tasks += [asyncio.create_task(scorer.score(serving, call)) for call in calls[1:]]
        await asyncio.sleep(0.05)
        served.writes.release()
        return await asyncio.gather(*tasks, return_exceptions=True)

    try:
        return asyncio.run(main())
    finally:
        scorer.stop()


class _Wrapped:
    """The model with one method replaced."""

    def __init__(self, model: Any, **replaced: Any) -> None:
        self._model, self._replaced = model, replaced

    def __getattr__(self, name: str) -> Any:
        return self._replaced.get(name) or getattr(self._model, name)


def test_stop_scores_what_is_queued(world: Any, served: Served) -> None:
    lines, before = world[2], served.stored()
    scorer, serving = served.scorer(), served.version

    async def main() -> list[Any]:
        tasks = [asyncio.create_task(scorer.score(serving, c)) for c in _calls(lines[:4])]
        await asyncio.sleep(0)  # all four are queued
        await asyncio.to_thread(scorer.stop)
        return await asyncio.gather(*tasks)

    results = asyncio.run(main())
    assert [r["line_id"] for r in results] == [line["line_id"] for line in lines[:4]]
    assert served.stored() == (before[0] + 4, 4)


@pytest.mark.postgres
def test_a_group_rolled_back_by_a_deadlock_is_scored_again(
    world: Any, postgres_url: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    model, history, lines = world
    served = Served(model, history, postgres_url)
    before = served.stored()
    attempts: list[int] = []

    def deadlocks_first(
        version: ServingVersion, store: ServiceStore, writes: Turns, calls: list[LineCall]
    ) -> list[dict[str, Any]]:
        attempts.append(len(calls))
        if len(attempts) == 1:
            raise sa.exc.OperationalError(
                "UPDATE feat_agg_trader ...", {}, DeadlockDetected("deadlock detected")
            )
        return score_calls(version, store, writes, calls)

    monkeypatch.setattr(single_lines, "score_calls", deadlocks_first)
    outcomes = _run_grouped(served, lines[:1])
    assert attempts == [1, 1] and outcomes[0]["line_id"] == lines[0]["line_id"]
    assert served.stored() == (before[0] + 1, 1)

    def always(
        version: ServingVersion, store: ServiceStore, writes: Turns, calls: list[LineCall]
    ) -> list[dict[str, Any]]:
        attempts.append(len(calls))
        raise DeadlockDetected("deadlock detected")

    attempts.clear()
    monkeypatch.setattr(single_lines, "score_calls", always)
    outcomes = _run_grouped(served, lines[1:2])
    assert attempts == [1] * (1 + single_lines.DEADLOCK_RETRIES)
    assert isinstance(outcomes[0], DeadlockDetected)
    served.store.dispose()
