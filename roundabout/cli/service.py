"""Service commands: `serve` the API, `backfill` its store, make, list and revoke API `keys`."""

import errno
import json
import math
import socket
from datetime import UTC, date, datetime
from pathlib import Path
from typing import TYPE_CHECKING, Annotated

import typer

from roundabout.cli.render import console, note, say, summary_table, warning
from roundabout.errors import ConfigError, InvalidInputError
from roundabout.settings import Settings

if TYPE_CHECKING:
    from roundabout.serving.keys import ApiKey
    from roundabout.store import ServiceStore
    from roundabout.store.api_keys import StoredKey

#: What a caller without a key gets, and what to do about it.
NO_KEYS = (
    "no API key is configured or stored, so every call except /healthz, /readyz and /metrics gets 401: make "
    "one with `roundabout keys new --id NAME --scopes score,feedback` (it keeps the key in the store; with "
    "--print-only, put its entry in ROUNDABOUT_API_KEYS instead): docs/api.md"
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


def stored_keys(settings: Settings) -> int:
    """How many keys of the store are in force (0 when there is no store yet, or it cannot be read: the
    service then starts without them too)."""
    from roundabout.cli.store_calls import missing_file, with_store
    from roundabout.errors import RoundaboutError

    if missing_file(settings) is not None:
        return 0
    try:
        return len(with_store(settings, "read", lambda s: s.keys.active() if s.keys.exists() else []))
    except RoundaboutError:
        return 0


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
    if not settings.api_keys and not stored_keys(settings):
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
    method: Annotated[
        str,
        typer.Option(
            help="bulk: partitions of days, set-wise (COPY on PostgreSQL), one transaction each; lines: the "
            "service's per-line writer, --chunk lines per transaction"
        ),
    ] = "bulk",
    partition_lines: Annotated[
        int,
        typer.Option(
            min=1,
            help="bulk: lines per partition (whole days; one transaction each, during which the service's "
            "writes wait)",
        ),
    ] = 250_000,
    chunk: Annotated[int, typer.Option(min=1, help="lines: lines per transaction")] = 10_000,
    since: Annotated[
        str | None,
        typer.Option(help="Only the lines dated on or after this day (YYYY-MM-DD), and their outcomes"),
    ] = None,
    until: Annotated[
        str | None, typer.Option(help="Only the lines dated on or before this day (YYYY-MM-DD)")
    ] = None,
) -> None:
    """Add a canonical folder's lines and outcomes to the service's online store (idempotent, resumable:
    a load stopped at any point keeps the partitions it finished; run it again to add the rest)."""
    from roundabout.cli.store_calls import backfill as run_backfill

    if method not in ("bulk", "lines"):
        raise typer.BadParameter(f"{method!r}: choose bulk or lines", param_hint="--method")
    dates = (_day("since", since), _day("until", until))
    url, counts = run_backfill(
        ctx.obj, data, chunk, method=method, partition_lines=partition_lines, dates=dates
    )
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

#: The `keys new` options not named `--<field of ApiKey>`, to name them in a message.
KEY_OPTIONS = {"rate_per_second": "--rate"}


def key_entry(
    key_id: str,
    sha256: str,
    scopes: str,
    expires: str | None,
    rate: float | None,
    burst: int | None,
    now: datetime | None = None,
) -> "ApiKey":
    """The `ApiKey` of the `keys new` options; a bad option raises `InvalidInputError` naming it."""
    from pydantic import ValidationError

    from roundabout.serving.keys import ApiKey, Scope

    wanted = [s.strip() for s in scopes.split(",") if s.strip()]
    known = [s.value for s in Scope]
    if not wanted:
        raise InvalidInputError("--scopes", f"give one or more of {', '.join(known)}", scopes)
    for scope in wanted:
        if scope not in known:
            raise InvalidInputError("--scopes", f"unknown scope (one of {', '.join(known)})", scope)
    if rate is not None and not (math.isfinite(rate) and rate > 0):
        raise InvalidInputError("--rate", "must be more than 0 requests a second", rate)
    if burst is not None and burst < 1:
        raise InvalidInputError("--burst", "must be 1 or more requests", burst)
    body = {"id": key_id, "sha256": sha256, "scopes": wanted, "expires": expires}
    try:
        entry = ApiKey.model_validate({**body, "rate_per_second": rate, "burst": burst})
    except ValidationError as exc:
        first = exc.errors()[0]
        field = str(first["loc"][0]) if first["loc"] else "id"
        shown = body.get(field) if field in ("id", "expires") else None
        reason = first["msg"].removeprefix("Value error, ")
        if first["type"].startswith(("datetime", "date")):
            reason = "not a date (YYYY-MM-DD) nor an ISO time with a zone (2027-01-31T18:00Z)"
        raise InvalidInputError(KEY_OPTIONS.get(field, f"--{field}"), reason, shown) from None
    if entry.expires is not None and entry.expires <= (now or datetime.now(UTC)):
        raise InvalidInputError("--expires", "is in the past: a key must expire later than now", expires)
    return entry


def _limits(rate: float | None, burst: int | None) -> str:
    return f"{rate:g}/s, burst {burst}" if rate is not None else "settings' default"


def _when(moment: datetime | None) -> str:
    return moment.strftime("%Y-%m-%d %H:%M UTC") if moment is not None else ""


@keys_app.command("new")
def keys_new(
    ctx: typer.Context,
    key_id: Annotated[str, typer.Option("--id", help="Name shown in logs and the audit trail")],
    scopes: Annotated[str, typer.Option(help="Comma-separated: score, feedback, admin, analyst")] = "score",
    expires: Annotated[
        str | None, typer.Option(help="When the key stops working: YYYY-MM-DD (midnight UTC) or ISO time")
    ] = None,
    rate: Annotated[
        float | None, typer.Option(help="Requests a second the key may make per service process")
    ] = None,
    burst: Annotated[
        int | None, typer.Option(help="Requests the key may make at once (default: the rate rounded up)")
    ] = None,
    print_only: Annotated[
        bool, typer.Option("--print-only", help="Store nothing: print the entry for ROUNDABOUT_API_KEYS")
    ] = False,
) -> None:
    """Make a key and keep it in the store (every running service admits it within its reload interval);
    the key is printed once: give it to the caller. `--print-only`: print its ROUNDABOUT_API_KEYS entry."""
    from roundabout.cli.store_calls import with_store
    from roundabout.serving.keys import hash_key, new_key

    settings: Settings = ctx.obj
    key = new_key()
    entry = key_entry(key_id, hash_key(key), scopes, expires, rate, burst)
    if print_only:
        say(f"key (shown once): {key}")
        say("configuration entry:")
        console.print_json(json.dumps(entry.model_dump(mode="json", exclude_none=True)))
        return
    if key_id in {k.id for k in settings.api_keys}:
        warning(f"ROUNDABOUT_API_KEYS holds a key {key_id!r} too: a service with that setting uses its own")

    def add(store: "ServiceStore") -> tuple[str, "StoredKey"]:
        store.migrate()
        return store.url, store.keys.add(entry, "cli")

    url, stored = with_store(settings, "write", add)
    say(f"key (shown once): {key}")
    rows = {
        "scopes": ", ".join(stored.scopes),
        "expires": _when(stored.expires) or "never",
        "rate": _limits(stored.rate_per_second, stored.burst),
        "picked up": f"by running services within {settings.keys_reload_interval_seconds:g} s",
    }
    console.print(summary_table(f"stored {stored.id!r} in {url}", rows))


@keys_app.command("list")
def keys_list(ctx: typer.Context) -> None:
    """The store's keys, revoked ones included (never their hashes)."""
    from rich.table import Table
    from rich.text import Text

    from roundabout.cli.store_calls import missing_file, with_store

    settings: Settings = ctx.obj
    stored = [] if missing_file(settings) is not None else with_store(settings, "read", _all_keys)
    if settings.api_keys:
        note(f"ROUNDABOUT_API_KEYS holds {', '.join(k.id for k in settings.api_keys)} (not listed)")
    if not stored:
        say("no key in the store yet: `roundabout keys new --id NAME --scopes score`")
        return
    now = datetime.now(UTC)
    table = Table(title="API keys in the store")
    for column in ("id", "scopes", "expires", "rate", "created", "revoked"):
        table.add_column(column)
    for k in stored:
        expires = _when(k.expires) + (" (expired)" if k.expires is not None and k.expires <= now else "")
        row = (k.id, ", ".join(k.scopes), expires, _limits(k.rate_per_second, k.burst), _when(k.created_at))
        table.add_row(*(Text(cell) for cell in (*row, _when(k.revoked_at))))
    console.print(table)


def _all_keys(store: "ServiceStore") -> list["StoredKey"]:
    # a command that only reads upgrades nothing: a store without the keys table holds no key
    return store.keys.all() if store.keys.exists() else []


@keys_app.command("revoke")
def keys_revoke(
    ctx: typer.Context,
    key_id: Annotated[str, typer.Option("--id", help="The id of the key to revoke")],
) -> None:
    """Revoke a key of the store: every running service refuses it within its reload interval."""
    from roundabout.cli.store_calls import missing_file, with_store

    settings: Settings = ctx.obj
    stored = [] if missing_file(settings) is not None else with_store(settings, "read", _all_keys)
    if key_id not in {k.id for k in stored}:
        if key_id in {k.id for k in settings.api_keys}:
            raise InvalidInputError(
                "--id", "the key is in ROUNDABOUT_API_KEYS, not in the store: remove its entry there", key_id
            )
        raise InvalidInputError("--id", "no key with this id in the store (`roundabout keys list`)", key_id)
    revoked = with_store(settings, "write", lambda store: store.keys.revoke(key_id, "cli"))
    say(
        f"revoked {revoked.id!r} at {_when(revoked.revoked_at)}: running services refuse it within "
        f"{settings.keys_reload_interval_seconds:g} s"
    )


def _day(option: str, text: str | None) -> "date | None":
    """A `--since` / `--until` value as a date."""
    if text is None:
        return None
    try:
        return date.fromisoformat(text)
    except ValueError:
        raise typer.BadParameter(f"{text!r} is not a date (YYYY-MM-DD)", param_hint=f"--{option}") from None
