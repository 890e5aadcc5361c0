"""The analyst console's view of a running service (`roundabout.console`): the store, the version serving,
the monitor's figures, the keys, the lists, the registry, as the console's context."""

import threading

from roundabout.console import ConsoleContext, ServingFacts, Signer
from roundabout.models.mlflow_service import MlflowService
from roundabout.serving.state import ServiceState

#: The name of the console's session key in the store's `service_secrets`.
SESSION_KEY = "console_session"


def console_context(state: ServiceState, registry: MlflowService) -> ConsoleContext:
    settings = state.settings
    secret: list[bytes] = []
    lock = threading.Lock()

    def session_secret() -> bytes:
        """`ROUNDABOUT_CONSOLE_SECRET`, else the store's own key (made once, shared by every worker)."""
        with lock:
            if not secret:
                given = settings.console_secret
                secret.append(given.get_secret_value().encode() if given else state.store.secret(SESSION_KEY))
            return secret[0]

    def serving() -> ServingFacts | None:
        current = state.live_model.current
        if current is None:
            return None
        return ServingFacts(
            current.model, current.name, current.version, current.alias, current.run_id, current.trained_at,
            current.holdout_metrics,
        )  # fmt: skip

    def find(presented: str) -> tuple[str, frozenset[str]] | None:
        key = state.keys.find(presented)
        return (key.id, frozenset(s.value for s in key.scopes)) if key is not None else None

    return ConsoleContext(
        store=state.store,
        rules=state.live_model.rules,
        serving=serving,
        monitoring=lambda: state.monitor.report if state.monitor is not None else None,
        keys=Signer(find, state.keys.in_force),
        secret=session_secret,
        session_minutes=settings.console_session_minutes,
        screening=state.lists.get,
        writes=lambda: state.writes,
        registry=registry,
        secure_cookies=settings.console_secure_cookies,
    )
