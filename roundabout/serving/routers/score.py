"""POST /v1/score: score goods lines with channels and reasons."""

import json
import uuid
from collections.abc import Mapping
from typing import Annotated, Any

from fastapi import APIRouter, Depends, Response, status
from fastapi.concurrency import run_in_threadpool
from fastapi.exceptions import HTTPException

from roundabout.errors import InvalidInputError
from roundabout.serving.errors import TooLargeError
from roundabout.serving.keys import ApiKey, Scope
from roundabout.serving.live_model import ServingVersion
from roundabout.serving.schemas import ScoreRequest, ScoreResponse, error_answers
from roundabout.serving.scoring import LineCall, score_lines
from roundabout.serving.state import CurrentModel, ServiceState, State, require

router = APIRouter(prefix="/v1", tags=["scoring"])


@router.post(
    "/score",
    summary="Score goods lines",
    response_model=ScoreResponse,
    responses=error_answers(400, 401, 403, 413, 422, 503),
)
async def score(
    body: ScoreRequest,
    state: State,
    current: CurrentModel,
    key: Annotated[ApiKey, Depends(require(Scope.SCORE))],
) -> Response:
    """Score 1 to `max_batch_lines` lines; results come back in request order.

    Every line is added to the online store (once, whatever the retries), so later lines of the same
    trader see it in their history, and every decision is kept in the audit trail.
    """
    limit = state.settings.max_batch_lines
    if len(body.lines) > limit:
        raise TooLargeError(f"lines: {len(body.lines)} lines, at most {limit} per call")
    request_id = uuid.uuid4().hex
    if len(body.lines) == 1:
        # The common call: checked here, then scored with the single lines that came in alongside it.
        line = checked_lines(current, body)[0]
        call = LineCall(
            line, body.explain, body.top_k, request_id, key.id, state.selection_key(), state.budget
        )
        return _answer(state, current, request_id, [await state.single_lines.score(current, call)])
    # Many lines: checked, scored and serialised in the thread pool, so the event loop stays free.
    return await run_in_threadpool(_score_many, body, state, current, request_id, key.id)


def checked_lines(current: ServingVersion, body: ScoreRequest) -> list[Mapping[str, Any]]:
    """The lines checked by the serving version's rules; 422 naming every bad field and duplicate id."""
    lines, problems, seen = [], [], {}
    for i, sent in enumerate(body.lines):
        try:
            lines.append(current.validator.line(sent.model_dump(exclude_unset=False)))
        except InvalidInputError as exc:
            problems.append({"loc": ["body", "lines", i, exc.field], "msg": str(exc), "type": "invalid"})
            continue
        line_id = lines[-1]["line_id"]
        if line_id in seen:
            problems.append(
                {
                    "loc": ["body", "lines", i, "line_id"],
                    "msg": f"duplicate of lines[{seen[line_id]}].line_id in the same request",
                    "type": "duplicate",
                }
            )
        seen[line_id] = i
    if problems:
        raise HTTPException(status.HTTP_422_UNPROCESSABLE_CONTENT, detail=problems)
    return lines


def _score_many(
    body: ScoreRequest, state: ServiceState, current: ServingVersion, request_id: str, key_id: str
) -> Response:
    lines = checked_lines(current, body)
    results = score_lines(
        current, state.store, state.writes, lines, body.explain, body.top_k, request_id, key_id,
        state.selection_key(), state.budget,
    )  # fmt: skip
    return _answer(state, current, request_id, results)


def _answer(
    state: ServiceState, current: ServingVersion, request_id: str, results: list[dict[str, Any]]
) -> Response:
    for r in results:
        state.metrics.lines_scored.labels(r["channel"]).inc()
    model = {"name": current.name, "version": current.version}
    # Serialised straight from the results (the shape `ScoreResponse` documents): building the response
    # model would validate every result a second time.
    body = json.dumps({"request_id": request_id, "model": model, "results": results}, allow_nan=False)
    return Response(body, media_type="application/json")
