"""Party commands: `lists load` and `lists show` (sanctions list versions in the service store) and
`screen` (a file of names against the active lists)."""

import csv
from pathlib import Path
from typing import TYPE_CHECKING, Annotated

import typer

from roundabout.cli.render import console, count_progress, say, summary_table, warning
from roundabout.errors import InvalidInputError, NotFoundError, writing

if TYPE_CHECKING:
    from roundabout.parties.index import LoadedList, ScreeningIndex
    from roundabout.settings import Settings
    from roundabout.store import ServiceStore
    from roundabout.store.sanction_lists import StoredList

lists_app = typer.Typer(help="Sanctions lists in the service store.", no_args_is_help=True)
SHOWN_BAD_ROWS = 20


@lists_app.command("load")
def lists_load(
    ctx: typer.Context,
    format: Annotated[
        str, typer.Option(help="ofac (sdn.csv with alt.csv, add.csv), eu, uk or opensanctions")
    ],
    path: Annotated[Path, typer.Option(help="The list file (for ofac: sdn.csv or the folder holding it)")],
    name: Annotated[
        str | None, typer.Option(help="Name the list is kept under [default: the format]")
    ] = None,
) -> None:
    """Validate a sanctions list file and store it as a new version (the service picks it up itself)."""
    load_list(ctx.obj, path, (name or format).strip(), format)


def load_list(settings: "Settings", path: Path, list_name: str, format: str = "opensanctions") -> None:
    """Read, check and store a list file as a version of `list_name`, and show what was loaded."""
    from roundabout.cli.store_calls import with_store
    from roundabout.parties.formats import read_list

    if not list_name or len(list_name) > 64:
        raise InvalidInputError("name", "must be 1-64 characters", list_name)
    parsed = read_list(format, path)
    for bad in parsed.bad_rows[:SHOWN_BAD_ROWS]:
        warning(f"{path}: {bad}")
    if len(parsed.bad_rows) > SHOWN_BAD_ROWS:
        warning(f"{path}: {len(parsed.bad_rows) - SHOWN_BAD_ROWS} more bad rows not shown")
    if not parsed.entries:
        raise InvalidInputError("file", f"{path} holds no valid entry ({len(parsed.bad_rows)} bad rows)")

    def save(store: "ServiceStore") -> tuple[int, bool]:
        store.migrate()
        return store.sanction_lists.save(list_name, format, parsed, str(path))

    version, new = with_store(settings, "write", save)
    rows = {
        "list": list_name,
        "version": version if new else f"{version} (this content was already loaded)",
        "entries": len(parsed.entries),
        "bad rows": len(parsed.bad_rows),
        "published": parsed.published.isoformat() if parsed.published else "not stated",
    }
    console.print(summary_table(f"loaded {path}", rows))


@lists_app.command("show")
def lists_show(ctx: typer.Context) -> None:
    """Every stored list version, newest first; the active one of each list is marked."""
    from rich.table import Table

    from roundabout.cli.store_calls import missing_file, with_store

    if missing_file(ctx.obj) is not None:
        say("no sanctions list loaded yet: `roundabout lists load --format ... --path ...`")
        return

    def versions(store: "ServiceStore") -> list["StoredList"]:
        # a command that only reads upgrades nothing: a store without the list tables has no list
        return store.sanction_lists.versions() if store.sanction_lists.exists() else []

    stored = with_store(ctx.obj, "read", versions)
    if not stored:
        say("no sanctions list loaded yet: `roundabout lists load --format ... --path ...`")
        return
    table = Table(title="sanctions lists")
    for column in (
        "list",
        "version",
        "active",
        "format",
        "published",
        "entries",
        "content hash",
        "loaded at",
    ):
        table.add_column(column)
    for s in stored:
        table.add_row(
            s.list_name, str(s.version), "yes" if s.active else "", s.format,
            s.published.isoformat() if s.published else "", f"{s.entry_count:,}", s.content_hash[:12],
            s.loaded_at.strftime("%Y-%m-%d %H:%M"),
        )  # fmt: skip
    console.print(table)


def active_index(settings: "Settings") -> "ScreeningIndex":
    """The screening index of the store's active lists; an error saying how to load one if there is none."""
    from roundabout.cli.store_calls import missing_file, with_store
    from roundabout.parties.index import ScreeningIndex

    def load(store: "ServiceStore") -> list["LoadedList"]:
        return store.sanction_lists.load() if store.sanction_lists.exists() else []

    loaded = [] if missing_file(settings) is not None else with_store(settings, "read", load)
    if not loaded:
        raise NotFoundError(
            "no sanctions list is loaded: `roundabout lists load --format ... --path ...` first"
        )
    return ScreeningIndex.build(loaded)


def store_screening(settings: "Settings") -> "ScreeningIndex | None":
    """The index of the store's active lists for a batch job (train, evaluate, score, backfill), or None
    with a note when no list is loaded: the party features are then missing."""
    from roundabout.cli.render import note

    try:
        return active_index(settings)
    except NotFoundError:
        note("no sanctions list is loaded in the store: the party features are missing for this job")
        return None


def _read_names(path: Path) -> list[tuple[str, str | None]]:
    """Names (and countries) of a CSV with a `name` column (and optionally `country`), or of a text file
    with one name a line."""
    if not path.is_file():
        raise NotFoundError(f"no names file at {path}")
    try:
        text = path.read_text(encoding="utf-8-sig")
    except UnicodeDecodeError as exc:
        raise InvalidInputError("names", f"{path} is not UTF-8 text (byte {exc.start})") from None
    lines = text.splitlines()
    if not lines:
        raise InvalidInputError("names", f"{path} is empty")
    header = [h.strip().lower() for h in next(csv.reader([lines[0]]))]
    if "name" not in header:
        return [(line.strip(), None) for line in lines if line.strip()]
    out = []
    for row in csv.DictReader(lines[1:], fieldnames=header):
        name = (row.get("name") or "").strip()
        country = (row.get("country") or "").strip().upper() or None
        out.append((name, country))
    return out


def screen(
    ctx: typer.Context,
    names: Annotated[
        Path, typer.Option(help="CSV with a `name` (and optional `country`) column, or one name a line")
    ],
    out: Annotated[Path, typer.Option(help="CSV to write: each name with its best match, if any")],
    min_score: Annotated[
        float | None,
        typer.Option(min=0.0, max=1.0, help="Report matches from this score [default: threshold]"),
    ] = None,
) -> None:
    """Screen a file of names against the active sanctions lists (each distinct name once)."""
    queries = _read_names(names)
    index = active_index(ctx.obj)
    distinct = list(dict.fromkeys(queries))
    found = {}
    with count_progress("screen", len(distinct)) as advance:
        for i, (name, country) in enumerate(distinct):
            matches = index.match(name, country, limit=1, min_score=min_score) if name else []
            found[(name, country)] = matches[0] if matches else None
            if i % 500 == 499:
                advance(500)
        advance(len(distinct) % 500)
    columns = ["name", "country", "matched", "score", "list", "list_version", "entry_id", "entry_name",
               "matched_name", "programmes", "countries", "matched_words"]  # fmt: skip
    hits = 0
    with writing(out):
        out.parent.mkdir(parents=True, exist_ok=True)
        with out.open("w", newline="", encoding="utf-8") as fh:
            writer = csv.writer(fh)
            writer.writerow(columns)
            for name, country in queries:
                m = found[(name, country)]
                if m is None:
                    writer.writerow([name, country or "", "no", *[""] * (len(columns) - 3)])
                    continue
                hits += 1
                words = "; ".join(f"{q}~{w} {s:.2f}" for q, w, s in m.matched_words)
                writer.writerow([
                    name, country or "", "yes", f"{m.score:.4f}", m.list_name, m.list_version, m.entry_id,
                    m.entry_name, m.matched_name, ";".join(m.programmes), ";".join(m.countries), words,
                ])  # fmt: skip
    lists = ", ".join(f"{v.list_name} v{v.version}" for v in index.versions)
    summary = {"names": len(queries), "distinct": len(distinct), "matched": hits, "lists": lists}
    console.print(summary_table(f"screened into {out}", summary))
