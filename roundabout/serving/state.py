"""What a running service holds, and the dependencies routes declare to get it."""

from dataclasses import dataclass
from typing import Annotated

from fastapi import Depends, Request
from fastapi.security import APIKeyHeader

from roundabout.errors import UnavailableError
from roundabout.serving.budget import OfficeDayBudget
from roundabout.serving.errors import ForbiddenError, UnauthorizedError
from roundabout.serving.keys import KEY_HEADER, ApiKey, KeyRing, Scope
from roundabout.serving.live_lists import LiveLists
from roundabout.serving.live_model import LiveModel, ServingVersion
from roundabout.serving.live_monitor import LiveMonitor
from roundabout.serving.metrics import Metrics
from roundabout.serving.single_lines import SingleLineScorer
from roundabout.serving.turns import Turns
from roundabout.settings import Settings
from roundabout.store import ServiceStore


@dataclass
class ServiceState:
    """Everything one app instance needs: settings, keys, the live model, the store (with its decision
    log), the turns its writes take, metrics, the thread that scores single-line calls, the sanctions
    lists it screens against, its office-day budgets, its monitor and the key of its exploration draws."""

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
    """A dependency that admits a key holding `scope`: 401 without a valid key, 403 without the scope."""

    async def check(state: State, presented: Annotated[str | None, Depends(_key_header)]) -> ApiKey:
        key = state.keys.find(presented)
        if key is None:
            raise UnauthorizedError(f"missing or unknown API key (send it in the {KEY_HEADER} header)")
        if scope not in key.scopes:
            raise ForbiddenError(f"this key lacks the {scope.value!r} scope")
        return key

    return check


async def serving(state: State) -> ServingVersion:
    """The model version serving now, or 503 while none is loaded."""
    current = state.live_model.current
    if current is None:
        reason = state.live_model.last_error or "the model is still loading"
        raise UnavailableError(f"no model loaded: {reason}")
    return current


CurrentModel = Annotated[ServingVersion, Depends(serving)]
