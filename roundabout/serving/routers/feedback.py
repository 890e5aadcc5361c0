"""POST /v1/feedback: inspection outcomes, stored durably before the answer."""

from datetime import date
from typing import Annotated, Any

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
    the service has never scored is refused, naming it, and so is one inspected before its line's date;
    one that differs from the outcome already stored for its line (another result or date) is refused
    with 409, naming both.
    """
    validator = RecordValidator(state.live_model.rules)
    outcomes, problems = [], []
    for i, sent in enumerate(body.outcomes):
        try:
            outcomes.append(validator.outcome(sent.model_dump()))
        except InvalidInputError as exc:
            problems.append({"loc": ["body", "outcomes", i, exc.field], "msg": str(exc), "type": "invalid"})
    if not problems:
        problems = _against_lines(outcomes, state.store.exporter.line_dates(o["line_id"] for o in outcomes))
    if problems:
        raise HTTPException(status.HTTP_422_UNPROCESSABLE_CONTENT, detail=problems)
    with state.writes:
        new = state.store.add_outcomes(outcomes)
    return FeedbackResponse(new=new, duplicates=len(outcomes) - new)


def _against_lines(outcomes: list[dict[str, Any]], dates: dict[str, date]) -> list[dict[str, Any]]:
    """Problems of outcomes with their stored lines: a line never scored, an inspection before the line."""
    problems = []
    for i, o in enumerate(outcomes):
        line_date = dates.get(o["line_id"])
        if line_date is None:
            msg, field, kind = f"unknown line {o['line_id']!r}: score it first", "line_id", "unknown_line"
        elif o["inspected_on"] < line_date:
            msg = f"inspected on {o['inspected_on']}, before the line's date {line_date}"
            field, kind = "inspected_on", "invalid"
        else:
            continue
        problems.append({"loc": ["body", "outcomes", i, field], "msg": msg, "type": kind})
    return problems
