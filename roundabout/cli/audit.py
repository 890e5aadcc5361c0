"""`roundabout audit`: verify the tamper-evident trail (in the store or an export), export a period for an
auditor, sign a checkpoint now, and show the public key auditors verify signatures with
(docs/reliability.md, "The audit trail").
"""

import json
from datetime import UTC, date, datetime, time
from pathlib import Path
from typing import TYPE_CHECKING, Annotated

import typer

from roundabout.cli.render import console, count_progress, error, note, say, summary_table
from roundabout.errors import ConfigError, InvalidInputError
from roundabout.settings import Settings

if TYPE_CHECKING:
    from roundabout.store import ServiceStore

audit_app = typer.Typer(help="The audit trail: verify, export, checkpoint.", no_args_is_help=True)

StoreOption = Annotated[
    str | None, typer.Option(help="SQLAlchemy URL of the service store [default: the settings' store]")
]


def _settings(ctx: typer.Context, store: str | None) -> Settings:
    settings: Settings = ctx.obj
    if store is not None:
        settings = settings.model_copy(update={"store_url": store})
    from roundabout.cli.store_calls import missing_file

    if (absent := missing_file(settings)) is not None:
        raise ConfigError(f"no service store at {absent}: pass --store, or serve and score lines first")
    return settings


def _has_trail(store: "ServiceStore") -> None:
    if not store.audit.exists():
        raise ConfigError(f"the store {store.url} has no audit trail yet: `roundabout store upgrade` adds it")


def _public_keys(settings: Settings, given: list[Path] | None) -> dict:
    from roundabout.audit.signing import Signer, key_id, load_public_key

    keys = {}
    for path in given or []:
        if not path.is_file():
            raise InvalidInputError("--public-key", f"no file {path}")
        key = load_public_key(path.read_bytes(), str(path))
        keys[key_id(key)] = key
    if not given and settings.audit_key_path.exists():
        signer = Signer.from_file(settings.audit_key_path)
        keys[signer.key_id] = signer.public
    return keys


def _day(value: str | None, option: str) -> datetime | None:
    if value is None:
        return None
    try:
        return datetime.combine(date.fromisoformat(value), time(), tzinfo=UTC)
    except ValueError:
        try:
            moment = datetime.fromisoformat(value)
        except ValueError:
            raise InvalidInputError(option, f"{value!r} is not a date (YYYY-MM-DD) or an ISO time") from None
        return moment if moment.tzinfo else moment.replace(tzinfo=UTC)


@audit_app.command("verify")
def verify(
    ctx: typer.Context,
    store: StoreOption = None,
    file: Annotated[Path | None, typer.Option(help="Verify this export instead of the store")] = None,
    public_key: Annotated[
        list[Path] | None,
        typer.Option(help="PEM public key that signed checkpoints (repeatable) [default: the service's key]"),
    ] = None,
    from_checkpoint: Annotated[
        bool, typer.Option(help="Trust the records up to the latest signed checkpoint; walk only the rest")
    ] = False,
    tables: Annotated[
        bool, typer.Option(help="Also check decisions and outcomes against their audit records")
    ] = True,
    json_out: Annotated[Path | None, typer.Option("--json", help="Also write the report as JSON")] = None,
) -> None:
    """Walk the hash chain and its signed checkpoints: exit 0 when intact, 1 naming the first broken
    record (edited, deleted, inserted or reordered), 2 when it cannot be read."""
    from roundabout.audit.verify import Report, signed_checkpoints, verify_records

    settings: Settings = ctx.obj
    if file is None:
        settings = _settings(ctx, store)
    keys = _public_keys(settings, public_key)
    if not keys:
        note("no public key (--public-key, or the service's key file): checkpoint signatures are not checked")
    if file is not None:
        from roundabout.audit.export import ExportFile

        export = ExportFile(file)
        report = Report()
        valid = signed_checkpoints(export.checkpoints, keys, report) if keys else {}
        verify_records(export.records(), valid, report, export.start)
        where = str(file)
    else:
        from roundabout.cli.store_calls import opened
        from roundabout.store.audit_check import verify_store

        with opened(settings, "verify") as opened_store:
            _has_trail(opened_store)
            total = opened_store.audit.head()[0]
            with count_progress("verifying the audit trail", total) as advance:
                report = verify_store(opened_store.audit, keys, from_checkpoint, tables, advance)
            where = opened_store.url
    _show(report, where, json_out)
    if not report.ok:
        first = report.problems[0]
        error(f"the audit trail is broken: {first}")
        raise typer.Exit(1)


def _show(report, where: str, json_out: Path | None) -> None:
    rows = {
        "records checked": f"{report.records:,}",
        "records": f"{report.first_seq} to {report.last_seq}" if report.records else "none",
        "last hash": report.last_hash or "-",
        "valid checkpoints": report.checkpoints,
        "last signed record": report.last_signed or "none",
        "records after it": f"{report.unsigned:,} (vouched for by the chain alone)",
        **{f"{name} rows checked": f"{n:,}" for name, n in report.rows_checked.items()},
        "problems": len(report.problems) + report.more_problems,
    }
    console.print(summary_table(f"audit trail of {where}", rows))
    for problem in report.problems:
        say(f"  {problem}")
    if report.more_problems:
        say(f"  ... and {report.more_problems} more")
    if json_out is not None:
        out = {
            **{
                k: getattr(report, k)
                for k in ("records", "first_seq", "last_seq", "last_hash", "checkpoints")
            },
            "last_signed": report.last_signed,
            "rows_checked": report.rows_checked,
            "ok": report.ok,
            "problems": [{"seq": p.seq, "where": p.where, "problem": p.problem} for p in report.problems],
            "more_problems": report.more_problems,
        }
        json_out.write_text(json.dumps(out, indent=2) + "\n")


@audit_app.command("export")
def export(
    ctx: typer.Context,
    out: Annotated[Path, typer.Option(help="JSON Lines file to write")],
    since: Annotated[
        str | None, typer.Option(help="First day (YYYY-MM-DD, UTC) or ISO time [default: start]")
    ] = None,
    until: Annotated[
        str | None, typer.Option(help="Day after the last (YYYY-MM-DD) or ISO time [default: now]")
    ] = None,
    store: StoreOption = None,
) -> None:
    """Write the audit records of a period, with the checkpoints and public key that verify them, for an
    auditor (`roundabout audit verify --file`, or the procedure in docs/reliability.md)."""
    from roundabout.cli.store_calls import opened
    from roundabout.store.audit_check import export_store

    settings = _settings(ctx, store)
    start, end = _day(since, "--since"), _day(until, "--until")
    if start is not None and end is not None and end <= start:
        raise InvalidInputError("--until", f"{until} is not after --since {since}")
    keys = _public_keys(settings, None)
    out.parent.mkdir(parents=True, exist_ok=True)
    with opened(settings, "export") as opened_store:
        _has_trail(opened_store)
    with opened(settings, "export") as opened_store, out.open("w", encoding="utf-8") as f:
        n, first, last = export_store(opened_store.audit, f, start, end, keys, opened_store.url)
    say(
        f"{n:,} audit records ({first} to {last}) written to {out}"
        if n
        else f"no audit record in the period: {out}"
    )


@audit_app.command("checkpoint")
def checkpoint(ctx: typer.Context, store: StoreOption = None) -> None:
    """Sign the trail's head now (the service signs one every ROUNDABOUT_AUDIT_CHECKPOINT_SECONDS)."""
    from roundabout.audit.signing import Signer
    from roundabout.cli.store_calls import opened

    settings = _settings(ctx, store)
    signer = Signer.from_file(settings.audit_key_path, create=True)
    with opened(settings, "sign a checkpoint of") as opened_store:
        opened_store.migrate()
        cp = opened_store.audit.checkpoint(signer)
    say(f"checkpoint: record {cp.seq}, hash {cp.hash}, key {cp.key_id}" if cp else "nothing new to sign")


@audit_app.command("public-key")
def public_key(
    ctx: typer.Context,
    out: Annotated[Path | None, typer.Option(help="Write the PEM here [default: print it]")] = None,
) -> None:
    """The public key that verifies the checkpoints, for auditors (the signing key stays where it is)."""
    from roundabout.audit.signing import Signer, public_pem

    settings: Settings = ctx.obj
    signer = Signer.from_file(settings.audit_key_path, create=True)
    pem = public_pem(signer.public)
    if out is None:
        console.print(pem, end="", soft_wrap=True, highlight=False)
    else:
        out.write_text(pem)
        say(f"public key {signer.key_id} written to {out}")
