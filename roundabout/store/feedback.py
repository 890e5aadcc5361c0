"""Inspection outcomes as they are fed back (`POST /v1/feedback`, the analyst console): checked by the
outcome's rules, against the lines the store holds (a line the service has never scored is refused, and so
is an inspection dated before its line), then stored with the key that sent them, when, and any note, in
one transaction: all of a call's outcomes or none. One path, so the API and the console cannot differ."""

from collections.abc import Mapping, Sequence
from datetime import UTC, date, datetime
from typing import Any

from roundabout.data.records import RecordValidator
from roundabout.data.rules import FormatRules
from roundabout.errors import InvalidInputError


class OutcomeProblems(InvalidInputError):
    """Every problem of a call's outcomes: (0-based position, field, message, kind) each."""

    def __init__(self, problems: list[tuple[int, str, str, str]]) -> None:
        first = problems[0]
        super().__init__(first[1], first[2], row=first[0] + 1)
        self.found = problems
        self.problems = [InvalidInputError(f, m, row=i + 1) for i, f, m, _ in problems]


def checked_outcomes(
    sent: Sequence[Mapping[str, Any]], rules: FormatRules, line_dates: Mapping[str, date] | None = None
) -> list[dict[str, Any]]:
    """`sent` checked by the outcome's rules, then (with `line_dates`, the stored lines' dates) against
    their lines; raises `OutcomeProblems` naming every problem."""
    validator = RecordValidator(rules)
    outcomes, problems = [], []
    for i, record in enumerate(sent):
        try:
            outcomes.append(validator.outcome(dict(record)))
        except InvalidInputError as exc:
            problems += [(i, p.field, p.message, "invalid") for p in exc.problems]
    if problems:
        raise OutcomeProblems(problems)
    if line_dates is None:
        return outcomes
    for i, o in enumerate(outcomes):
        line_date = line_dates.get(o["line_id"])
        if line_date is None:
            problems.append((i, "line_id", f"unknown line {o['line_id']!r}: score it first", "unknown_line"))
        elif o["inspected_on"] < line_date:
            msg = f"inspected on {o['inspected_on']}, before the line's date {line_date}"
            problems.append((i, "inspected_on", msg, "invalid"))
    if problems:
        raise OutcomeProblems(problems)
    return outcomes


def attributed(
    outcomes: list[dict[str, Any]], key_id: str, notes: Mapping[str, str] | None = None
) -> list[dict[str, Any]]:
    """Checked outcomes with who sent them, when, and the officer's note (empty: none)."""
    now = datetime.now(UTC)
    notes = notes or {}
    return [
        {**o, "key_id": key_id, "received_at": now, "note": (notes.get(o["line_id"]) or "").strip() or None}
        for o in outcomes
    ]
