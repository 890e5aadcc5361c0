"""POST /v1/feedback: inspection outcomes, stored durably before the answer."""

from typing import Annotated

import sqlalchemy as sa
from fastapi import APIRouter, Depends, HTTPException, status

from roundabout.features.store import FeatureStore
from roundabout.serving.keys import ApiKey, Scope
from roundabout.serving.schemas import FeedbackRequest, FeedbackResponse, error_answers
from roundabout.serving.state import State, require
from roundabout.serving.turns import STORE_WRITES

router = APIRouter(prefix="/v1", tags=["feedback"])


def known_line_ids(store: FeatureStore, ids: list[str]) -> set[str]:
    """Which of `ids` the store holds (outcomes are only taken for lines the service has seen)."""
    table = store.schema.lines
    with store.engine.connect() as conn:
        rows = conn.execute(sa.select(table.c.line_id).where(table.c.line_id.in_(set(ids))))
        return {row[0] for row in rows}


@router.post(
    "/feedback",
    summary="Record inspection outcomes",
    response_model=FeedbackResponse,
    responses=error_answers(
        400, 401, 403, 413, 422, 503, e422="Bad input, or an outcome for a line the service has not seen"
    ),
)
def feedback(
    body: FeedbackRequest,
    state: State,
    _key: Annotated[ApiKey, Depends(require(Scope.FEEDBACK))],
) -> FeedbackResponse:
    """Store outcomes (idempotent on line id): the answer says how many were new and how many duplicates.

    The whole call is one transaction: either every outcome is stored or none is. An outcome for a line
    the service has never scored is refused, naming it.
    """
    store = state.store
    outcomes = [o.model_dump() for o in body.outcomes]
    ids = [o["line_id"] for o in outcomes]
    known = known_line_ids(store, ids)
    unknown = [
        {
            "loc": ["body", "outcomes", i, "line_id"],
            "msg": f"unknown line {line_id!r}: score it first",
            "type": "unknown_line",
        }
        for i, line_id in enumerate(ids)
        if line_id not in known
    ]
    if unknown:
        raise HTTPException(status.HTTP_422_UNPROCESSABLE_CONTENT, detail=unknown)
    with STORE_WRITES:
        new = store.add_outcomes(outcomes)
    return FeedbackResponse(new=new, duplicates=len(outcomes) - new)
