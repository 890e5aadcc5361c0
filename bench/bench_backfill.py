"""Loading history into the service store: `roundabout backfill` in bulk, beside the per-line path, killed.

    .venv/bin/python bench/bench_backfill.py [--stores sqlite,postgres] [--sizes 250000,500000,1000000]
                                             [--peer-lines 100000] [--kills 5] [--kill-lines 200000]
                                             [--kill-partition-lines 20000] [--seed 7]
                                             [--work /tmp/roundabout-bench-backfill] [--write-docs]

Every measurement is the real CLI, `.venv/bin/roundabout backfill --data DIR ...`, in a fresh subprocess
with ROUNDABOUT_HOME set to a fresh folder under `--work` (SQLite: the store is store.db in it) or, for
PostgreSQL, ROUNDABOUT_STORE_URL set to a fresh database on 127.0.0.1:5432 (created and dropped by this
bench). The accepted dates come from the settings' own variables, ROUNDABOUT_MIN_DATE and
ROUNDABOUT_MAX_FUTURE_DAYS, set so the folder's first line and last inspection are inside the range. Wall time
is taken around the subprocess (start-up, reading the folder and checking it included; "load s" is the
CLI's own figure, without start-up and reading); peak RSS is the child's, from /usr/bin/time -v (or from
`getrusage(RUSAGE_CHILDREN)` in a wrapper process when /usr/bin/time is absent). Worlds are simulated once,
`roundabout simulate --out DIR --lines N --seed S`, into `--work`/world-N-sS and reused while their
manifest matches.

1. Scaling: the bulk load (default partitions of 250,000 lines) of each world of `--sizes` lines into a fresh
   store of each of `--stores`: seconds, lines/s, peak RSS and the seconds per line against the smallest
   size's run on the same store kind (1.00 = linear).
2. Peer: at `--peer-lines`, the service's per-line writer (`--method lines`, 10,000 lines a transaction) and
   the bulk load, each into a fresh store, in the same run; the speed-up is lines s / bulk s.
3. Resumability: a world of `--kill-lines` lines is loaded in bulk with `--partition-lines
   --kill-partition-lines` once without interruption (its wall time T), then into a second fresh store
   `--kills` times, each killed (SIGKILL to its process group) after a delay drawn uniformly from [1 s,
   0.9 x the part of T left to do] (`random.Random(--seed)`), each re-run resuming on the same store; then
   once to the end. After each kill the partitions committed are counted (`audit_records` rows of kind
   `history_load`). The two stores must
   then hold the same rows in feat_lines, feat_outcomes, outcome_records (columns id, audit_seq, received_at
   left out), every feat_agg_* table, feat_pairs and feat_distinct (floats within 1e-9 relative), and
   feat_lines as many rows as the folder has lines, no line_id twice; `roundabout audit verify` on the
   resumed store must exit 0.

Prints markdown tables; `--write-docs` puts them into docs/benchmarks.md ("Loading history (backfill)").
"""

import argparse
import json
import os
import platform
import random
import re
import shutil
import signal
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import date
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import sqlalchemy as sa
from rich.console import Console
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn

ROOT = Path(__file__).resolve().parents[1]
CLI = ROOT / ".venv" / "bin" / "roundabout"
DOCS = ROOT / "docs" / "benchmarks.md"
SECTION = "## Loading history (backfill)"
PG_ADMIN = "postgresql+psycopg://postgres@127.0.0.1:5432/postgres"
DB_PREFIX = "roundabout_bench_backfill"
#: columns that differ between two loads of the same history (ids, audit sequence numbers, times)
IGNORED = frozenset({"id", "audit_seq", "received_at"})
RTOL = 1e-9
STORE_NAMES = {"sqlite": "SQLite", "postgres": "PostgreSQL"}
err = Console(stderr=True)


def machine() -> str:
    """The docs' machine line: cores (`nproc`), RAM, Python, PostgreSQL, date, commit."""
    git = lambda *a: subprocess.run(["git", *a], cwd=ROOT, capture_output=True, text=True).stdout.strip()  # noqa: E731
    changed = git("status", "--porcelain", "--", "roundabout")
    with open("/proc/cpuinfo") as cpuinfo:
        model = next((x.split(":", 1)[1].strip() for x in cpuinfo if x.startswith("model name")), "?")
    ram = os.sysconf("SC_PAGE_SIZE") * os.sysconf("SC_PHYS_PAGES") / 2**30
    try:
        engine = sa.create_engine(PG_ADMIN)
        with engine.connect() as conn:
            version = conn.execute(sa.text("SELECT version()")).scalar_one()
        engine.dispose()
        postgres = "PostgreSQL " + version.split()[1] + " on the same host"
    except sa.exc.OperationalError:
        postgres = "no PostgreSQL"
    load = ", ".join(f"{x:.2f}" for x in os.getloadavg())
    commit = git("rev-parse", "--short", "HEAD")
    return (
        f"{len(os.sched_getaffinity(0))} cores ({model}, {platform.machine()}), {ram:.0f} GB RAM, Python "
        f"{platform.python_version()}, {postgres}; {date.today()}, commit {commit}"
        f"{' + uncommitted changes in roundabout/' if changed else ''}, load average {load}"
    )


def progress() -> Progress:
    columns = (TextColumn("[bold]{task.description}"), BarColumn(), MofNCompleteColumn(), TimeElapsedColumn())
    return Progress(*columns, console=err)


# ---- worlds ------------------------------------------------------------------------------------------------
@dataclass(frozen=True)
class World:
    folder: Path
    lines: int
    first: date  # the earliest line
    last: date  # the latest line or inspection
    days: np.ndarray  # the lines' day numbers, sorted


def world(work: Path, lines: int, seed: int) -> World:
    """The simulated world of `lines` lines and `seed` under `work` (made once, kept while its manifest
    matches)."""
    folder = work / f"world-{lines}-s{seed}"
    manifest = folder / "manifest.json"
    sim = json.loads(manifest.read_text()).get("simulation", {}) if manifest.exists() else {}
    if sim.get("n_lines") != lines or sim.get("seed") != seed:
        err.print(f"simulating {lines:,} lines (seed {seed}) into {folder}")
        shutil.rmtree(folder, ignore_errors=True)
        partial = work / f".partial-{folder.name}"
        shutil.rmtree(partial, ignore_errors=True)
        cmd = [str(CLI), "simulate", "--out", str(partial), "--lines", str(lines), "--seed", str(seed)]
        env = {**clean_env(), "ROUNDABOUT_HOME": str(work / "simulate-home")}
        done = subprocess.run(cmd, env=env, cwd=work, capture_output=True, text=True)
        if done.returncode:
            raise SystemExit(f"simulate failed ({done.returncode}):\n{done.stderr[-3000:]}")
        partial.rename(folder)
    dates = pd.read_parquet(folder / "lines.parquet", columns=["date"])["date"]
    inspected = pd.read_parquet(folder / "inspections.parquet", columns=["inspected_on"])["inspected_on"]
    days = np.sort((pd.to_datetime(dates) - pd.Timestamp("1970-01-01")).dt.days.to_numpy(dtype="int64"))
    last = max(dates.max(), inspected.max()) if len(inspected) else dates.max()
    return World(folder, len(dates), pd.Timestamp(dates.min()).date(), pd.Timestamp(last).date(), days)


def partitions(w: World, partition_lines: int) -> int:
    from roundabout.store.bulk.load import partition_bounds

    return len(partition_bounds(w.days, partition_lines))


# ---- stores and the CLI ------------------------------------------------------------------------------------
def clean_env() -> dict[str, str]:
    """This process's environment without roundabout's settings (the bench sets its own) or PYTHONPATH."""
    return {k: v for k, v in os.environ.items() if not k.startswith("ROUNDABOUT_") and k != "PYTHONPATH"}


def pg_admin(sql: str) -> None:
    admin = sa.create_engine(PG_ADMIN, isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        conn.execute(sa.text(sql))
    admin.dispose()


@dataclass
class Store:
    """A fresh store and the environment that points the CLI at it."""

    kind: str
    home: Path
    url: str
    env: dict[str, str] = field(default_factory=dict)


@contextmanager
def fresh_store(kind: str, work: Path, tag: str, w: World) -> Iterator[Store]:
    """A fresh home folder (and for PostgreSQL a fresh database), removed (dropped) afterwards."""
    runs = work / "runs"
    runs.mkdir(parents=True, exist_ok=True)
    home = Path(tempfile.mkdtemp(prefix=f"{kind}-{tag}-", dir=runs))
    today = date.today()
    env = {
        **clean_env(),
        "ROUNDABOUT_HOME": str(home),
        "ROUNDABOUT_MIN_DATE": min(date(2000, 1, 1), w.first).isoformat(),
        "ROUNDABOUT_MAX_FUTURE_DAYS": str(max(1, (w.last - today).days + 1)),
    }
    database = None
    if kind == "postgres":
        database = f"{DB_PREFIX}_{os.getpid()}_{tag}".lower()
        pg_admin(f'DROP DATABASE IF EXISTS "{database}" WITH (FORCE)')
        pg_admin(f'CREATE DATABASE "{database}"')
        url = PG_ADMIN.rsplit("/", 1)[0] + f"/{database}"
        env["ROUNDABOUT_STORE_URL"] = url
    else:
        url = f"sqlite:///{home / 'store.db'}"
    try:
        yield Store(kind, home, url, env)
    finally:
        if database is not None:
            pg_admin(f'DROP DATABASE IF EXISTS "{database}" WITH (FORCE)')
        shutil.rmtree(home, ignore_errors=True)


def backfill_cmd(w: World, method: str = "bulk", partition_lines: int | None = None) -> list[str]:
    cmd = [str(CLI), "backfill", "--data", str(w.folder), "--method", method]
    return cmd if partition_lines is None else [*cmd, "--partition-lines", str(partition_lines)]


_WRAPPER = (
    "import resource, subprocess, sys; code = subprocess.run(sys.argv[1:]).returncode; "
    "print(f'Maximum resident set size (kbytes): "
    "{resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss}', file=sys.stderr); sys.exit(code)"
)


def timed(cmd: list[str], store: Store) -> dict[str, Any]:
    """`cmd` in a subprocess: wall s (around it), the CLI's own load s, peak RSS MB of the child."""
    wrap = ["/usr/bin/time", "-v"] if Path("/usr/bin/time").exists() else [sys.executable, "-c", _WRAPPER]
    t0 = time.perf_counter()
    done = subprocess.run([*wrap, *cmd], env=store.env, cwd=store.home, capture_output=True, text=True)
    wall = time.perf_counter() - t0
    if done.returncode:
        raise SystemExit(f"{' '.join(cmd)} failed ({done.returncode}):\n{done.stderr[-3000:]}")
    rss = re.search(r"Maximum resident set size \(kbytes\): (\d+)", done.stderr)
    load = re.search(r"\bseconds\s*\S\s*([\d,.]+)", done.stdout)
    return {
        "wall": wall,
        "load": float(load.group(1).replace(",", "")) if load else float("nan"),
        "rss": int(rss.group(1)) / 1024 if rss else float("nan"),
    }


def committed(url: str) -> int:
    """Partitions committed so far: the store's `history_load` audit records."""
    engine = sa.create_engine(url)
    try:
        with engine.connect() as conn:
            if not sa.inspect(conn).has_table("audit_records"):
                return 0
            query = "SELECT count(*) FROM audit_records WHERE kind = 'history_load'"
            return int(conn.execute(sa.text(query)).scalar_one())
    finally:
        engine.dispose()


# ---- comparing two stores ----------------------------------------------------------------------------------
def compared_tables() -> list[sa.Table]:
    """The tables a load writes whose rows two loads of the same history must hold alike."""
    from roundabout.store.tables import StoreTables

    t = StoreTables()
    return [t.lines, t.outcomes, t.outcome_records, *t.aggs.values(), t.pairs, t.distinct]


def read_table(conn: sa.Connection, table: sa.Table) -> pd.DataFrame:
    """Every row of `table` but the IGNORED columns, ordered by its key (or every kept column)."""
    columns = [c for c in table.columns if c.name not in IGNORED]
    key = [c for c in table.primary_key.columns if c.name not in IGNORED] or columns
    return pd.read_sql(sa.select(*columns).order_by(*key), conn)


def frame_differences(name: str, table: sa.Table, a: pd.DataFrame, b: pd.DataFrame) -> list[str]:
    """How frames `a` and `b` of `table` differ (floats within RTOL relative), at most one line a column."""
    if len(a) != len(b):
        return [f"{name}: {len(a):,} rows against {len(b):,}"]
    problems = []
    for column in a.columns:
        if isinstance(table.c[column].type, sa.Float):
            x = a[column].to_numpy(dtype="float64", na_value=np.nan)
            y = b[column].to_numpy(dtype="float64", na_value=np.nan)
            same = (np.isnan(x) & np.isnan(y)) | np.isclose(x, y, rtol=RTOL, atol=0.0)
        else:
            x, y = a[column].astype(object), b[column].astype(object)
            same = ((x == y) | (x.isna() & y.isna())).to_numpy(dtype=bool)
        if not same.all():
            row = int(np.flatnonzero(~same)[0])
            problems.append(
                f"{name}.{column}: {int((~same).sum()):,} rows differ, first at row {row}: "
                f"{a[column].iloc[row]!r} against {b[column].iloc[row]!r}"
            )
    return problems


def store_differences(url_a: str, url_b: str) -> list[str]:
    """Where the stores at `url_a` and `url_b` hold different history (empty: the same)."""
    engines = sa.create_engine(url_a), sa.create_engine(url_b)
    problems = []
    try:
        with engines[0].connect() as conn_a, engines[1].connect() as conn_b:
            for table in compared_tables():
                a, b = read_table(conn_a, table), read_table(conn_b, table)
                problems += frame_differences(table.name, table, a, b)
    finally:
        for engine in engines:
            engine.dispose()
    return problems


def line_problems(url: str, expected: int) -> list[str]:
    """feat_lines must hold `expected` rows, no line_id twice."""
    engine = sa.create_engine(url)
    try:
        with engine.connect() as conn:
            query = "SELECT count(*), count(DISTINCT line_id) FROM feat_lines"
            rows, distinct = conn.execute(sa.text(query)).one()
    finally:
        engine.dispose()
    problems = [] if rows == expected else [f"feat_lines holds {rows:,} rows, the folder {expected:,} lines"]
    return problems + ([] if rows == distinct else [f"{rows - distinct:,} line_id(s) stored twice"])


# ---- the three parts ---------------------------------------------------------------------------------------
def scaling(args: argparse.Namespace, bar: Progress, task: Any) -> list[dict[str, Any]]:
    rows = []
    for kind in args.stores:
        for n in args.sizes:
            w = world(args.work, n, args.seed)
            bar.update(task, description=f"bulk {n:,} lines, {STORE_NAMES[kind]}")
            with fresh_store(kind, args.work, f"scale{n}", w) as store:
                rows.append({"store": kind, "lines": w.lines, **timed(backfill_cmd(w), store)})
            bar.advance(task)
    return rows


def peer(args: argparse.Namespace, bar: Progress, task: Any) -> list[dict[str, Any]]:
    rows = []
    w = world(args.work, args.peer_lines, args.seed)
    for kind in args.stores:
        for method in ("lines", "bulk"):
            bar.update(task, description=f"{method} {w.lines:,} lines, {STORE_NAMES[kind]}")
            with fresh_store(kind, args.work, f"peer{method}", w) as store:
                rows.append(
                    {
                        "store": kind,
                        "method": method,
                        "lines": w.lines,
                        **timed(backfill_cmd(w, method), store),
                    }
                )
            bar.advance(task)
    return rows


def killed_run(cmd: list[str], store: Store, delay: float) -> bool:
    """Run `cmd`, SIGKILL its process group after `delay` s; False if it finished before."""
    child = subprocess.Popen(
        cmd,
        env=store.env,
        cwd=store.home,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
        start_new_session=True,
    )
    try:
        child.wait(timeout=delay)
    except subprocess.TimeoutExpired:
        os.killpg(child.pid, signal.SIGKILL)
        child.wait()
        return True
    if child.returncode:
        raise SystemExit(f"{' '.join(cmd)} failed ({child.returncode}) before it was killed")
    return False


def resumability(args: argparse.Namespace, bar: Progress, task: Any) -> list[dict[str, Any]]:
    rows = []
    w = world(args.work, args.kill_lines, args.seed)
    cmd = backfill_cmd(w, "bulk", args.kill_partition_lines)
    rng = random.Random(args.seed)
    for kind in args.stores:
        name = STORE_NAMES[kind]
        with (
            fresh_store(kind, args.work, "whole", w) as whole,
            fresh_store(kind, args.work, "killed", w) as killed,
        ):
            bar.update(task, description=f"uninterrupted {w.lines:,} lines, {name}")
            reference = timed(cmd, whole)
            bar.advance(task)
            at_kills, kills = [], 0
            total = partitions(w, args.kill_partition_lines)
            for attempt in range(1, args.kills + 1):
                # a moment within what is left of the load: start-up (about 2 s), then the partitions not
                # yet committed at the pace of the uninterrupted run
                left = (total - committed(killed.url)) / total
                delay = rng.uniform(1.0, max(1.5, 0.9 * (2.0 + (reference["wall"] - 2.0) * left)))
                bar.update(task, description=f"kill {attempt}/{args.kills} after {delay:.1f} s, {name}")
                was_killed = killed_run(cmd, killed, delay)
                kills += was_killed
                at_kills.append(f"{committed(killed.url)}" + ("" if was_killed else " (finished first)"))
                bar.advance(task)
            bar.update(task, description=f"resumed to the end, {name}")
            final = timed(cmd, killed)
            bar.advance(task)
            bar.update(task, description=f"comparing the stores, {name}")
            problems = line_problems(killed.url, w.lines) + store_differences(whole.url, killed.url)
            verify = subprocess.run(
                [str(CLI), "audit", "verify"], env=killed.env, cwd=killed.home, capture_output=True, text=True
            )
            bar.advance(task)
            for problem in problems:
                err.print(f"[red]{name}: {problem}")
            if verify.returncode:
                err.print(f"[red]{name}: audit verify exit {verify.returncode}:\n{verify.stdout[-2000:]}")
            rows.append(
                {
                    "store": kind,
                    "lines": w.lines,
                    "partitions": partitions(w, args.kill_partition_lines),
                    "whole": reference["wall"],
                    "final": final["wall"],
                    "kills": kills,
                    "at_kills": at_kills,
                    "equal": not problems,
                    "verify": verify.returncode,
                }
            )
    return rows


# ---- output ------------------------------------------------------------------------------------------------
def scaling_table(rows: list[dict[str, Any]]) -> str:
    out = [
        "| store | lines | wall s | load s | lines/s | peak RSS MB | s per line vs smallest |",
        "|---|---:|---:|---:|---:|---:|---:|",
    ]
    for kind in dict.fromkeys(r["store"] for r in rows):
        mine = sorted((r for r in rows if r["store"] == kind), key=lambda r: r["lines"])
        base = mine[0]["wall"] / mine[0]["lines"]
        for r in mine:
            out.append(
                f"| {STORE_NAMES[kind]} | {r['lines']:,} | {r['wall']:.1f} | {r['load']:.1f} | "
                f"{r['lines'] / r['wall']:,.0f} | {r['rss']:,.0f} | {r['wall'] / r['lines'] / base:.2f} |"
            )
    return "\n".join(out)


def peer_table(rows: list[dict[str, Any]]) -> str:
    out = [
        "| store | lines | method | wall s | load s | lines/s | peak RSS MB | bulk speed-up |",
        "|---|---:|---|---:|---:|---:|---:|---:|",
    ]
    for kind in dict.fromkeys(r["store"] for r in rows):
        mine = {r["method"]: r for r in rows if r["store"] == kind}
        for method in ("lines", "bulk"):
            r = mine[method]
            speed = f"{mine['lines']['wall'] / r['wall']:.2f}x" if method == "bulk" else ""
            label = "per line (`--method lines`)" if method == "lines" else "bulk"
            out.append(
                f"| {STORE_NAMES[kind]} | {r['lines']:,} | {label} | {r['wall']:.1f} | {r['load']:.1f} | "
                f"{r['lines'] / r['wall']:,.0f} | {r['rss']:,.0f} | {speed} |"
            )
    return "\n".join(out)


def kill_table(rows: list[dict[str, Any]]) -> str:
    out = [
        "| store | lines | partitions | uninterrupted s | kills | partitions committed at each kill | "
        "resume to the end s | equal to uninterrupted | `audit verify` exit |",
        "|---|---:|---:|---:|---:|---|---:|---|---:|",
    ]
    for r in rows:
        out.append(
            f"| {STORE_NAMES[r['store']]} | {r['lines']:,} | {r['partitions']} | {r['whole']:.1f} | "
            f"{r['kills']} | {', '.join(r['at_kills']) or '-'} | {r['final']:.1f} | "
            f"{'yes' if r['equal'] else 'no'} | {r['verify']} |"
        )
    return "\n".join(out)


def command_line(args: argparse.Namespace) -> str:
    parts = [".venv/bin/python bench/bench_backfill.py", f"--stores {','.join(args.stores)}"]
    parts += [f"--sizes {','.join(str(n) for n in args.sizes)}", f"--peer-lines {args.peer_lines}"]
    parts += [f"--kills {args.kills}", f"--kill-lines {args.kill_lines}"]
    parts += [f"--kill-partition-lines {args.kill_partition_lines}", f"--seed {args.seed}"]
    return " ".join(parts)


def report(args: argparse.Namespace, results: dict[str, list[dict[str, Any]]]) -> str:
    blocks = [f"Machine: {machine()}.", f"`{command_line(args)}`"]
    if results.get("scaling"):
        blocks.append(
            "**Scaling** (bulk, partitions of 250,000 lines; a fresh store each; wall time of the whole CLI, "
            "load s its own figure without start-up and reading the folder):\n\n"
            + scaling_table(results["scaling"])
        )
    if results.get("peer"):
        blocks.append(
            "**Peer**: the service's per-line writer (10,000 lines a transaction) against bulk, same world, "
            "same run:\n\n" + peer_table(results["peer"])
        )
    if results.get("kills"):
        blocks.append(
            f"**Resumability**: `--partition-lines {args.kill_partition_lines}`, SIGKILL after a delay drawn "
            "from [1 s, 0.9 x the part of the uninterrupted run left to do], re-run on the same store each "
            "time, then to the end; compared row by row with the uninterrupted store (ids, audit sequence "
            "numbers and receipt times left out, floats within 1e-9):\n\n" + kill_table(results["kills"])
        )
    return "\n\n".join(blocks)


def write_docs(section: str, path: Path = DOCS) -> None:
    """Put `section` (without its heading) under SECTION in `path`, replacing what was there."""
    text = path.read_text()
    body = f"{SECTION}\n{section.strip()}\n"
    start = text.find(f"\n{SECTION}\n")
    if start < 0:
        text = text.rstrip("\n") + "\n\n" + body
    else:
        end = text.find("\n## ", start + 1)
        text = text[: start + 1] + body + ("\n" + text[end + 1 :] if end >= 0 else "")
    path.write_text(text)


def int_list(value: str) -> list[int]:
    return [int(x.replace("_", "")) for x in value.split(",") if x.strip()]


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--stores", default="sqlite,postgres", help="comma-separated: sqlite, postgres")
    parser.add_argument(
        "--sizes", type=int_list, default=[250_000, 500_000, 1_000_000], help="1: world sizes"
    )
    parser.add_argument("--peer-lines", type=int, default=100_000, help="2: world size of the peer (0: skip)")
    parser.add_argument("--kills", type=int, default=5, help="3: kills before the load runs to the end")
    parser.add_argument("--kill-lines", type=int, default=200_000, help="3: world size (0: skip)")
    parser.add_argument("--kill-partition-lines", type=int, default=20_000, help="3: --partition-lines")
    parser.add_argument("--seed", type=int, default=7, help="world seed and the kills' delays")
    parser.add_argument("--work", type=Path, default=Path("/tmp/roundabout-bench-backfill"))
    parser.add_argument("--write-docs", action="store_true", help=f"write the tables into {DOCS.name}")
    args = parser.parse_args()
    args.stores = [s.strip() for s in args.stores.split(",") if s.strip()]
    if unknown := set(args.stores) - set(STORE_NAMES):
        parser.error(f"--stores: unknown {', '.join(sorted(unknown))} (sqlite, postgres)")
    args.sizes = sorted(args.sizes)
    args.work.mkdir(parents=True, exist_ok=True)
    if not CLI.exists():
        raise SystemExit(f"no {CLI}: install the project into .venv first")

    runs = len(args.stores) * (
        len(args.sizes) + (2 if args.peer_lines else 0) + (args.kills + 3 if args.kill_lines else 0)
    )
    results: dict[str, list[dict[str, Any]]] = {}
    with progress() as bar:
        task = bar.add_task("backfill", total=runs)
        if args.sizes:
            results["scaling"] = scaling(args, bar, task)
        if args.peer_lines:
            results["peer"] = peer(args, bar, task)
        if args.kill_lines:
            results["kills"] = resumability(args, bar, task)
    section = report(args, results)
    print(f"{SECTION}\n{section}")
    if args.write_docs:
        write_docs(section)
        err.print(f"wrote {DOCS}")
    kills = results.get("kills", [])
    if any(not r["equal"] or r["verify"] for r in kills):
        raise SystemExit(1)


if __name__ == "__main__":
    main()
