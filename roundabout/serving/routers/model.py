"""Model information, decisions (audit) and forced reloads."""

import asyncio
from typing import Annotated

from fastapi import APIRouter, Depends, Path

from roundabout.serving.keys import ApiKey, Scope
from roundabout.serving.schemas import DecisionsResponse, ModelInfo, ModelRef, ReloadResult, error_answers
from roundabout.serving.state import CurrentModel, State, require

router = APIRouter(prefix="/v1", tags=["model"])
#: Holdout metrics of the exploration figures (`training/exploration.py`), as logged.
EXPLORATION_PREFIX = "holdout.model.exploration."

#: A line id in a path: as long as a stored one can be, without control characters (as in scoring).
LineIdPath = Annotated[str, Path(min_length=1, max_length=128, pattern=r"^[^\x00-\x1f\x7f]+$")]


@router.get(
    "/model",
    summary="The model serving now",
    response_model=ModelInfo,
    responses=error_answers(401, 403, 503),
)
def model_info(current: CurrentModel, _key: Annotated[ApiKey, Depends(require(Scope.SCORE))]) -> ModelInfo:
    return ModelInfo(
        name=current.name,
        version=current.version,
        alias=current.alias,
        run_id=current.run_id,
        trained_at=current.trained_at,
        holdout_metrics=current.holdout_metrics,
        thresholds=current.model.thresholds.to_dict(),
        policy=current.model.policy.to_dict(),
        exploration={
            k.removeprefix(EXPLORATION_PREFIX): v
            for k, v in current.holdout_metrics.items()
            if k.startswith(EXPLORATION_PREFIX)
        },
        features=list(current.model.feature_names),
    )


@router.get(
    "/decisions/{line_id:path}",
    summary="Every decision taken on a line (audit trail)",
    response_model=DecisionsResponse,
    responses=error_answers(401, 403, 404, 422, 503),
)
def decisions(
    line_id: LineIdPath, state: State, _key: Annotated[ApiKey, Depends(require(Scope.ADMIN))]
) -> DecisionsResponse:
    stored = state.store.decisions.outcome_of(line_id)
    return DecisionsResponse(
        line_id=line_id,
        decisions=state.store.decisions.for_line(line_id),
        outcome=stored,
        outcomes=state.store.outcome_history(line_id),
    )


@router.post(
    "/admin/reload",
    summary="Check the registry alias now and swap in a new version",
    response_model=ReloadResult,
    responses=error_answers(401, 403),
)
async def reload(state: State, _key: Annotated[ApiKey, Depends(require(Scope.ADMIN))]) -> ReloadResult:
    result = await asyncio.to_thread(state.live_model.check)
    current = state.live_model.current
    return ReloadResult(
        result=result,  # type: ignore[arg-type]
        serving=ModelRef(name=current.name, version=current.version) if current else None,
        last_error=state.live_model.last_error,
    )
