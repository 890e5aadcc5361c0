"""Service commands: `serve` the API, `backfill` its store, make API `keys`."""

import errno
import json
import socket
from pathlib import Path
from typing import TYPE_CHECKING, Annotated

import typer

from roundabout.cli.render import console, say, summary_table, warning
from roundabout.errors import ConfigError
from roundabout.settings import Settings

if TYPE_CHECKING:
    from roundabout.store import ServiceStore

#: What a caller without a key gets, and what to do about it.
NO_KEYS = (
    "no API key is configured, so every call except /healthz, /readyz and /metrics gets 401: make one with "
    "`roundabout keys new --id NAME --scopes score,feedback` and put its entry in ROUNDABOUT_API_KEYS "
    "(docs/api.md)"
)


def require_free_port(host: str, port: int) -> None:
    """Fail before any work when something already listens on `host:port` (as uvicorn would bind it)."""
    with socket.socket(socket.AF_INET6 if ":" in host else socket.AF_INET) as sock:
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            sock.bind((host, port))
        except OSError as exc:
            why = "is in use" if exc.errno == errno.EADDRINUSE else f"cannot be bound ({exc.strerror})"
            raise ConfigError(
                f"port {port} on {host} {why}: stop what holds it, or choose another port with --port"
            ) from None


def serve(
    ctx: typer.Context,
    host: Annotated[str, typer.Option(help="Interface to bind")] = "127.0.0.1",
    port: Annotated[int, typer.Option(help="Port to listen on")] = 8000,
    workers: Annotated[int, typer.Option(min=1, help="Worker processes (each loads the model)")] = 1,
) -> None:
    """Run the scoring API under uvicorn; it loads models:/<name>@champion and follows the alias."""
    import uvicorn

    settings: Settings = ctx.obj
    require_free_port(host, port)
    if not settings.api_keys:
        warning(NO_KEYS)
    uvicorn.run(
        "roundabout.serving.app:create_app",
        factory=True,
        host=host,
        port=port,
        workers=workers,
        log_level="info",
        access_log=False,
    )


def backfill(
    ctx: typer.Context,
    data: Annotated[Path, typer.Option(help="Canonical data folder to add to the service store")],
    chunk: Annotated[int, typer.Option(min=1, help="Lines per transaction")] = 10_000,
) -> None:
    """Add a canonical folder's lines and outcomes to the service's online store (idempotent)."""
    from roundabout.cli.store_calls import backfill as run_backfill

    url, counts = run_backfill(ctx.obj, data, chunk)
    console.print(summary_table(f"backfilled {url}", dict(counts)))


store_app = typer.Typer(help="The service store's schema.", no_args_is_help=True)


@store_app.command("upgrade")
def store_upgrade(ctx: typer.Context) -> None:
    """Create the store's tables, or upgrade them in place to this version's schema (idempotent)."""
    from roundabout.cli.store_calls import with_store
    from roundabout.store.schema import current_revision, head_revision

    def upgrade(store: "ServiceStore") -> tuple[str, str | None]:
        before = current_revision(store.backend)
        store.migrate()
        return store.url, before

    url, before = with_store(ctx.obj, "upgrade", upgrade)
    say(f"{url}: at revision {head_revision()} (was {before or 'unversioned or empty'})")


@store_app.command("status")
def store_status(ctx: typer.Context) -> None:
    """Show the revision the store's schema stands at, against this version's."""
    from roundabout.cli.store_calls import missing_file, with_store
    from roundabout.store.schema import current_revision, head_revision

    head = head_revision()
    if (path := missing_file(ctx.obj)) is not None:
        state = "no store yet: `roundabout store upgrade` or `roundabout backfill` creates it"
        console.print(summary_table(str(path), {"revision": "none", "this version's": head, "state": state}))
        return
    url, current = with_store(ctx.obj, "read", lambda store: (store.url, current_revision(store.backend)))
    state = "up to date" if current == head else "needs `roundabout store upgrade`"
    console.print(summary_table(url, {"revision": current or "none", "this version's": head, "state": state}))


keys_app = typer.Typer(help="API keys.", no_args_is_help=True)


@keys_app.command("new")
def keys_new(
    key_id: Annotated[str, typer.Option("--id", help="Name shown in logs and the audit trail")],
    scopes: Annotated[str, typer.Option(help="Comma-separated: score, feedback, admin, analyst")] = "score",
) -> None:
    """Make a key: prints the key once (give it to the caller) and the entry for ROUNDABOUT_API_KEYS."""
    from roundabout.serving.keys import ApiKey, hash_key, new_key
    from roundabout.yaml_config import validate_options

    key = new_key()
    wanted = [s.strip() for s in scopes.split(",") if s.strip()]
    entry = validate_options(ApiKey, {"id": key_id, "sha256": hash_key(key), "scopes": wanted}, "key options")
    say(f"key (shown once): {key}")
    say("configuration entry:")
    console.print_json(json.dumps(entry.model_dump(mode="json")))
