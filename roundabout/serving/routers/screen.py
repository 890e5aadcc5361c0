"""POST /v1/screen: names against the sanctions lists the service follows."""

from typing import Annotated, Any

from fastapi import APIRouter, Depends
from fastapi.concurrency import run_in_threadpool

from roundabout.errors import UnavailableError
from roundabout.parties.index import ScreeningIndex
from roundabout.serving.errors import TooLargeError
from roundabout.serving.keys import ApiKey, Scope
from roundabout.serving.schemas import ScreenRequest, ScreenResponse, error_answers
from roundabout.serving.state import State, require

router = APIRouter(prefix="/v1", tags=["screening"])


@router.post(
    "/screen",
    summary="Screen names against the sanctions lists",
    response_model=ScreenResponse,
    responses=error_answers(400, 401, 403, 413, 422, 503, e503="No sanctions list is loaded yet"),
)
async def screen(
    body: ScreenRequest, state: State, _key: Annotated[ApiKey, Depends(require(Scope.SCORE))]
) -> dict[str, Any]:
    """Screen 1 to `max_batch_lines` names (with their countries where known); each name gets the list
    entries it resembles, best first, and why. The answer names the list versions screened against."""
    limit = state.settings.max_batch_lines
    if len(body.names) > limit:
        raise TooLargeError(f"names: {len(body.names)} names, at most {limit} per call")
    index = state.lists.get()
    if index is None:
        raise UnavailableError(
            "no sanctions list is loaded: load one with `roundabout lists load` (the service picks it up "
            f"within {state.settings.lists_reload_interval_seconds:.0f} s)"
        )
    return await run_in_threadpool(_screen, index, body)


def _screen(index: ScreeningIndex, body: ScreenRequest) -> dict[str, Any]:
    results = []
    for item in body.names:
        country = item.country.upper() if item.country else None
        found = index.match(item.name, country, limit=body.limit, min_score=body.min_score)
        results.append({"name": item.name, "country": country, "matches": [m.as_dict() for m in found]})
    lists = [
        {
            "list": v.list_name,
            "version": v.version,
            "content_hash": v.content_hash,
            "published": v.published.isoformat() if v.published else None,
        }
        for v in index.versions
    ]
    return {"threshold": index.threshold, "lists": lists, "results": results}
