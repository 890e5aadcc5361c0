"""Bodies of outcome corrections (`POST /v1/feedback/corrections`) and the outcome history a line's
decisions page shows: every outcome received, the corrections naming what they superseded and why."""

from datetime import date
from typing import Annotated

from pydantic import BaseModel, ConfigDict, Field, StringConstraints

from roundabout.data.rules import MAX_LINE_ID
from roundabout.data.schema import OUTCOMES

#: Longest reason or note a correction may carry.
MAX_REASON = 2000


class CorrectionIn(BaseModel):
    """A corrected outcome: the line's new outcome, the record it supersedes (the line's current one, as
    `GET /v1/decisions/{line_id}` shows it) and why."""

    model_config = ConfigDict(
        extra="forbid",
        json_schema_extra={
            "examples": [
                {
                    "supersedes": 41,
                    "line_id": "KZ-SNT-2024-000123/1",
                    "inspected_on": "2024-03-15",
                    "outcome": "clean",
                    "reason": "laboratory report 2024/117: the goods match the declaration",
                }
            ]
        },
    )

    supersedes: int = Field(ge=1, description="Id of the outcome record this one replaces")
    line_id: Annotated[
        str, StringConstraints(strict=True, strip_whitespace=True, min_length=1, max_length=MAX_LINE_ID)
    ]
    inspected_on: date
    outcome: Annotated[str, StringConstraints(strict=True), Field(json_schema_extra={"enum": list(OUTCOMES)})]
    violation_type: Annotated[str, StringConstraints(strict=True, max_length=128)] | None = None
    reason: Annotated[
        str, StringConstraints(strict=True, strip_whitespace=True, min_length=1, max_length=MAX_REASON)
    ] = Field(description="Why the earlier outcome was wrong (kept in the audit trail)")
    note: Annotated[str, StringConstraints(strict=True, max_length=MAX_REASON)] | None = None


class CorrectionsRequest(BaseModel):
    model_config = ConfigDict(extra="forbid")

    corrections: list[CorrectionIn] = Field(min_length=1, max_length=1000)


class CorrectionsResponse(BaseModel):
    records: list[int] = Field(description="Ids of the new outcome records, in the call's order")


class OutcomeRecordOut(BaseModel):
    """One outcome received for a line: the first, or a correction of the one before."""

    id: int
    inspected_on: date
    outcome: str
    violation_type: str | None
    key_id: str | None = Field(description="The key that sent it (null: loaded with the history)")
    received_at: str | None
    note: str | None
    supersedes: int | None = Field(description="The record this one corrects (null: the first outcome)")
    reason: str | None = Field(description="Why it corrects the one before")
    current: bool = Field(description="Whether it is the line's outcome now (the latest)")
