"""POST /v1/feedback: inspection outcomes, stored durably before the answer."""

from typing import Annotated

from fastapi import APIRouter, Depends, HTTPException, status

from roundabout.data.records import RecordValidator
from roundabout.errors import InvalidInputError
from roundabout.serving.keys import ApiKey, Scope
from roundabout.serving.schemas import FeedbackRequest, FeedbackResponse, error_answers
from roundabout.serving.state import State, require

router = APIRouter(prefix="/v1", tags=["feedback"])


@router.post(
    "/feedback",
    summary="Record inspection outcomes",
    response_model=FeedbackResponse,
    responses=error_answers(
        400,
        401,
        403,
        409,
        413,
        422,
        503,
        e409="An outcome differs from the one already stored for its line (nothing was stored)",
        e422="Bad input, or an outcome for a line the service has not seen",
    ),
)
def feedback(
    body: FeedbackRequest,
    state: State,
    _key: Annotated[ApiKey, Depends(require(Scope.FEEDBACK))],
) -> FeedbackResponse:
    """Store outcomes (idempotent on line id): the answer says how many were new and how many duplicates.

    The whole call is one transaction: either every outcome is stored or none is. An outcome for a line
    the service has never scored is refused, naming it; one that differs from the outcome already stored
    for its line (another result or date) is refused with 409, naming both.
    """
    validator = RecordValidator(state.live_model.rules)
    outcomes, problems = [], []
    for i, sent in enumerate(body.outcomes):
        try:
            outcomes.append(validator.outcome(sent.model_dump()))
        except InvalidInputError as exc:
            problems.append({"loc": ["body", "outcomes", i, exc.field], "msg": str(exc), "type": "invalid"})
    if not problems:
        known = state.store.exporter.known_line_ids(o["line_id"] for o in outcomes)
        problems = [
            {
                "loc": ["body", "outcomes", i, "line_id"],
                "msg": f"unknown line {o['line_id']!r}: score it first",
                "type": "unknown_line",
            }
            for i, o in enumerate(outcomes)
            if o["line_id"] not in known
        ]
    if problems:
        raise HTTPException(status.HTTP_422_UNPROCESSABLE_CONTENT, detail=problems)
    with state.writes:
        new = state.store.add_outcomes(outcomes)
    return FeedbackResponse(new=new, duplicates=len(outcomes) - new)
