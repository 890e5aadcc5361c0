"""The monitoring figures of the model serving now, as the background monitor last computed them."""

from typing import Annotated, Any

from fastapi import APIRouter, Depends

from roundabout.errors import NotFoundError, UnavailableError
from roundabout.monitoring import MonitorReport
from roundabout.serving.keys import ApiKey, Scope
from roundabout.serving.schemas import error_answers
from roundabout.serving.state import State, require

router = APIRouter(prefix="/v1", tags=["monitoring"])


@router.get(
    "/monitoring",
    summary="Drift of inputs and scores, channel shares, hit rates and alerts (docs/monitoring.md)",
    response_model=MonitorReport,
    responses=error_answers(
        401,
        403,
        404,
        503,
        e404="Nothing to monitor yet (no line decided), or monitoring is off",
        e503="The first monitoring pass has not finished, or the last one failed (the reason says why)",
    ),
)
def monitoring(state: State, _key: Annotated[ApiKey, Depends(require(Scope.ADMIN))]) -> dict[str, Any]:
    monitor = state.monitor
    report = monitor.report if monitor is not None else None
    if report is not None:
        return report.to_dict()
    if monitor is None or state.settings.monitor_interval_seconds <= 0:
        raise NotFoundError("monitoring is off (ROUNDABOUT_MONITOR_INTERVAL_SECONDS is 0)")
    if monitor.nothing_yet:
        raise NotFoundError(f"no monitoring figures yet: {monitor.last_error}")
    why = monitor.last_error or "the first monitoring pass has not finished"
    raise UnavailableError(f"no monitoring figures yet: {why}")
