"""What a running service holds, and the dependencies routes declare to get it."""

import asyncio
from dataclasses import dataclass, field
from typing import Annotated

from fastapi import Depends, Request
from fastapi.security import APIKeyHeader

from roundabout.audit import Entry
from roundabout.errors import UnavailableError
from roundabout.serving.budget import OfficeDayBudget
from roundabout.serving.errors import ForbiddenError, TooManyRequestsError, UnauthorizedError
from roundabout.serving.keys import KEY_HEADER, ApiKey, KeyRing, Scope, expired_on
from roundabout.serving.live_lists import LiveLists
from roundabout.serving.live_model import LiveModel, ServingVersion
from roundabout.serving.live_monitor import LiveMonitor
from roundabout.serving.metrics import Metrics
from roundabout.serving.rate_limit import RateLimiter, limit_of, retry_after
from roundabout.serving.single_lines import SingleLineScorer
from roundabout.serving.turns import Turns
from roundabout.settings import Settings
from roundabout.store import STORE_ERRORS, ServiceStore


@dataclass
class ServiceState:
    """Everything one app instance needs: settings, keys, the live model, the store (with its decision
    log), the turns its writes take, metrics, the thread that scores single-line calls, the sanctions
    lists it screens against, its office-day budgets, its monitor, the key of its exploration draws and
    the request buckets of its keys."""

    settings: Settings
    keys: KeyRing
    live_model: LiveModel
    store: ServiceStore
    writes: Turns
    metrics: Metrics
    single_lines: SingleLineScorer
    lists: LiveLists
    budget: OfficeDayBudget | None = None
    monitor: LiveMonitor | None = None
    _selection_key: bytes | None = None
    limiter: RateLimiter = field(default_factory=RateLimiter)

    def selection_key(self) -> bytes:
        """The key of the exploration draws: `ROUNDABOUT_SELECTION_KEY`, else the one kept in the store
        (made on first use), read once."""
        if self._selection_key is None:
            given = self.settings.selection_key
            self._selection_key = (
                given.get_secret_value().encode("utf-8") if given else self.store.selection_key()
            )
        return self._selection_key


# The dependencies are `async def`: they never block, and FastAPI runs a plain `def` dependency in the
# thread pool, a hand-off to a worker thread and back per dependency per request.


async def get_state(request: Request) -> ServiceState:
    return request.app.state.service


State = Annotated[ServiceState, Depends(get_state)]
_key_header = APIKeyHeader(name=KEY_HEADER, auto_error=False, description="Your API key")


def require(scope: Scope):
    """A dependency that admits a key holding `scope`: 401 without a valid key or with an expired one, 403
    without the scope, 429 over the key's rate. A call of the `admin` scope is recorded in the audit trail
    before it runs (503 if it cannot be: an admin action leaves a record or does not happen)."""

    async def check(
        request: Request, state: State, presented: Annotated[str | None, Depends(_key_header)]
    ) -> ApiKey:
        key = state.keys.match(presented)
        if key is None:
            raise UnauthorizedError(f"missing or unknown API key (send it in the {KEY_HEADER} header)")
        if (expired := expired_on(key)) is not None:
            raise UnauthorizedError(f"the API key {key.id!r} expired on {expired:%Y-%m-%d %H:%M} UTC")
        if scope not in key.scopes:
            raise ForbiddenError(f"this key lacks the {scope.value!r} scope")
        if (limit := limit_of(key, state.settings)) is not None:
            rate, burst = limit
            if (wait := state.limiter.take(key.id, rate, burst)) is not None:
                seconds = retry_after(wait)
                raise TooManyRequestsError(
                    f"the API key {key.id!r} is over its limit of {rate:g} requests a second (burst "
                    f"{burst}) in this service process: retry in {seconds} s",
                    seconds,
                )
        if scope is Scope.ADMIN:
            await _audit_admin_call(state, key, request)
        return key

    return check


async def _audit_admin_call(state: ServiceState, key: ApiKey, request: Request) -> None:
    """Append the `admin_call` record of `key` calling `request`, off the event loop."""
    path = request.url.path
    entry = Entry("admin_call", key.id, path, {"method": request.method, "path": path})
    try:
        await asyncio.to_thread(state.store.audit.record, [entry])
    except STORE_ERRORS as exc:
        raise UnavailableError(
            f"store unavailable: cannot record the admin call in the audit trail ({type(exc).__name__}); "
            "nothing was done, retry later"
        ) from None


async def serving(state: State) -> ServingVersion:
    """The model version serving now, or 503 while none is loaded."""
    current = state.live_model.current
    if current is None:
        reason = state.live_model.last_error or "the model is still loading"
        raise UnavailableError(f"no model loaded: {reason}")
    return current


CurrentModel = Annotated[ServingVersion, Depends(serving)]
