"""Single-line calls scored together in one transaction give what one call after the other gives."""

import asyncio
import sqlite3
from pathlib import Path
from typing import Any

import mlflow
import numpy as np
import pandas as pd
import pytest
import sqlalchemy as sa
from psycopg.errors import DeadlockDetected

from roundabout.data.io import read_folder
from roundabout.features.store import FeatureStore
from roundabout.models.pyfunc import load_risk_model
from roundabout.serving import single_lines
from roundabout.serving.audit import AuditLog
from roundabout.serving.live_model import ServingVersion
from roundabout.serving.schemas import ScoreRequest
from roundabout.serving.scoring import LineCall, score_calls, score_lines
from roundabout.serving.single_lines import SingleLineScorer
from roundabout.serving.turns import STORE_WRITES
from tests.serving.conftest import Registry


@pytest.fixture(scope="module")
def world(registry: Registry) -> tuple[Any, pd.DataFrame, list[dict[str, Any]]]:
    """The champion, a history to start stores from, and 12 later lines as the API parses them: the
    first 10 lines of one busy trader, in date order, then two of them sent again."""
    mlflow.set_tracking_uri(registry.tracking_uri)
    model = load_risk_model("models:/roundabout@champion")
    lines = read_folder(registry.data_dir).lines.sort_values(["date", "line_id"], kind="stable")
    busy = lines["trader_id"].value_counts().index[0]
    later = lines[lines["date"] >= lines["date"].quantile(0.8)]
    mine = later[later["trader_id"] == busy].head(10)
    assert mine["date"].nunique() > 3, "the test needs lines on several dates"
    history = lines[lines["date"] < mine["date"].min()]
    records = [*mine.to_dict("records"), *mine.iloc[[2, 7]].to_dict("records")]
    for r in records:
        r["date"] = r["date"].date().isoformat()
        r.update({k: None for k, v in r.items() if isinstance(v, float) and np.isnan(v)})
    parsed = ScoreRequest.model_validate({"lines": records}).lines
    return model, history, [line.model_dump() for line in parsed]


def _serving(model: Any, history: pd.DataFrame, path: Path) -> tuple[ServingVersion, AuditLog]:
    store = FeatureStore(f"sqlite:///{path}", artifacts=model.artifacts, cache_size=0)
    store.create_schema()
    store.add_lines(history)
    audit = AuditLog(store.engine)
    audit.create_schema()
    return ServingVersion(model, store, "roundabout", "1", "champion", None), audit


@pytest.fixture
def fresh(
    world: Any, tmp_path: Path
) -> tuple[ServingVersion, AuditLog, list[dict[str, Any]], tuple[int, int]]:
    """A version serving on a store that holds the history, its audit log, the lines to score, and the
    store's counts of lines and decisions before they are."""
    model, history, lines = world
    serving, audit = _serving(model, history, tmp_path / "store.db")
    return serving, audit, lines, _stored(serving)


def _calls(serving: ServingVersion, lines: list[dict[str, Any]]) -> list[LineCall]:
    return [
        LineCall(line, serving.store.validate_line(line), True, 5, f"r{i}", "k")
        for i, line in enumerate(lines)
    ]


def _history(serving: ServingVersion, line: dict[str, Any]) -> dict[str, float]:
    features = serving.store.features_for([line]).iloc[0]
    return {k: v for k, v in features.items() if k.startswith("trader_")}


def _stored(serving: ServingVersion) -> tuple[int, int]:
    with serving.store.engine.connect() as conn:
        lines = conn.exec_driver_sql("SELECT count(*) FROM feat_lines").scalar_one()
        decided = conn.exec_driver_sql("SELECT count(*) FROM decisions").scalar_one()
    return lines, decided


def test_a_group_scores_and_stores_as_one_call_after_the_other(world: Any, tmp_path: Path) -> None:
    model, history, lines = world
    together, audit_t = _serving(model, history, tmp_path / "together.db")
    apart, audit_a = _serving(model, history, tmp_path / "apart.db")
    before = _stored(together)[0]
    history_before = [_history(together, line) for line in lines]

    grouped = score_calls(together, audit_t, _calls(together, lines))
    one_by_one = [
        score_lines(apart, audit_a, [line], True, 5, f"r{i}", "k")[0] for i, line in enumerate(lines)
    ]

    assert grouped == one_by_one
    # Later lines of the trader saw the earlier ones of the same group: as of each line's date, the
    # trader's history now differs from what the store held before the group.
    history_after = [_history(together, line) for line in lines]
    assert sum(a != b for a, b in zip(history_before, history_after, strict=True)) >= 5
    # The two lines sent again are scored as the first time and stored once; every call is audited.
    assert grouped[10] == grouped[2] and grouped[11] == grouped[7]
    assert _stored(together) == _stored(apart) == (before + 10, 12)


def test_the_scorer_groups_waiting_calls_and_answers_each(world: Any, tmp_path: Path) -> None:
    model, history, lines = world
    serving, audit = _serving(model, history, tmp_path / "store.db")
    reference, audit_r = _serving(model, history, tmp_path / "reference.db")
    expected = score_calls(reference, audit_r, _calls(reference, lines))
    sizes: list[int] = []
    results = _run_grouped(SingleLineScorer(audit, on_group=sizes.append), serving, lines)
    assert sizes == [1, len(lines) - 1]
    assert results == expected


def test_a_call_that_fails_fails_alone(fresh: Any, monkeypatch: pytest.MonkeyPatch) -> None:
    serving, audit, lines, before = fresh
    model = serving.model
    bad = lines[3]["line_id"]
    score_one = serving.model.score_one

    def breaks_on_one(features: Any, line: Any, *args: Any) -> Any:
        if line["line_id"] == bad:
            raise ZeroDivisionError("a scoring bug")
        return score_one(features, line, *args)

    monkeypatch.setattr(serving, "model", _Wrapped(model, score_one=breaks_on_one))
    scorer = SingleLineScorer(audit)
    outcomes = _run_grouped(scorer, serving, lines[:6])
    assert [isinstance(o, ZeroDivisionError) for o in outcomes] == [False, False, False, True, False, False]
    assert _stored(serving) == (before[0] + 5, 5)


def test_a_store_error_fails_the_whole_group_and_stores_nothing(
    fresh: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    serving, audit, lines, before = fresh

    def disk_full(rows: Any, conn: Any = None) -> None:
        raise sqlite3.OperationalError("database or disk is full")

    monkeypatch.setattr(audit, "record", disk_full)
    scorer = SingleLineScorer(audit)
    outcomes = _run_grouped(scorer, serving, lines[:6])
    assert all(isinstance(o, sqlite3.OperationalError) for o in outcomes)
    assert _stored(serving) == before


def _run_grouped(scorer: SingleLineScorer, serving: ServingVersion, lines: list[dict[str, Any]]) -> list[Any]:
    """Submit the calls while the store is held: the first call's group waits for the store, and all the
    others queue behind it and form the next group. Each call's result, or the error it raised."""

    async def main() -> list[Any]:
        calls = _calls(serving, lines)
        STORE_WRITES.acquire()
        tasks = [asyncio.create_task(scorer.score(serving, calls[0]))]
        await asyncio.sleep(0)
        while not scorer._queue.empty():  # the scorer has taken the first call
            await asyncio.sleep(0.001)
        tasks += [asyncio.create_task(scorer.score(serving, call)) for call in calls[1:]]
        await asyncio.sleep(0.05)
        STORE_WRITES.release()
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


def test_stop_scores_what_is_queued(fresh: Any) -> None:
    serving, audit, lines, before = fresh
    scorer = SingleLineScorer(audit)

    async def main() -> list[Any]:
        tasks = [asyncio.create_task(scorer.score(serving, c)) for c in _calls(serving, lines[:4])]
        await asyncio.sleep(0)  # all four are queued
        await asyncio.to_thread(scorer.stop)
        return await asyncio.gather(*tasks)

    results = asyncio.run(main())
    assert [r["line_id"] for r in results] == [line["line_id"] for line in lines[:4]]
    assert _stored(serving) == (before[0] + 4, 4)


def test_a_group_rolled_back_by_a_deadlock_is_scored_again(
    fresh: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    serving, audit, lines, before = fresh
    attempts: list[int] = []

    def deadlocks_first(
        serving: ServingVersion, audit: AuditLog, calls: list[LineCall]
    ) -> list[dict[str, Any]]:
        attempts.append(len(calls))
        if len(attempts) == 1:
            raise sa.exc.OperationalError(
                "UPDATE feat_agg_trader ...", {}, DeadlockDetected("deadlock detected")
            )
        return score_calls(serving, audit, calls)

    monkeypatch.setattr(single_lines, "score_calls", deadlocks_first)
    outcomes = _run_grouped(SingleLineScorer(audit), serving, lines[:1])
    assert attempts == [1, 1] and outcomes[0]["line_id"] == lines[0]["line_id"]
    assert _stored(serving) == (before[0] + 1, 1)

    def always(serving: ServingVersion, audit: AuditLog, calls: list[LineCall]) -> list[dict[str, Any]]:
        attempts.append(len(calls))
        raise DeadlockDetected("deadlock detected")

    attempts.clear()
    monkeypatch.setattr(single_lines, "score_calls", always)
    outcomes = _run_grouped(SingleLineScorer(audit), serving, lines[1:2])
    assert attempts == [1] * (1 + single_lines.DEADLOCK_RETRIES)
    assert isinstance(outcomes[0], DeadlockDetected)
