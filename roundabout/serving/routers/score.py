"""POST /v1/score: score goods lines with channels and reasons."""

import uuid
from typing import Annotated, Any

from fastapi import APIRouter, Depends, HTTPException, Response, status
from fastapi.concurrency import run_in_threadpool

from roundabout.serving.keys import ApiKey, Scope
from roundabout.serving.live_model import ServingVersion
from roundabout.serving.schemas import ModelRef, ScoreRequest, ScoreResponse, error_answers
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
        raise HTTPException(
            status.HTTP_413_CONTENT_TOO_LARGE,
            detail=f"lines: {len(body.lines)} lines, at most {limit} per call",
        )
    request_id = uuid.uuid4().hex
    if len(body.lines) == 1:
        # The common call: checked here, then scored with the single lines that came in alongside it.
        line = body.lines[0].model_dump()
        call = LineCall(line, current.store.validate_line(line), body.explain, body.top_k, request_id, key.id)
        return _answer(state, current, request_id, [await state.single_lines.score(current, call)])
    # Many lines: checked, scored and serialised in the thread pool, so the event loop stays free.
    return await run_in_threadpool(_score_many, body, state, current, request_id, key.id)


def _score_many(
    body: ScoreRequest, state: ServiceState, current: ServingVersion, request_id: str, key_id: str
) -> Response:
    lines = [line.model_dump() for line in body.lines]
    seen: dict[str, int] = {}
    for i, line in enumerate(lines):
        if line["line_id"] in seen:
            raise HTTPException(
                status.HTTP_422_UNPROCESSABLE_CONTENT,
                detail=[
                    {
                        "loc": ["body", "lines", i, "line_id"],
                        "msg": f"duplicate of lines[{seen[line['line_id']]}].line_id in the same request",
                        "type": "duplicate",
                    }
                ],
            )
        seen[line["line_id"]] = i
    results = score_lines(current, state.audit, lines, body.explain, body.top_k, request_id, key_id)
    return _answer(state, current, request_id, results)


def _answer(
    state: ServiceState, current: ServingVersion, request_id: str, results: list[dict[str, Any]]
) -> Response:
    for r in results:
        state.metrics.lines_scored.labels(r["channel"]).inc()
    answer = ScoreResponse(
        request_id=request_id, model=ModelRef(name=current.name, version=current.version), results=results
    )
    # Serialised here: returned as a model, FastAPI would validate it a second time before encoding it.
    return Response(answer.model_dump_json(), media_type="application/json")
