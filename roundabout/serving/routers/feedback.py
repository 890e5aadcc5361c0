"""POST /v1/feedback: inspection outcomes, stored durably before the answer; POST /v1/feedback/corrections:
outcomes corrected, the earlier record kept."""

from typing import Annotated

from fastapi import APIRouter, Depends, HTTPException, status

from roundabout.serving.keys import ApiKey, Scope
from roundabout.serving.outcome_schemas import CorrectionsRequest, CorrectionsResponse
from roundabout.serving.schemas import FeedbackRequest, FeedbackResponse, error_answers
from roundabout.serving.state import State, require
from roundabout.store.feedback import OutcomeProblems

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
    key: Annotated[ApiKey, Depends(require(Scope.FEEDBACK))],
) -> FeedbackResponse:
    """Store outcomes (idempotent on line id): the answer says how many were new and how many duplicates.

    The whole call is one transaction: either every outcome is stored or none is. An outcome for a line
    the service has never scored is refused, naming it, and so is one inspected before its line's date;
    one that differs from the outcome already stored for its line (another result or date) is refused
    with 409, naming both. Each stored outcome records the key that sent it and when.
    """
    sent = [o.model_dump() for o in body.outcomes]
    try:
        with state.writes:
            new = state.store.record_outcomes(sent, key.id, state.live_model.rules)
    except OutcomeProblems as exc:
        detail = [{"loc": ["body", "outcomes", i, f], "msg": m, "type": kind} for i, f, m, kind in exc.found]
        raise HTTPException(status.HTTP_422_UNPROCESSABLE_CONTENT, detail=detail) from None
    return FeedbackResponse(new=new, duplicates=len(sent) - new)


@router.post(
    "/feedback/corrections",
    summary="Correct recorded inspection outcomes",
    response_model=CorrectionsResponse,
    responses=error_answers(
        400,
        401,
        403,
        409,
        413,
        422,
        503,
        e409="A named record was already superseded by another correction (nothing was stored)",
        e422="Bad input: an unknown line or record, a record of another line, or a correction that changes "
        "nothing",
    ),
)
def corrections(
    body: CorrectionsRequest,
    state: State,
    key: Annotated[ApiKey, Depends(require(Scope.FEEDBACK))],
) -> CorrectionsResponse:
    """Supersede outcomes: each correction names the line's current outcome record (`supersedes`, as
    `GET /v1/decisions/{line_id}` shows it) and a reason. Both records stay, in the store and the audit
    trail; the line's outcome (what features and training read) becomes the correction, and its trader's,
    declarant's and counterparty's inspection counts move with it. All or none: one transaction."""
    sent = [c.model_dump() for c in body.corrections]
    try:
        with state.writes:
            records = state.store.correct_outcomes(sent, key.id, state.live_model.rules)
    except OutcomeProblems as exc:
        detail = [
            {"loc": ["body", "corrections", i, f], "msg": m, "type": kind} for i, f, m, kind in exc.found
        ]
        raise HTTPException(status.HTTP_422_UNPROCESSABLE_CONTENT, detail=detail) from None
    return CorrectionsResponse(records=records)
