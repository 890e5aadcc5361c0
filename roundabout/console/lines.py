"""The queue of red and yellow lines, a line's page, and the outcome form (the checks of
`POST /v1/feedback`: the record's rules, a line the service has scored, an inspection on or after its date,
idempotent, refused when it contradicts the stored outcome; stored before the page says so)."""

from collections import defaultdict
from contextlib import nullcontext
from datetime import date
from typing import Annotated, Any
from urllib.parse import urlencode

from fastapi import APIRouter, Form, Query, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response

from roundabout.console import queries
from roundabout.console.charts import bars, columns
from roundabout.console.pages import Context, SignedIn, check_csrf, page
from roundabout.data.schema import OUTCOMES
from roundabout.errors import ConflictError, InvalidInputError
from roundabout.reference.chpl import chpl_tier_of

router = APIRouter(prefix="/console", include_in_schema=False)
CHANNELS = {"red": ("red",), "yellow": ("yellow",), "both": ("red", "yellow")}
#: Form fields of an outcome, and the record field each error names.
OUTCOME_FIELDS = ("inspected_on", "outcome", "violation_type", "note")
MAX_NOTE = 2000


@router.get("/queue", response_class=HTMLResponse)
def queue_page(
    request: Request,
    context: Context,
    session: SignedIn,
    day: Annotated[date | None, Query()] = None,
    channel: Annotated[str, Query(pattern="^(red|yellow|both)$")] = "both",
    office: Annotated[str | None, Query(max_length=64)] = None,
    chapter: Annotated[str | None, Query(pattern=r"^\d{0,4}$")] = None,
    trader: Annotated[str | None, Query(max_length=128)] = None,
    sort: Annotated[str, Query(pattern="^(risk|value)$")] = "risk",
    page_number: Annotated[int, Query(alias="page", ge=1, le=100_000)] = 1,
) -> Response:
    day = day or queries.latest_day(context.store)
    if day is None:
        return page(request, "queue.html", session, result=None, day=None)
    wanted = queries.QueueFilter(
        day,
        CHANNELS[channel],
        office or None,
        chapter or None,
        (trader or "").strip() or None,
        sort,
        page_number,
    )
    result = queries.queue(context.store, wanted)
    kept = {
        "day": day,
        "channel": channel,
        "office": office,
        "chapter": chapter,
        "trader": trader,
        "sort": sort,
    }
    query = urlencode({k: v for k, v in kept.items() if v})
    return page(request, "queue.html", session, result=result, day=day, channel=channel, query=query)


def _line_view(context: Context, line_id: str) -> dict[str, Any] | None:
    line = queries.line(context.store, line_id)
    if line is None:
        return None
    decisions = context.store.decisions.for_line(line_id)
    latest = decisions[-1] if decisions else None
    reasons = latest["reasons"] if latest else []
    chart = bars(
        [r["feature"].replace("_", " ") for r in reasons],
        [float(r.get("contribution") or 0.0) for r in reasons],
        "What moved the risk score (log-odds contributions)",
    )
    return {
        "line": line,
        "decisions": decisions,
        "latest": latest,
        "reasons": reasons,
        "reasons_chart": chart,
        "outcome": context.store.decisions.outcome_of(line_id),
        "history": context.store.outcome_history(line_id),
        "trader": _trader(context, line),
        "matches": _matches(context, line),
        "outcomes": OUTCOMES,
    }


def _trader(context: Context, line: dict[str, Any]) -> dict[str, Any]:
    """The trader's year before the line: value by month, its CHPL share, earlier outcomes."""
    if not line.get("trader_id"):
        return {"lines": 0}
    rows = queries.trader_lines(context.store, str(line["trader_id"]), line["date"])
    by_month: dict[str, float] = defaultdict(float)
    chpl = 0
    for row in rows:
        by_month[str(row["date"])[:7]] += float(row["value_usd"] or 0.0)
        chpl += bool(row["hs_code"]) and chpl_tier_of(str(row["hs_code"])) is not None
    earlier = [r for r in rows if r["outcome"] and r["line_id"] != line["line_id"]]
    months = sorted(by_month)
    return {
        "lines": len(rows),
        "chpl_share": chpl / len(rows) if rows else None,
        "violations": sum(r["outcome"] == "violation" for r in earlier),
        "inspected": len(earlier),
        "chart": columns(
            months, [by_month[m] for m in months], "Customs value of the trader's lines by month"
        ),
    }


def _matches(context: Context, line: dict[str, Any]) -> list[dict[str, Any]]:
    """The line's parties against the sanctions lists the service follows."""
    index = context.screening()
    if index is None:
        return []
    out = []
    for role, name_field, country_field in (
        ("trader", "trader_name", None),
        ("counterparty", "counterparty_name", "counterparty_country"),
    ):
        name = line.get(name_field)
        if not name:
            continue
        for match in index.match(str(name), line.get(country_field) if country_field else None, limit=3):
            out.append({"role": role, "name": name, **match.as_dict()})
    return out


@router.get("/lines/{line_id:path}", response_class=HTMLResponse)
def line_page(
    request: Request, context: Context, session: SignedIn, line_id: str, recorded: bool = False
) -> Response:
    view = _line_view(context, line_id)
    if view is None:
        return page(request, "missing.html", session, 404, what=f"line {line_id!r}")
    return page(request, "line.html", session, **view, recorded=recorded, errors={}, sent={})


@router.post("/lines/{line_id:path}/outcome", response_class=HTMLResponse)
def record_outcome(
    request: Request,
    context: Context,
    session: SignedIn,
    line_id: str,
    csrf: Annotated[str, Form(max_length=128)] = "",
    inspected_on: Annotated[str, Form(max_length=32)] = "",
    outcome: Annotated[str, Form(max_length=32)] = "",
    violation_type: Annotated[str, Form(max_length=200)] = "",
    note: Annotated[str, Form(max_length=MAX_NOTE + 100)] = "",
) -> Response:
    """Record an inspection outcome for the line, attributed to the session's key."""
    check_csrf(session, csrf)
    sent = {"inspected_on": inspected_on, "outcome": outcome, "violation_type": violation_type, "note": note}
    errors = _outcome_errors(context, session, line_id, sent)
    if not errors:
        target = f"/console/lines/{request.path_params['line_id']}?recorded=1"
        return RedirectResponse(target, 303)
    view = _line_view(context, line_id)
    if view is None:
        return page(request, "missing.html", session, 404, what=f"line {line_id!r}")
    return page(request, "line.html", session, 422, **view, recorded=False, errors=errors, sent=sent)


def _outcome_errors(context: Context, session: Any, line_id: str, sent: dict[str, str]) -> dict[str, str]:
    """Store the outcome (nothing on error); the problems by form field."""
    if len(sent["note"]) > MAX_NOTE:
        return {"note": f"at most {MAX_NOTE} characters"}
    record = {
        "line_id": line_id,
        "inspected_on": sent["inspected_on"].strip() or None,
        "outcome": sent["outcome"].strip() or None,
        "violation_type": sent["violation_type"].strip() or None,
    }
    try:
        with context.writes() if context.writes is not None else nullcontext():
            context.store.record_outcomes([record], session.key_id, context.rules, {line_id: sent["note"]})
    except InvalidInputError as exc:
        return {p.field if p.field in OUTCOME_FIELDS else "form": p.reason for p in exc.problems}
    except ConflictError as exc:
        return {"form": exc.message}
    return {}


@router.post("/lines/{line_id:path}/correction", response_class=HTMLResponse)
def record_correction(
    request: Request,
    context: Context,
    session: SignedIn,
    line_id: str,
    csrf: Annotated[str, Form(max_length=128)] = "",
    supersedes: Annotated[str, Form(max_length=32)] = "",
    inspected_on: Annotated[str, Form(max_length=32)] = "",
    outcome: Annotated[str, Form(max_length=32)] = "",
    violation_type: Annotated[str, Form(max_length=200)] = "",
    reason: Annotated[str, Form(max_length=MAX_NOTE + 100)] = "",
) -> Response:
    """Correct the line's outcome: the earlier record stays, the reason goes into the audit trail."""
    check_csrf(session, csrf)
    sent = {
        "inspected_on": inspected_on,
        "outcome": outcome,
        "violation_type": violation_type,
        "reason": reason,
    }
    errors = _correction_errors(context, session, line_id, supersedes, sent)
    if not errors:
        return RedirectResponse(f"/console/lines/{request.path_params['line_id']}?recorded=1", 303)
    view = _line_view(context, line_id)
    if view is None:
        return page(request, "missing.html", session, 404, what=f"line {line_id!r}")
    return page(
        request, "line.html", session, 422, **view, recorded=False, errors={}, sent={},
        correction_errors=errors, correction=sent,
    )  # fmt: skip


def _correction_errors(
    context: Context, session: Any, line_id: str, supersedes: str, sent: dict[str, str]
) -> dict[str, str]:
    """Store the correction (nothing on error); the problems by form field."""
    reason = sent["reason"].strip()
    if not reason:
        return {"reason": "say why the outcome was wrong"}
    if len(reason) > MAX_NOTE:
        return {"reason": f"at most {MAX_NOTE} characters"}
    if not supersedes.isdigit():
        return {"form": "the form names no outcome record to correct: reload the page"}
    record = {
        "line_id": line_id,
        "inspected_on": sent["inspected_on"].strip() or None,
        "outcome": sent["outcome"].strip() or None,
        "violation_type": sent["violation_type"].strip() or None,
        "supersedes": int(supersedes),
        "reason": reason,
    }
    try:
        with context.writes() if context.writes is not None else nullcontext():
            context.store.correct_outcomes([record], session.key_id, context.rules)
    except InvalidInputError as exc:
        return {p.field if p.field in (*OUTCOME_FIELDS, "reason") else "form": p.reason for p in exc.problems}
    except ConflictError as exc:
        return {"form": exc.message}
    return {}
