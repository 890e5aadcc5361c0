"""What the console needs from the service that mounts it, handed over as plain callables so the console
depends on nothing above it: the store, the version serving, the monitor's latest report, the keys, the
screening index, the registry."""

from collections.abc import Callable
from contextlib import AbstractContextManager
from dataclasses import dataclass, field
from typing import Any

from roundabout.data.rules import FormatRules
from roundabout.models import RiskModel
from roundabout.monitoring import MonitorReport
from roundabout.parties.index import ScreeningIndex
from roundabout.store import ServiceStore


@dataclass(frozen=True)
class ServingFacts:
    """The version serving now, as the model page shows it."""

    model: RiskModel
    name: str
    version: str
    alias: str
    run_id: str | None
    trained_at: str | None
    holdout_metrics: dict[str, float] = field(default_factory=dict)


@dataclass(frozen=True)
class Signer:
    """Who a presented key belongs to: (key id, scopes) or None; and whether a key id is still configured."""

    find: Callable[[str], tuple[str, frozenset[str]] | None]
    active: Callable[[str], bool]


@dataclass
class ConsoleContext:
    """Everything the console's pages read or write."""

    store: ServiceStore
    rules: FormatRules
    serving: Callable[[], ServingFacts | None]
    monitoring: Callable[[], MonitorReport | None]
    keys: Signer
    #: the key that signs session cookies (shared by every worker on the store)
    secret: Callable[[], bytes]
    session_minutes: int = 480
    screening: Callable[[], ScreeningIndex | None] = lambda: None
    #: write turns of the service (outcomes take one, as in `POST /v1/feedback`)
    writes: Callable[[], AbstractContextManager[Any]] | None = None
    #: the registry: model versions and a run's plots (None: the model page shows the serving facts only)
    registry: Any = None
    #: cookies only over HTTPS (set in production behind TLS)
    secure_cookies: bool = False
