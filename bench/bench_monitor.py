"""The drift monitor: one pass over a big store, and what running it in the background costs scoring.

    .venv/bin/python bench/bench_monitor.py --lines 1000000 --seed 7 [--url URL [--copy-from SQLITE_URL]]
                                            [--reuse] [--runs 3] [--days 30 365] [--train-lines 150000]
                                            [--profile 25]
    .venv/bin/python bench/bench_monitor.py --p99 [--world-lines 100000] [--decided 32000]
                                            [--rates 100 0] [--seconds 30] [--runs 2] [--interval 1]
                                            [--modes off on beside] [--nice 0]

A. One pass (default). Uses the simulated world of bench_features.py (simulated if missing). A model is
   fitted quickly (`fit_risk_model`, few trees, no search) on the first `--train-lines` lines by date;
   the features of every line are built with the batch path and scored (`score_batch`). Then a store
   (SQLite file under --workdir, or `--url`) gets every line (`backfill`, chunks of 100k, with the
   outcomes the simulator drew) and one decision per line with its recorded inputs
   (`decisions.record`, chunks of 50k lines a transaction, in date order), as the service would have
   recorded them. `--reuse` keeps a store (and model) already loaded by an earlier run; `--copy-from`
   fills an empty PostgreSQL `--url` with the tables the monitor reads (lines, outcomes, decisions,
   input names) of a SQLite store loaded so, by COPY (its backfill of 1M lines takes far longer). Then
   `monitor.monitor_store` over the latest `--days` days of line dates, `--runs` times (min and median),
   beside a peer in the same run: a plain `SELECT count(*)` of the period's decided lines, then the same
   lines' columns read on the DB-API cursor (one join, no latest-decision subquery: each line has one
   decision here) and their inputs decoded in one `np.frombuffer`: the least any monitor must do. One
   more pass under cProfile shows where the time goes (`--profile N`: the top N functions too).
B. Scoring p99 with and without the background monitor (`--p99`). bench_api.py's world, registry and
   store (a 100,000-line world trained by `roundabout train`, its history less the latest 20,000 lines
   loaded), plus decisions with recorded inputs on the latest `--decided` history lines (the monitor's
   period, `--monitor-days`, covers every decided line: at least as many lines as 30 days of the
   1M-line world). `roundabout serve` (one worker) is started once per mode and run, the order
   alternating: `off` (ROUNDABOUT_MONITOR_INTERVAL_SECONDS=0), `on` (the service's own monitor every
   `--interval` s: 1 s keeps a pass running nearly all the time, the worst case; the default is 300 s)
   and `beside` (the service's monitor off, the same passes on the same store run by a process that is
   no part of the service, every `--interval` s, at niceness `--nice`: the peer, what the passes cost
   when they share the cores and nothing else).
   With a monitor, the load starts once its first pass has finished. Same load each time
   (bench/loadgen.py in its own process): single-line `POST /v1/score` calls with reasons, open loop at
   each of `--rates` requests/s (0: closed loop, `--clients` connections back to back), 3 s of warm-up
   then `--seconds` measured. Reports p50/p95/p99, the server's CPU per call and the monitor's pass time
   under load.
Prints markdown-ready tables; figures go into docs/benchmarks.md.
"""

import argparse
import cProfile
import io
import json
import os
import platform
import pstats
import shutil
import signal
import statistics
import subprocess
import sys
import time
from datetime import date, timedelta
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import sqlalchemy as sa
from bench_features import ensure_world
from rich.console import Console
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn

from roundabout.data.io import CanonicalData, read_folder, write_folder
from roundabout.data.schema import LINE_COLUMNS
from roundabout.data.validation import FormatRules
from roundabout.features.columns import day_number
from roundabout.models import RiskModel
from roundabout.monitoring import MonitorConfig, monitor_store
from roundabout.store import ServiceStore
from roundabout.store.backfill import backfill
from roundabout.store.served import encode_inputs
from roundabout.training import TrainConfig
from roundabout.training.fit import fit_risk_model
from roundabout.training.train import load_split

ROOT = Path(__file__).resolve().parents[1]
LABEL = ("roundabout", "1")
CHUNK = 100_000
DECISION_CHUNK = 50_000
LAP = "~lap~"  # replaced by the load client with the pass number over the held-out lines
err = Console(stderr=True)


def machine() -> str:
    git = lambda *a: subprocess.run(["git", *a], cwd=ROOT, capture_output=True, text=True).stdout.strip()  # noqa: E731
    changed = git("status", "--porcelain", "--", "roundabout")
    load = ", ".join(f"{x:.2f}" for x in os.getloadavg())
    return (
        f"{date.today()}, {platform.machine()}, {len(os.sched_getaffinity(0))} cores, Python "
        f"{platform.python_version()}, commit {git('rev-parse', '--short', 'HEAD')}"
        f"{' + uncommitted changes in roundabout/' if changed else ''}, load average {load}"
    )


def progress() -> Progress:
    columns = (TextColumn("[bold]{task.description}"), BarColumn(), MofNCompleteColumn(), TimeElapsedColumn())
    return Progress(*columns, console=err)


# ---- A. one pass over a big store ------------------------------------------------------------------------
def quick_config() -> TrainConfig:
    """tests/training/conftest.py's `small_config`: few trees, no search."""
    return TrainConfig.model_validate({"anomaly": {"n_estimators": 50}, "search": {"budget_minutes": 0}})


def early_model(data: CanonicalData, train_lines: int, workdir: Path) -> RiskModel:
    """A model fitted on the lines dated before the `train_lines`-th line by date (kept under `workdir`)."""
    path = workdir / "model"
    if (path / "profile.json").exists():
        return RiskModel.load(path)
    cutoff = data.lines["date"].sort_values(kind="stable").iloc[train_lines]
    keep = (data.lines["date"] < cutoff).to_numpy()
    ids = set(data.lines["line_id"][keep])
    inspections = data.inspections[data.inspections["line_id"].isin(ids)].reset_index(drop=True)
    truth = data.truth[keep].reset_index(drop=True) if data.truth is not None else None
    history = CanonicalData(data.lines[keep].reset_index(drop=True), inspections, truth, data.extra_columns)
    write_folder(history, workdir / "history")
    model = fit_risk_model(load_split(workdir / "history", quick_config()), quick_config()).model
    model.save(path)
    return model


def decision_rows(model: RiskModel, features: pd.DataFrame, lines: pd.DataFrame) -> list[dict[str, Any]]:
    """Each line's decision as the service records it (inputs included), in date order; `features` the
    lines' base features (`RiskModel.features_of`, rows as `lines`)."""
    X = model.matrix(features, lines)
    scores = model.score_batch(X)
    base = X[:, : len(model.base_features)]
    order = np.lexsort((lines["line_id"].to_numpy(dtype=str), lines["date"].to_numpy()))
    ids = lines["line_id"].to_numpy(dtype=object)
    rows = [
        {
            "request_id": "bench-monitor",
            "key_id": "bench",
            "line_id": ids[i],
            "model_name": LABEL[0],
            "model_version": LABEL[1],
            "risk_score": float(scores.risk_score[i]),
            "anomaly_score": float(scores.anomaly_score[i]),
            "oddness_score": None if np.isnan(scores.oddness_score[i]) else float(scores.oddness_score[i]),
            "channel": str(scores.channel[i]),
            "reasons": [],
            "list_versions": None,
            "selection": str(scores.selection[i]),
            "propensity": float(scores.propensity[i]),
            "inputs": encode_inputs(base[i]),
        }
        for i in order
    ]
    return rows


def load_store(store: ServiceStore, data: CanonicalData, model: RiskModel) -> dict[str, float]:
    """Lines, outcomes and one decision per line into an empty store; seconds of each step."""
    seconds = {}
    t0 = time.perf_counter()
    err.print("features and scores of every line (batch path)")
    rows = decision_rows(model, model.features_of(data), data.lines)
    seconds["features and scores"] = time.perf_counter() - t0
    n = len(data.lines)
    with progress() as bar:
        task = bar.add_task("lines (backfill)", total=n)
        t0 = time.perf_counter()
        backfill(store, data, FormatRules(), chunk=CHUNK, on_chunk=lambda k: bar.advance(task, k))
        seconds["backfill (lines, outcomes, ANALYZE)"] = time.perf_counter() - t0
        store.served.register_inputs(*LABEL, model.base_features)
        task = bar.add_task("decisions", total=n)
        t0 = time.perf_counter()
        for start in range(0, n, DECISION_CHUNK):
            with store.transaction() as conn:
                store.decisions.record(conn, rows[start : start + DECISION_CHUNK])
            bar.advance(task, min(DECISION_CHUNK, n - start))
        store.analyze()  # the planner's statistics with the decisions (the backfill's ANALYZE saw none)
        seconds["decisions (with ANALYZE)"] = time.perf_counter() - t0
    return seconds


#: What the monitor reads (`StoreTables` attribute: table); `--copy-from` copies these alone.
MONITOR_TABLES = {"lines": "feat_lines", "outcomes": "feat_outcomes", "decisions": "decisions",
                  "model_inputs": "model_inputs"}  # fmt: skip


def copy_store(source_url: str, store: ServiceStore) -> dict[str, float]:
    """Copy the tables the monitor reads from a loaded SQLite store into an empty PostgreSQL one with
    COPY (a 1M-line `backfill` into PostgreSQL takes far longer than the monitor's figures need)."""
    source = ServiceStore.open(source_url)
    seconds = {}
    t0 = time.perf_counter()
    with source.backend.connect() as src, store.transaction() as dst, progress() as bar:
        reader = src.connection.dbapi_connection.cursor()
        writer = dst.connection.dbapi_connection.cursor()
        for attribute, table in MONITOR_TABLES.items():
            present = {r[1] for r in reader.execute(f"PRAGMA table_info({table})").fetchall()}
            names = [c.name for c in getattr(store.tables, attribute).c if c.name in present]
            total = reader.execute(f"SELECT count(*) FROM {table}").fetchone()[0]
            task = bar.add_task(f"copy {table}", total=total)
            listed = ", ".join(f'"{n}"' for n in names)
            reader.execute(f"SELECT {listed} FROM {table}")
            with writer.copy(f"COPY {table} ({listed}) FROM STDIN") as copy:
                while rows := reader.fetchmany(20_000):
                    for row in rows:
                        copy.write_row(row)
                    bar.advance(task, len(rows))
    seconds["copy of the monitor's tables (COPY)"] = time.perf_counter() - t0
    t0 = time.perf_counter()
    store.analyze()
    seconds["ANALYZE"] = time.perf_counter() - t0
    source.dispose()
    return seconds


def ensure_database(url: str) -> None:
    """Create the PostgreSQL database of `url` if it does not exist yet."""
    target = sa.engine.make_url(url)
    admin = sa.create_engine(target.set(database="postgres"), isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        known = conn.execute(sa.text("SELECT 1 FROM pg_database WHERE datname = :n"), {"n": target.database})
        if known.first() is None:
            conn.execute(sa.text(f'CREATE DATABASE "{target.database}"'))
    admin.dispose()


def decided_count(store: ServiceStore) -> int:
    t = store.tables.decisions
    with store.backend.connect() as conn:
        return int(conn.execute(sa.select(sa.func.count(sa.distinct(t.c.line_id)))).scalar_one())


def peer(store: ServiceStore, first: date, last: date, width: int) -> dict[str, float]:
    """The least a monitor must do, on the DB-API cursor: count the period's decided lines, read their
    columns (those the monitor reads) and decode their inputs in one `np.frombuffer`."""
    lo, hi = day_number(first), day_number(last)
    columns = ", ".join(f'l."{c}"' for c in LINE_COLUMNS)
    with store.backend.connect() as conn:
        p = "?" if conn.dialect.name == "sqlite" else "%s"
        where = f"WHERE l.day BETWEEN {p} AND {p}"
        join = "FROM feat_lines l JOIN decisions d ON d.line_id = l.line_id"
        cursor = conn.connection.dbapi_connection.cursor()
        t0 = time.perf_counter()
        cursor.execute(f"SELECT count(*) {join} {where}", (lo, hi))
        n = cursor.fetchone()[0]
        t1 = time.perf_counter()
        cursor.execute(
            f"SELECT {columns}, d.model_name, d.model_version, d.risk_score, d.channel, d.selection, "
            f"d.propensity, d.inputs, o.outcome {join} LEFT JOIN feat_outcomes o ON o.line_id = l.line_id "
            f"{where} ORDER BY l.day, l.line_id",
            (lo, hi),
        )
        rows = cursor.fetchall()
        t2 = time.perf_counter()
        blobs = [r[-2] for r in rows]
        X = np.frombuffer(b"".join(blobs), dtype="<f4").reshape(len(blobs), width).astype("float64")
        t3 = time.perf_counter()
        cursor.close()
    assert len(rows) == n and X.shape[0] == n
    return {"lines": n, "count": t1 - t0, "read": t2 - t1, "decode": t3 - t2, "total": t3 - t0}


#: The monitor's steps, found by name in the profile (file suffix, function).
STEPS = [
    ("schema.py", "current_revision", "schema check"),
    ("served.py", "last_date", "`served.last_date`"),
    ("served.py", "period", "`served.period` (query, rows, frame)"),
    ("served.py", "_read", "  of which fetch and frame"),
    ("served.py", "input_names", "`served.input_names`"),
    ("window.py", "inputs_matrix", "`inputs_matrix`"),
    ("served.py", "decode_inputs", "  of which `decode_inputs`"),
    ("window.py", "category_values_seen", "`category_values_seen`"),
    ("figures.py", "figures", "`figures`"),
]


def profiled(store: ServiceStore, model: RiskModel, days: int, top: int) -> tuple[float, list[tuple]]:
    """One pass under cProfile: its time, each step's cumulative time, and the top functions printed."""
    prof = cProfile.Profile()
    t0 = time.perf_counter()
    prof.enable()
    monitor_store(store, model, LABEL, MonitorConfig(days=days))
    prof.disable()
    total = time.perf_counter() - t0
    stats = pstats.Stats(prof)
    found = []
    for suffix, name, shown in STEPS:
        times = [v[3] for (f, _, fn), v in stats.stats.items() if fn == name and f.endswith(suffix)]  # type: ignore[attr-defined]
        if times:
            found.append((shown, sum(times)))
    if top:
        out = io.StringIO()
        pstats.Stats(prof, stream=out).sort_stats("tottime").print_stats(top)
        body = out.getvalue()
        print(f"\ncProfile of one {days}-day pass, top {top} by own time:\n```")
        print(body[body.index("ncalls") :].rstrip().replace(str(ROOT) + "/", ""))
        print("```")
    return total, found


def part_a(args: argparse.Namespace) -> None:
    folder = args.data or Path(f"/tmp/roundabout-world-{args.lines}-{args.seed}")
    workdir = args.workdir or Path(f"/tmp/roundabout-bench-monitor-{args.lines}-{args.seed}")
    workdir.mkdir(parents=True, exist_ok=True)
    err.print(f"world {folder} (simulated if missing), work folder {workdir}")
    ensure_world(folder, args.lines, args.seed)
    if args.url and args.url.startswith("postgresql"):
        ensure_database(args.url)
    url = args.url or f"sqlite:///{workdir / 'store.db'}"
    if not args.reuse and not args.url:
        for suffix in ("", "-wal", "-shm"):
            (workdir / f"store.db{suffix}").unlink(missing_ok=True)
    store = ServiceStore.open(url)
    store.migrate()
    t0 = time.perf_counter()
    data = read_folder(folder)
    model = early_model(data, args.train_lines, workdir)
    train_seconds = time.perf_counter() - t0
    held, decided = store.exporter.line_count(), decided_count(store)
    loaded: dict[str, float] = {}
    if held == len(data.lines) and decided == held:
        if not args.reuse:
            raise SystemExit(f"the store at {url} is already loaded: pass --reuse to time it as it is")
        err.print(f"reusing the store at {url}: {held:,} lines, each decided")
    elif held or decided:
        raise SystemExit(f"the store at {url} holds {held:,} lines ({decided:,} decided): use an empty one")
    elif args.copy_from:
        loaded = copy_store(args.copy_from, store)
    else:
        loaded = load_store(store, data, model)
    n_lines = len(data.lines)
    del data

    print(f"# monitoring, one pass over a big store; {machine()}")
    print(f"store {url.split('://')[0]}, {n_lines:,} lines, each with one decision (inputs recorded)")
    print(f"model: {len(model.base_features)} inputs; read the world, fit or load it: {train_seconds:.1f} s")
    for step, s in loaded.items():
        print(f"load: {step} {s:.1f} s ({n_lines / s:,.0f} lines/s)")
    last = store.served.last_date()
    assert last is not None
    width = len(model.base_features)
    rows, steps = [], {}
    for days in args.days:
        first = last - timedelta(days=days - 1)
        config = MonitorConfig(days=days)
        err.print(f"{days} days: {args.runs} passes and peers")
        times, peers, report = [], [], None
        for _ in range(args.runs):  # alternating, so a slow stretch of the machine hits both
            t0 = time.perf_counter()
            report = monitor_store(store, model, LABEL, config)
            times.append(time.perf_counter() - t0)
            peers.append(peer(store, first, last, width))
        assert report is not None
        if report.lines != peers[0]["lines"]:
            raise SystemExit(f"monitor read {report.lines:,} lines, the peer {peers[0]['lines']:,}")
        rows.append((days, report.lines, times, peers))
        steps[days] = profiled(store, model, days, args.profile if days == args.days[0] else 0)
    store.dispose()

    print(f"\nperiod ends {last} (the latest decided line's date); {args.runs} runs each, min (median)")
    print("\n| measurement | days | lines | seconds | lines/s | vs peer |")
    print("|---|---:|---:|---:|---:|---:|")
    for days, lines, times, peers in rows:
        best_peer = min(p["total"] for p in peers)
        span = lambda xs: f"{min(xs):.2f} ({statistics.median(xs):.2f})"  # noqa: E731
        print(
            f"| `monitor_store` | {days} | {lines:,} | {span(times)} | {lines / min(times):,.0f} "
            f"| {min(times) / best_peer:.1f}x |"
        )
        for part in ("count", "read", "decode"):
            print(f"| peer: {part} | {days} | {lines:,} | {span([p[part] for p in peers])} | | |")
        print(f"| peer: all | {days} | {lines:,} | {span([p['total'] for p in peers])} | "
              f"{lines / best_peer:,.0f} | 1x |")  # fmt: skip
    print("\nwhere a pass spends its time (one pass under cProfile, cumulative s, its overhead included)")
    print("\n| step | " + " | ".join(f"{d} days" for d in args.days) + " |")
    print("|---|" + "---:|" * len(args.days))
    names = [shown for _, _, shown in STEPS]
    for name in names:
        cells = [dict(steps[d][1]).get(name) for d in args.days]
        if any(c is not None for c in cells):
            print(f"| {name} | " + " | ".join("" if c is None else f"{c:.2f}" for c in cells) + " |")
    print("| whole pass, profiled | " + " | ".join(f"{steps[d][0]:.2f}" for d in args.days) + " |")
    sys.stdout.flush()


# ---- B. scoring p99 with the monitor in the background ---------------------------------------------------
def prefill(store_url: str, workdir: Path, env: dict[str, str], n: int) -> None:
    """Decisions with recorded inputs on the latest `n` history lines (by date), as the service records
    them, by the registered model the service serves (`models:/roundabout/1`)."""
    import mlflow
    from bench_api import HELD_OUT

    from roundabout.models.pyfunc import load_risk_model

    mlflow.set_tracking_uri(env["MLFLOW_TRACKING_URI"])
    model = load_risk_model("models:/roundabout/1")
    data = read_folder(workdir / "data")
    lines = data.lines.sort_values(["date", "line_id"], kind="stable")
    chosen = set(lines["line_id"].iloc[-HELD_OUT - n : -HELD_OUT])
    keep = data.lines["line_id"].isin(chosen).to_numpy()
    rows = decision_rows(model, model.features_of(data)[keep], data.lines[keep].reset_index(drop=True))
    store = ServiceStore.open(store_url)
    store.served.register_inputs(*LABEL, model.base_features)
    for start in range(0, len(rows), DECISION_CHUNK):
        with store.transaction() as conn:
            store.decisions.record(conn, rows[start : start + DECISION_CHUNK])
    store.analyze()
    store.dispose()


def server_cpu(pid: int) -> float:
    import psutil

    times = psutil.Process(pid).cpu_times()
    return times.user + times.system


def wait_for_report(url: str, headers: dict[str, str], seconds: float = 300) -> dict[str, Any]:
    import httpx

    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        answer = httpx.get(f"{url}/v1/monitoring", headers=headers, timeout=30)
        if answer.status_code == 200:
            return answer.json()
        time.sleep(0.5)
    raise SystemExit(f"no monitoring report in {seconds:.0f} s: {answer.text[:300]}")


def monitor_beside(spec: dict[str, Any], ready: Any, stop: Any, out: Any) -> None:
    """The peer of the service's monitor: the same passes on the same store, every `interval` s, in a
    process of their own (the service's monitor is off meanwhile); each pass's start, seconds and lines."""
    import mlflow

    from roundabout.models.pyfunc import load_risk_model

    os.nice(spec["nice"])
    mlflow.set_tracking_uri(spec["tracking_uri"])
    model = load_risk_model("models:/roundabout/1")
    store = ServiceStore.open(spec["store_url"])
    config, passes = MonitorConfig(days=spec["days"]), []
    while not stop.is_set():
        t0 = time.perf_counter()
        report = monitor_store(store, model, LABEL, config)
        passes.append((time.monotonic(), time.perf_counter() - t0, report.lines))
        ready.set()
        stop.wait(spec["interval"])
    store.dispose()
    out.put(passes)


def quietly(call: Any, *a: Any) -> Any:
    """`call(*a)` with this process's standard output (the CLI runs it starts, too) sent to stderr."""
    sys.stdout.flush()
    saved = os.dup(1)
    os.dup2(2, 1)
    try:
        return call(*a)
    finally:
        sys.stdout.flush()
        os.dup2(saved, 1)
        os.close(saved)


#: The service's monitor off; on (the service's own, in its process); beside (the same passes in a process
#: of their own, the service's off).
MODES = ("off", "on", "beside")


def part_b(args: argparse.Namespace) -> None:
    import multiprocessing

    import bench_api
    import loadgen

    from roundabout.serving.keys import hash_key

    workdir = args.workdir or Path("/tmp/roundabout-bench-monitor-api")
    workdir.mkdir(parents=True, exist_ok=True)
    env = {
        **os.environ,
        "MLFLOW_TRACKING_URI": f"sqlite:///{workdir / 'mlflow.db'}",
        "ROUNDABOUT_HOME": str(workdir / "home"),
    }
    for suffix in ("", "-wal", "-shm"):
        (workdir / f"store.db{suffix}").unlink(missing_ok=True)
    store_url = f"sqlite:///{workdir / 'store.db'}"
    err.print(f"world, registry and store under {workdir}")
    held_out = quietly(bench_api.prepare, workdir, args.world_lines, env, store_url)
    err.print(f"decisions on the latest {args.decided:,} history lines")
    prefill(store_url, workdir, env, args.decided)
    keys = [{"id": "bench", "sha256": hash_key(bench_api.KEY), "scopes": ["score", "admin"]}]
    headers = {"X-API-Key": bench_api.KEY}
    bodies = []
    for row in held_out.to_dict("records"):
        line = bench_api.json_line(row)
        line["line_id"] = f"m{LAP}-{line['line_id']}"  # distinct over passes of the list
        bodies.append(json.dumps({"lines": [line], "explain": True, "top_k": 5}))
    results = []
    logs = workdir / "logs"
    logs.mkdir(exist_ok=True)
    spawn = multiprocessing.get_context("spawn")
    print(f"# monitoring, scoring p99 with and without the background monitor; {machine()}")
    for run in range(args.runs):
        for mode in args.modes if run % 2 == 0 else args.modes[::-1]:
            # each server starts on a copy of the same store and gets the same lines
            copy = workdir / f"store-{run}-{mode}.db"
            for suffix in ("", "-wal"):
                if (workdir / f"store.db{suffix}").exists():
                    shutil.copyfile(workdir / f"store.db{suffix}", f"{copy}{suffix}")
            copy_url, taken = f"sqlite:///{copy}", 0
            beside_spec = {"tracking_uri": env["MLFLOW_TRACKING_URI"], "store_url": copy_url,
                           "days": args.monitor_days, "interval": args.interval,
                           "nice": args.nice}  # fmt: skip
            port = bench_api.free_port()
            server_env = {
                **env,
                "ROUNDABOUT_STORE_URL": copy_url,
                "ROUNDABOUT_API_KEYS": json.dumps(keys),
                "ROUNDABOUT_MONITOR_INTERVAL_SECONDS": f"{args.interval:g}" if mode == "on" else "0",
                "ROUNDABOUT_MONITOR_DAYS": str(args.monitor_days),
            }
            log = (logs / f"serve-{run}-{mode}.log").open("wb")
            server = subprocess.Popen(
                [sys.executable, "-m", "roundabout.cli", "serve", "--port", str(port), "--workers", "1"],
                env=server_env, stdout=log, stderr=subprocess.STDOUT,
            )  # fmt: skip
            url = f"http://127.0.0.1:{port}"
            beside = None
            try:
                bench_api.wait_ready(f"{url}/readyz", server)
                if mode == "on":
                    wait_for_report(url, headers)
                if mode == "beside":
                    ready, stop, out = spawn.Event(), spawn.Event(), spawn.Queue()
                    beside = spawn.Process(target=monitor_beside, args=(beside_spec, ready, stop, out))
                    beside.start()
                    if not ready.wait(300):
                        raise SystemExit("the monitor beside the service made no pass in 300 s")
                for rate in args.rates:
                    spec = {"url": f"{url}/v1/score", "headers": headers, "bodies": bodies,
                            "lap_marker": LAP, "clients": args.clients, "rate": rate or None}  # fmt: skip
                    warm = loadgen.run_in_process({**spec, "seconds": 3, "start": taken})
                    taken += warm["sent"]
                    load_before = os.getloadavg()[0]
                    cpu0, t0 = server_cpu(server.pid), time.monotonic()
                    result = loadgen.run_in_process({**spec, "seconds": args.seconds, "start": taken})
                    cpu, t1 = server_cpu(server.pid) - cpu0, time.monotonic()
                    taken += result["sent"]
                    for sample in result["error_samples"]:
                        err.print(f"{mode}: {sample}")
                    lat = np.array(result["latencies"]) * 1000
                    results.append({
                        "run": run + 1, "mode": mode, "rate": rate, "sent": result["sent"],
                        "errors": result["errors"], "rps": result["sent"] / result["elapsed"],
                        "p50": float(np.percentile(lat, 50)), "p95": float(np.percentile(lat, 95)),
                        "p99": float(np.percentile(lat, 99)), "cpu_ms": 1000 * cpu / result["sent"],
                        "cpu_share": cpu / result["elapsed"], "load": load_before, "span": (t0, t1),
                        "pass": wait_for_report(url, headers, 5) if mode == "on" else None,
                    })  # fmt: skip
                    r = results[-1]
                    err.print(f"run {run + 1}, monitor {mode}, rate {rate or 'closed loop'}: "
                              f"{r['rps']:.0f} req/s, p99 {r['p99']:.1f} ms")  # fmt: skip
                if beside is not None:
                    stop.set()
                    passes = out.get(timeout=600)
                    beside.join(60)
                    for r in results:
                        if r["mode"] == "beside" and r["run"] == run + 1:
                            t0, t1 = r["span"]
                            mine = [p for p in passes if t0 <= p[0] <= t1] or passes[-1:]
                            r["pass"] = {
                                "seconds": statistics.median(p[1] for p in mine),
                                "lines": mine[-1][2],
                            }
            finally:
                if beside is not None and beside.is_alive():
                    beside.terminate()
                server.send_signal(signal.SIGTERM)
                try:
                    server.wait(timeout=30)
                except subprocess.TimeoutExpired:
                    server.kill()
                log.close()
                for suffix in ("", "-wal", "-shm"):
                    Path(f"{copy}{suffix}").unlink(missing_ok=True)

    print(
        f"world {args.world_lines:,} lines; {args.decided:,} history lines decided beforehand (each server "
        f"starts on a copy of that store and gets the same lines); monitor period {args.monitor_days} days; "
        f"monitor on or beside (nice {args.nice}): a pass every {args.interval:g} s after the last; "
        f"{args.clients} connections; "
        f"3 s warm-up, then {args.seconds:.0f} s measured"
    )
    print("\n| load | monitor | run | requests | errors | req/s | p50 ms | p95 ms | p99 ms "
          "| server CPU ms/call | server cores busy | pass s (lines) | load avg before |")  # fmt: skip
    print("|---|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|")
    for r in results:
        shown = "closed loop" if not r["rate"] else f"{r['rate']:g} req/s"
        window = f"{r['pass']['seconds']:.2f} ({r['pass']['lines']:,})" if r["pass"] else ""
        print(
            f"| {shown} | {r['mode']} | {r['run']} | {r['sent']:,} | {r['errors']} | {r['rps']:,.0f} "
            f"| {r['p50']:.1f} | {r['p95']:.1f} | {r['p99']:.1f} | {r['cpu_ms']:.2f} | {r['cpu_share']:.2f} "
            f"| {window} | {r['load']:.2f} |"
        )
    print("\n| load | monitor | p50 vs off | p95 vs off | p99 vs off | req/s vs off | (medians over runs) |")
    print("|---|---|---:|---:|---:|---:|---|")
    for rate in args.rates:
        of = lambda mode, key, rate=rate: statistics.median(  # noqa: E731
            r[key] for r in results if r["rate"] == rate and r["mode"] == mode
        )
        shown = "closed loop" if not rate else f"{rate:g} req/s"
        for mode in (m for m in args.modes if m != "off"):
            ratios = [of(mode, k) / of("off", k) for k in ("p50", "p95", "p99", "rps")]
            print(f"| {shown} | {mode} | " + " | ".join(f"{x:.2f}x" for x in ratios) + " | |")
    sys.stdout.flush()


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--p99", action="store_true", help="part B: scoring p99 with the monitor running")
    parser.add_argument("--workdir", type=Path, default=None, help="kept work folder (model, store, logs)")
    parser.add_argument("--runs", type=int, default=None, help="A: passes timed (3); B: off/on pairs (2)")
    # A
    parser.add_argument("--lines", type=int, default=1_000_000)
    parser.add_argument("--seed", type=int, default=7)
    parser.add_argument("--data", type=Path, default=None, help="world folder (default bench_features.py's)")
    parser.add_argument("--url", default=None, help="store URL (default: SQLite file in --workdir)")
    parser.add_argument("--reuse", action="store_true", help="time a store an earlier run loaded")
    parser.add_argument(
        "--copy-from", default=None, help="a loaded SQLite store whose monitor tables --url gets (COPY)"
    )
    parser.add_argument("--train-lines", type=int, default=150_000, help="earliest lines, to fit on")
    parser.add_argument("--days", type=int, nargs="+", default=[30, 365], help="periods timed")
    parser.add_argument("--profile", type=int, default=25, help="functions shown from the profiled pass")
    # B
    parser.add_argument("--world-lines", type=int, default=100_000)
    parser.add_argument("--decided", type=int, default=32_000, help="history lines decided beforehand")
    parser.add_argument("--monitor-days", type=int, default=3660, help="the service's monitor period")
    parser.add_argument("--interval", type=float, default=1.0, help="monitor interval when on (s)")
    parser.add_argument("--rates", type=float, nargs="+", default=[100, 0], help="req/s; 0: closed loop")
    parser.add_argument("--seconds", type=float, default=30)
    parser.add_argument("--clients", type=int, default=8)
    parser.add_argument("--modes", nargs="+", choices=MODES, default=list(MODES), help="`off` must be one")
    parser.add_argument("--nice", type=int, default=0, help="niceness of the `beside` monitor process")
    args = parser.parse_args()
    if args.p99:
        args.runs = args.runs or 2
        part_b(args)
    else:
        args.runs = args.runs or 3
        part_a(args)


if __name__ == "__main__":
    main()
