"""The audit trail: what the hash chain costs scoring, and how fast `roundabout audit verify` walks it.

    .venv/bin/python bench/bench_audit.py --chain [--store sqlite|postgres] [--runs 3] [--clients 8]
                                          [--seconds 20] [--rate 100] [--world-lines 100000]
                                          [--before 9c68b9e] [--keep-worktree]
                                          [--micro 500] [--micro-blocks 4] [--micro-only]
    .venv/bin/python bench/bench_audit.py --verify [--store sqlite|postgres] [--records 1000000] [--reuse]
                                          [--runs 3] [--profile]

A. Cost of the chain (`--chain`). The code before the audit trail (`--before`, default 9c68b9e, store
   schema 0009) is checked out in a git worktree (/tmp/roundabout-before; reused if present, removed at the
   end unless `--keep-worktree`); its server is the same venv's python with PYTHONPATH=<worktree> and the
   work folder as working directory, so `python -m roundabout.cli serve` imports the old code (checked:
   `roundabout.__file__` is printed for each side). The "after" server is this checkout. bench_api.py's
   world (`--world-lines`) is simulated and its model trained and registered once, by this checkout; the
   world's history less the latest 20,000 lines is loaded into a store by the OLD code (schema 0009), and
   each server starts on its own fresh copy of that store (a file copy on SQLite; `CREATE DATABASE ...
   TEMPLATE` on PostgreSQL); the new code migrates its copy to 0010 at start, which adds empty tables.
   Both serve the same registered version with one worker. `--runs` rounds, the order alternating
   (before, after; after, before; ...). Each server gets the same load (bench/loadgen.py in its own
   process): single-line `POST /v1/score` with `explain=true, top_k=5` on held-out lines (bench_api.py's
   bodies; a lap marker keeps line ids distinct), first a closed loop of `--clients` connections, then an
   open loop at `--rate` requests/s; each 3 s of warm-up then `--seconds` measured. Reports each run and
   the medians over runs of req/s, p50/p95/p99 and the server's CPU per call, with after/before ratios.
   "After" is everything since `--before`, not the chain alone; so then, in this process, the chain's own
   cost (`--micro` transactions a block, `--micro-blocks` blocks each way, ABBA order; `--micro-only`: this
   alone): write transactions of 1 and of 8 decisions (the single-line path groups the calls waiting) on a
   copy of the base store migrated by this checkout, through `decisions.record` (decisions, their audit
   records, the chain's head) or through the decisions' insert alone, as the code before did it.
B. Verify speed (`--verify`). A store (SQLite file under --workdir; `--store postgres`: a fresh database
   on 127.0.0.1:5432) gets `--records` decisions through `ServiceStore.decisions.record(conn, rows, lines)`,
   1,000 a transaction, as the service records them: the checked line as sent, 5 reasons, list versions,
   float32 inputs (`encode_inputs`), taken round-robin from 5,000 lines of bench_api.py's world scored with
   explanations by the registered model (line ids made distinct); a checkpoint is signed every 100
   transactions. `--reuse` keeps a store an earlier run built. Then, `--runs` times each, as subprocesses
   under /usr/bin/time -v (wall time, peak RSS): `roundabout audit verify --store URL --no-tables`,
   `roundabout audit verify --store URL` (tables too), and the peers: a plain scan of every audit record
   (`SELECT seq, content, hash FROM audit_records` by seq in batches of 10,000 on the DB-API cursor, no
   hashing), the same scan with one SHA-256 of each record's content, and a chain walk that checks what
   the verifier checks of the chain (every hash recomputed as `chain.record_hash` defines it, compared and
   linked) with the least Python work: the DB-API cursor, the time as text, the header built by hand.
   `--profile`: one more run of each verify under cProfile, top functions printed.
Prints markdown tables; figures go into docs/benchmarks.md ("Audit trail").
"""

import argparse
import json
import os
import platform
import re
import shutil
import signal
import statistics
import subprocess
import sys
import time
from datetime import date
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
BENCH = Path(__file__).resolve().parent
WORKTREE = Path("/tmp/roundabout-before")
PG_ADMIN = "postgresql+psycopg://postgres@127.0.0.1:5432/postgres"
LAP = "~lap~"  # replaced by the load client with the pass number over the held-out lines
LABEL = ("roundabout", "1")
LISTS = {"eu-consolidated": "2026-11-02", "ofac-sdn": "2026-11-01", "un-sc": "2026-10-30"}
SCAN_BATCH = 10_000


def err(*a: Any) -> None:
    print(*a, file=sys.stderr, flush=True)


def machine() -> str:
    git = lambda *a: subprocess.run(["git", *a], cwd=ROOT, capture_output=True, text=True).stdout.strip()  # noqa: E731
    changed = git("status", "--porcelain", "--", "roundabout")
    with open("/proc/cpuinfo") as cpuinfo:
        model = next((x.split(":", 1)[1].strip() for x in cpuinfo if x.startswith("model name")), "?")
    ram = os.sysconf("SC_PAGE_SIZE") * os.sysconf("SC_PHYS_PAGES") / 2**30
    load = ", ".join(f"{x:.2f}" for x in os.getloadavg())
    return (
        f"{date.today()}, {platform.machine()}, {os.cpu_count()} cores ({model}), {ram:.0f} GB RAM, Python "
        f"{platform.python_version()}, commit {git('rev-parse', '--short', 'HEAD')}"
        f"{' + uncommitted changes in roundabout/' if changed else ''}, load average {load}"
    )


def base_env(workdir: Path) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if k != "PYTHONPATH"}
    return {
        **env,
        "MLFLOW_TRACKING_URI": f"sqlite:///{workdir / 'mlflow.db'}",
        "ROUNDABOUT_HOME": str(workdir / "home"),
    }


def code_env(env: dict[str, str], mode: str) -> dict[str, str]:
    """The environment that makes `python -m roundabout.cli` run the code of `mode` (cwd: the work folder)."""
    return {**env, "PYTHONPATH": str(WORKTREE)} if mode == "before" else dict(env)


def imported_from(env: dict[str, str], cwd: Path) -> str:
    code = "import roundabout, sys; print(roundabout.__file__)"
    out = subprocess.run([sys.executable, "-c", code], env=env, cwd=cwd, capture_output=True, text=True)
    return out.stdout.strip() or out.stderr.strip()


def train(workdir: Path, world_lines: int, env: dict[str, str]) -> None:
    """bench_api.py's world and registered model (this checkout's code), unless made already."""
    if (workdir / "mlflow.db").exists():
        return
    run = [sys.executable, "-m", "roundabout.cli"]
    data = str(workdir / "data")
    for step in (["simulate", "--out", data, "--lines", str(world_lines)], ["train", "--data", data]):
        subprocess.run([*run, *step], env=env, check=True, cwd=workdir, stdout=sys.stderr)


def held_out(workdir: Path) -> Any:
    """The held-out lines of bench_api.prepare (the latest 20,000 by date)."""
    from bench_api import HELD_OUT

    from roundabout.data.io import read_folder

    lines = read_folder(workdir / "data").lines
    lines = lines.sort_values(["date", "line_id"], kind="stable").reset_index(drop=True)
    return lines.iloc[-HELD_OUT:].reset_index(drop=True)


def pg_url(name: str) -> str:
    return PG_ADMIN.rsplit("/", 1)[0] + f"/{name}"


def pg_admin(sql: str) -> None:
    import sqlalchemy as sa

    admin = sa.create_engine(PG_ADMIN, isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        conn.execute(sa.text(sql))
    admin.dispose()


# ---- A. cost of the chain --------------------------------------------------------------------------------
def ensure_worktree(commit: str) -> bool:
    """The worktree of `commit` at WORKTREE; True when this run made it."""
    if (WORKTREE / "roundabout" / "__init__.py").exists():
        head = subprocess.run(["git", "rev-parse", "HEAD"], cwd=WORKTREE, capture_output=True, text=True)
        want = subprocess.run(["git", "rev-parse", commit], cwd=ROOT, capture_output=True, text=True)
        if head.stdout.strip() != want.stdout.strip():
            raise SystemExit(f"{WORKTREE} holds {head.stdout.strip()[:10]}, not {commit}: remove it first")
        return False
    subprocess.run(["git", "worktree", "add", "--detach", str(WORKTREE), commit], cwd=ROOT, check=True)
    return True


def prepare_old_store(url: str, workdir: Path, world_lines: int) -> None:
    """Run in a child process on the old code: bench_api.prepare's store (history less the held-out lines)."""
    import bench_api

    import roundabout

    err(f"preparing {url} with the code in {Path(roundabout.__file__).parent}")
    bench_api.prepare(workdir, world_lines, base_env(workdir), url)


def store_revision(url: str) -> str:
    import sqlalchemy as sa

    engine = sa.create_engine(url)
    with engine.connect() as conn:
        rev = conn.execute(sa.text("SELECT version_num FROM alembic_version")).scalar_one_or_none()
        audit = None
        if sa.inspect(conn).has_table("audit_records"):
            audit = conn.execute(sa.text("SELECT count(*) FROM audit_records")).scalar_one()
        decisions = conn.execute(sa.text("SELECT count(*) FROM decisions")).scalar_one()
    engine.dispose()
    return f"schema {rev}, {decisions:,} decisions, " + (
        "no audit table" if audit is None else f"{audit:,} audit records"
    )


def score_groups(base: str) -> tuple[float, float]:
    """(calls, groups) the single-line scorer has committed so far (its Prometheus histogram)."""
    import httpx

    text = httpx.get(f"{base}/metrics", timeout=10).text
    found = dict(re.findall(r"^roundabout_score_group_calls_(sum|count) ([0-9.e+]+)$", text, re.M))
    return float(found.get("sum", "nan")), float(found.get("count", "nan"))


def server_cpu(pid: int) -> float:
    import psutil

    times = psutil.Process(pid).cpu_times()
    return times.user + times.system


def part_a(args: argparse.Namespace) -> None:
    import bench_api
    import loadgen
    import numpy as np

    from roundabout.serving.keys import hash_key

    workdir = args.workdir
    workdir.mkdir(parents=True, exist_ok=True)
    env = base_env(workdir)
    ensure_worktree(args.before)
    try:
        for mode in ("before", "after"):
            where = imported_from(code_env(env, mode), workdir)
            err(f"{mode}: roundabout imported from {where}")
            expected = WORKTREE if mode == "before" else ROOT
            if not where.startswith(str(expected) + "/"):
                raise SystemExit(f"{mode}: roundabout comes from {where}, not {expected}")
        err(f"world and registered model under {workdir} (this checkout's code)")
        train(workdir, args.world_lines, env)
        base_url = (
            f"sqlite:///{workdir / 'base.db'}"
            if args.store == "sqlite"
            else pg_url("roundabout_bench_audit_base")
        )
        if args.store == "sqlite":
            for suffix in ("", "-wal", "-shm"):
                (workdir / f"base.db{suffix}").unlink(missing_ok=True)
        else:
            pg_admin('DROP DATABASE IF EXISTS "roundabout_bench_audit_base" WITH (FORCE)')
            pg_admin('CREATE DATABASE "roundabout_bench_audit_base"')
        subprocess.run(
            [sys.executable, str(Path(__file__).resolve()), "--prepare-old-store", base_url,
             "--workdir", str(workdir), "--world-lines", str(args.world_lines)],
            env=code_env(env, "before"), cwd=workdir, check=True,
        )  # fmt: skip
        err(f"base store: {store_revision(base_url)}")
        keys = [{"id": "bench", "sha256": hash_key(bench_api.KEY), "scopes": ["score"]}]
        headers = {"X-API-Key": bench_api.KEY}
        bodies = []
        for row in held_out(workdir).to_dict("records"):
            line = bench_api.json_line(row)
            line["line_id"] = f"a{LAP}-{line['line_id']}"
            bodies.append(json.dumps({"lines": [line], "explain": True, "top_k": 5}))
        logs = workdir / "logs"
        logs.mkdir(exist_ok=True)
        results: list[dict[str, Any]] = []
        print(f"# audit trail: the chain's cost to single-line scoring; {machine()}")
        for run in range(0 if args.micro_only else args.runs):
            for mode in ("before", "after") if run % 2 == 0 else ("after", "before"):
                results += serve_and_load(args, workdir, env, base_url, mode, run, keys, headers, bodies,
                                          logs, loadgen, bench_api, np)  # fmt: skip
        micro_rows = micro(args, workdir, env, base_url) if args.micro else []
    finally:
        if not args.keep_worktree:
            subprocess.run(["git", "worktree", "remove", "--force", str(WORKTREE)], cwd=ROOT, check=False)
        if args.store == "postgres":
            pg_admin('DROP DATABASE IF EXISTS "roundabout_bench_audit_base" WITH (FORCE)')
    if results:
        report_a(args, results)
    if micro_rows:
        after = [r["cpu_ms"] for r in results if r["mode"] == "after" and r["rate"] is None]
        report_micro(args, micro_rows, statistics.median(after) if after else None)


def serve_and_load(
    args: argparse.Namespace, workdir: Path, env: dict[str, str], base_url: str, mode: str, run: int,
    keys: list[dict[str, Any]], headers: dict[str, str], bodies: list[str], logs: Path,
    loadgen: Any, bench_api: Any, np: Any,
) -> list[dict[str, Any]]:  # fmt: skip
    """One server on a fresh copy of the base store, the closed loop then the open loop."""
    if args.store == "sqlite":
        copy = workdir / f"run-{run}-{mode}.db"
        for suffix in ("", "-wal", "-shm"):
            Path(f"{copy}{suffix}").unlink(missing_ok=True)
        for suffix in ("", "-wal"):
            if (workdir / f"base.db{suffix}").exists():
                shutil.copyfile(workdir / f"base.db{suffix}", f"{copy}{suffix}")
        url = f"sqlite:///{copy}"
    else:
        name = f"roundabout_bench_audit_{run}_{mode}"
        pg_admin(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        pg_admin(f'CREATE DATABASE "{name}" TEMPLATE "roundabout_bench_audit_base"')
        url = pg_url(name)
    home = workdir / f"home-{mode}"
    server_env = {
        **code_env(env, mode),
        "ROUNDABOUT_HOME": str(home),
        "ROUNDABOUT_STORE_URL": url,
        "ROUNDABOUT_API_KEYS": json.dumps(keys),
    }
    port = bench_api.free_port()
    log = (logs / f"serve-{run}-{mode}.log").open("wb")
    server = subprocess.Popen(
        [sys.executable, "-m", "roundabout.cli", "serve", "--port", str(port), "--workers", "1"],
        env=server_env, cwd=workdir, stdout=log, stderr=subprocess.STDOUT,
    )  # fmt: skip
    base = f"http://127.0.0.1:{port}"
    out, taken = [], 0
    try:
        bench_api.wait_ready(f"{base}/readyz", server)
        for rate in (None, args.rate):
            spec = {"url": f"{base}/v1/score", "headers": headers, "bodies": bodies, "lap_marker": LAP,
                    "clients": args.clients, "rate": rate}  # fmt: skip
            warm = loadgen.run_in_process({**spec, "seconds": 3, "start": taken})
            taken += warm["sent"]
            load_before = os.getloadavg()[0]
            cpu0, groups0 = server_cpu(server.pid), score_groups(base)
            result = loadgen.run_in_process({**spec, "seconds": args.seconds, "start": taken})
            cpu, groups1 = server_cpu(server.pid) - cpu0, score_groups(base)
            calls, groups = groups1[0] - groups0[0], groups1[1] - groups0[1]
            taken += result["sent"]
            for sample in result["error_samples"]:
                err(f"{mode}: {sample}")
            lat = np.array(result["latencies"]) * 1000
            r = {
                "run": run + 1, "mode": mode, "rate": rate, "sent": result["sent"],
                "errors": result["errors"],
                "rps": result["sent"] / result["elapsed"], "p50": float(np.percentile(lat, 50)),
                "p95": float(np.percentile(lat, 95)), "p99": float(np.percentile(lat, 99)),
                "cpu_ms": 1000 * cpu / max(1, result["sent"]), "load": load_before,
                "late_p99": 1000 * result.get("late_p99", 0.0),
                "group": calls / groups if groups else float("nan"),
            }  # fmt: skip
            out.append(r)
            err(f"run {r['run']}, {mode}, {'closed loop' if rate is None else f'{rate:g} req/s'}: "
                f"{r['rps']:.0f} req/s, p50 {r['p50']:.1f}, p99 {r['p99']:.1f} ms, "
                f"{r['cpu_ms']:.2f} ms CPU/call, {r['group']:.2f} calls a group, "
                f"{r['errors']} errors")  # fmt: skip
    finally:
        server.send_signal(signal.SIGTERM)
        try:
            server.wait(timeout=30)
        except subprocess.TimeoutExpired:
            server.kill()
        log.close()
        err(f"run {run + 1}, {mode}: store after the run: {store_revision(url)}")
        if args.store == "sqlite":
            for suffix in ("", "-wal", "-shm"):
                Path(f"{copy}{suffix}").unlink(missing_ok=True)
        else:
            pg_admin(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
    return out


def without_chain(store: Any, conn: Any, rows: list[dict[str, Any]]) -> None:
    """The decisions' insert as the code before the trail did it (`DecisionLog.record` at 9c68b9e)."""
    from datetime import UTC, datetime

    now = datetime.now(UTC)
    payload = [
        {
            **row,
            "reasons": json.dumps(row["reasons"]),
            "list_versions": json.dumps(row["list_versions"]) if row.get("list_versions") else None,
            "decided_at": now,
            "inputs": row.get("inputs"),
            "audit_seq": None,
        }
        for row in rows
    ]
    store.decisions._statement().execute(conn, payload)


def micro(
    args: argparse.Namespace, workdir: Path, env: dict[str, str], base_url: str
) -> list[dict[str, Any]]:
    """The chain's own cost, in this process on a copy of the base store migrated by this checkout: write
    transactions of `group` decisions (the single-line path groups the calls waiting), each with
    `decisions.record` (decision rows, audit records, the chain's head) or with the decisions' insert alone
    as before the trail; alternating blocks, medians of the blocks' ms per transaction."""
    from roundabout.store import ServiceStore

    rows, lines = sample_decisions(workdir, env, 400)
    if args.store == "sqlite":
        copy = workdir / "micro.db"
        for suffix in ("", "-wal", "-shm"):
            Path(f"{copy}{suffix}").unlink(missing_ok=True)
        shutil.copyfile(workdir / "base.db", copy)
        url = f"sqlite:///{copy}"
    else:
        pg_admin('DROP DATABASE IF EXISTS "roundabout_bench_audit_micro" WITH (FORCE)')
        pg_admin('CREATE DATABASE "roundabout_bench_audit_micro" TEMPLATE "roundabout_bench_audit_base"')
        url = pg_url("roundabout_bench_audit_micro")
    store = ServiceStore.open(url)
    store.migrate()
    out = []
    k = 0
    try:
        for group in (1, 8):
            times: dict[str, list[float]] = {"with the chain": [], "without": []}
            for block in range(2 * args.micro_blocks):
                mode = ("with the chain", "without")[(block + block // 2) % 2]  # ABBA order
                t0 = time.perf_counter()
                for _ in range(args.micro):
                    chunk_rows, chunk_lines = [], []
                    for _ in range(group):
                        j = k % len(rows)
                        line_id = f"micro-{k}"
                        chunk_rows.append({**rows[j], "line_id": line_id, "request_id": f"micro-{k}"})
                        chunk_lines.append({**lines[j], "line_id": line_id})
                        k += 1
                    with store.transaction() as conn:
                        if mode == "without":
                            without_chain(store, conn, chunk_rows)
                        else:
                            store.decisions.record(conn, chunk_rows, chunk_lines)
                times[mode].append(1000 * (time.perf_counter() - t0) / args.micro)
            with_, without = statistics.median(times["with the chain"]), statistics.median(times["without"])
            out.append({"group": group, "with": with_, "without": without, "blocks": times})
            err(f"micro, groups of {group}: {with_:.3f} ms with the chain, {without:.3f} ms without, "
                f"per transaction")  # fmt: skip
    finally:
        store.dispose()
        if args.store == "sqlite":
            for suffix in ("", "-wal", "-shm"):
                Path(f"{copy}{suffix}").unlink(missing_ok=True)
        else:
            pg_admin('DROP DATABASE IF EXISTS "roundabout_bench_audit_micro" WITH (FORCE)')
    return out


def report_micro(args: argparse.Namespace, rows: list[dict[str, Any]], cpu_ms: float | None) -> None:
    print(
        f"\nthe chain's own cost, in-process ({args.store}; {args.micro} write transactions a block, "
        f"{args.micro_blocks} blocks each way, ABBA order; medians of the blocks)"
    )
    print("\n| decisions a transaction | ms with the chain | ms without | chain ms per decision "
          "| of the server's CPU per call |")  # fmt: skip
    print("|---:|---:|---:|---:|---:|")
    for r in rows:
        per = (r["with"] - r["without"]) / r["group"]
        share = f"{per / cpu_ms:.1%}" if cpu_ms else ""
        print(f"| {r['group']} | {r['with']:.3f} | {r['without']:.3f} | {per:.3f} | {share} |")
    sys.stdout.flush()


def report_a(args: argparse.Namespace, results: list[dict[str, Any]]) -> None:
    print(
        f"store {args.store}; world {args.world_lines:,} lines; one worker; {args.clients} connections; "
        f"3 s warm-up then {args.seconds:.0f} s measured per load; before = {args.before}, "
        "after = this checkout"
    )
    print("\n| load | code | run | requests | errors | req/s | p50 ms | p95 ms | p99 ms | server CPU ms/call "
          "| calls a group | load avg before |")  # fmt: skip
    print("|---|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|")
    shown = lambda rate: "closed loop" if rate is None else f"{rate:g} req/s"  # noqa: E731
    for r in sorted(results, key=lambda r: (r["rate"] is not None, r["run"], r["mode"] == "after")):
        print(f"| {shown(r['rate'])} | {r['mode']} | {r['run']} | {r['sent']:,} | {r['errors']} "
              f"| {r['rps']:,.0f} | {r['p50']:.1f} | {r['p95']:.1f} | {r['p99']:.1f} | {r['cpu_ms']:.2f} "
              f"| {r['group']:.2f} | {r['load']:.2f} |")  # fmt: skip
    keys = ("rps", "p50", "p95", "p99", "cpu_ms", "group")
    print(f"\nmedians over {args.runs} runs")
    print("\n| load | code | req/s | p50 ms | p95 ms | p99 ms | server CPU ms/call | calls a group |")
    print("|---|---|---:|---:|---:|---:|---:|---:|")
    for rate in (None, args.rate):
        med = {
            mode: {
                k: statistics.median(r[k] for r in results if r["rate"] == rate and r["mode"] == mode)
                for k in keys
            }
            for mode in ("before", "after")
        }
        for mode in ("before", "after"):
            m = med[mode]
            print(f"| {shown(rate)} | {mode} | {m['rps']:,.0f} | {m['p50']:.1f} | {m['p95']:.1f} "
                  f"| {m['p99']:.1f} "
                  f"| {m['cpu_ms']:.2f} | {m['group']:.2f} |")  # fmt: skip
        ratio = {k: med["after"][k] / med["before"][k] for k in keys}
        print(f"| {shown(rate)} | after / before | {ratio['rps']:.3f}x | {ratio['p50']:.3f}x "
              f"| {ratio['p95']:.3f}x "
              f"| {ratio['p99']:.3f}x | {ratio['cpu_ms']:.3f}x | {ratio['group']:.3f}x |")  # fmt: skip
    sys.stdout.flush()


# ---- B. verify speed ---------------------------------------------------------------------------------------
def sample_decisions(
    workdir: Path, env: dict[str, str], n: int
) -> tuple[list[dict[str, Any]], list[dict[str, Any]]]:
    """`n` lines of the world as the service checks them, and their decisions as it records them (scores,
    5 reasons, list versions, float32 inputs) by the registered model."""
    import mlflow
    import numpy as np
    from bench_api import json_line

    from roundabout.data.io import read_folder
    from roundabout.data.records import RecordValidator
    from roundabout.data.validation import FormatRules
    from roundabout.models.pyfunc import load_risk_model
    from roundabout.store.served import encode_inputs

    mlflow.set_tracking_uri(env["MLFLOW_TRACKING_URI"])
    model = load_risk_model("models:/roundabout/1")
    data = read_folder(workdir / "data")
    err("features of the world (batch path) and explained scores of a sample")
    features = model.features_of(data)
    pick = np.linspace(len(data.lines) // 5, len(data.lines) - 1, 3 * n).astype(int)
    validator = RecordValidator(FormatRules(), model.artifacts.extra_columns)
    lines = [validator.line(json_line(r)) for r in data.lines.iloc[pick].to_dict("records")]
    X = model.matrix(features.iloc[pick].reset_index(drop=True), lines)
    scores = model.score_batch(X, explain=True, top_k=5, lines=lines)
    base = X[:, : len(model.base_features)]
    # the lines with the most reasons (5 where the model gives 5: the larger records), in date order
    keep = sorted(sorted(range(len(lines)), key=lambda i: -len(scores.line(i).reasons))[:n])
    rows = []
    for i in keep:
        s = scores.line(i)
        rows.append({
            "request_id": "", "key_id": "bench", "line_id": lines[i]["line_id"],
            "model_name": LABEL[0], "model_version": LABEL[1], "risk_score": s.risk_score,
            "anomaly_score": s.anomaly_score, "oddness_score": s.oddness_score, "channel": s.channel,
            "reasons": [r.to_dict() for r in s.reasons], "list_versions": LISTS, "selection": s.selection,
            "propensity": s.propensity, "inputs": encode_inputs(base[i]),
        })  # fmt: skip
    lines = [lines[i] for i in keep]
    err(f"{len(model.base_features)} inputs per decision; reasons per decision: "
        f"{statistics.mean(len(r['reasons']) for r in rows):.2f}; line columns: {len(lines[0])}")  # fmt: skip
    return rows, lines


#: The code that shapes the records a store holds: a store built by other code is built again.
SHAPING = ("roundabout/store/decisions.py", "roundabout/audit/chain.py", "roundabout/store/audit_log.py")


def code_stamp() -> str:
    import hashlib

    return hashlib.sha256(b"".join((ROOT / p).read_bytes() for p in SHAPING)).hexdigest()[:16]


def build_store(args: argparse.Namespace, url: str, workdir: Path, env: dict[str, str]) -> None:
    import sqlalchemy as sa
    from rich.console import Console
    from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn

    from roundabout.audit.signing import Signer
    from roundabout.store import ServiceStore

    rows, lines = sample_decisions(workdir, env, 5000)
    store = ServiceStore.open(url)
    store.migrate()
    store.served.register_inputs(*LABEL, [f"x{i}" for i in range(len(rows[0]["inputs"]) // 4)])
    signer = Signer.from_file(workdir / "home" / "audit-signing.key", create=True)
    n, per = args.records, args.per_transaction
    columns = (TextColumn("[bold]{task.description}"), BarColumn(), MofNCompleteColumn(), TimeElapsedColumn())
    t0 = time.perf_counter()
    with Progress(*columns, console=Console(stderr=True)) as bar:
        task = bar.add_task("decisions (with their audit records)", total=n)
        for t, start in enumerate(range(0, n, per)):
            chunk_rows, chunk_lines = [], []
            for k in range(start, min(n, start + per)):
                j, lap = k % len(rows), k // len(rows)
                line_id = f"{lines[j]['line_id']}-{lap}"
                chunk_rows.append({**rows[j], "line_id": line_id, "request_id": f"bench-audit-{t}"})
                chunk_lines.append({**lines[j], "line_id": line_id})
            with store.transaction() as conn:
                store.decisions.record(conn, chunk_rows, chunk_lines)
            if (t + 1) % 100 == 0:
                store.audit.checkpoint(signer)
            bar.advance(task, len(chunk_rows))
    seconds = time.perf_counter() - t0
    store.audit.checkpoint(signer)
    store.analyze()
    with store.backend.connect() as conn:
        size = conn.execute(sa.text("SELECT avg(length(content)) FROM audit_records")).scalar_one()
    store.dispose()
    err(f"audit record content {float(size):,.0f} characters on average")
    err(f"built {n:,} decisions in {seconds:.1f} s ({n / seconds:,.0f} a second, {per:,} a transaction)")


def scan(url: str, with_hash: bool) -> None:
    """Run as a subprocess: every audit record read by seq in batches on the DB-API cursor (and hashed)."""
    import hashlib

    import sqlalchemy as sa

    engine = sa.create_engine(url)
    t0 = time.perf_counter()
    n = size = 0
    with engine.connect() as conn:
        cursor = conn.connection.dbapi_connection.cursor()
        p = "?" if conn.dialect.name == "sqlite" else "%s"
        last = 0
        while True:
            cursor.execute(
                f"SELECT seq, content, hash FROM audit_records WHERE seq > {p} "
                f"ORDER BY seq LIMIT {SCAN_BATCH}",
                (last,),
            )
            rows = cursor.fetchall()
            for _seq, content, _digest in rows:
                size += len(content)
                if with_hash:
                    hashlib.sha256(content.encode()).hexdigest()
            n += len(rows)
            if len(rows) < SCAN_BATCH:
                break
            last = rows[-1][0]
    seconds = time.perf_counter() - t0
    engine.dispose()
    print(json.dumps({"records": n, "seconds": seconds, "content_bytes": size}))


def scan_chain(url: str) -> None:
    """Run as a subprocess: the chain walked as the verifier must (every record's hash recomputed as
    `chain.record_hash` defines it, compared with the stored one, each record linked to the one before) with
    the least work Python allows: rows on the DB-API cursor, the time read as text in the chain's format
    (SQLite keeps it as text; PostgreSQL formats it), the header built by hand with the `json` module's
    own string escaping."""
    import hashlib
    from json.encoder import encode_basestring as esc  # what ensure_ascii=False encoding uses

    import sqlalchemy as sa

    engine = sa.create_engine(url)
    t0 = time.perf_counter()
    n = bad = 0
    with engine.connect() as conn:
        cursor = conn.connection.dbapi_connection.cursor()
        sqlite = conn.dialect.name == "sqlite"
        p = "?" if sqlite else "%s"
        at = "at" if sqlite else """to_char(at AT TIME ZONE 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS.US"Z"')"""
        last, prev = 0, "0" * 64
        sha256 = hashlib.sha256
        while True:
            cursor.execute(
                f"SELECT seq, {at}, kind, actor, subject, content, prev_hash, hash FROM audit_records "
                f"WHERE seq > {p} ORDER BY seq LIMIT {SCAN_BATCH}",
                (last,),
            )
            rows = cursor.fetchall()
            for seq, stamp, kind, actor, subject, content, prev_hash, digest in rows:
                if sqlite:
                    stamp = f"{stamp[:10]}T{stamp[11:]}Z"
                subj = "null" if subject is None else esc(subject)
                header = f'[{seq},"{stamp}",{esc(kind)},{esc(actor)},{subj},"{prev_hash}"]'
                if (
                    seq != last + 1
                    or prev_hash != prev
                    or sha256(f"{header}\n{content}".encode()).hexdigest() != digest
                ):
                    bad += 1
                last, prev = seq, digest
            n += len(rows)
            if len(rows) < SCAN_BATCH:
                break
    seconds = time.perf_counter() - t0
    engine.dispose()
    print(json.dumps({"records": n, "seconds": seconds, "broken": bad}))


def timed(cmd: list[str], env: dict[str, str], cwd: Path) -> dict[str, Any]:
    """`cmd` under /usr/bin/time -v: wall s, peak RSS MB, exit code, standard output."""
    t0 = time.perf_counter()
    done = subprocess.run(["/usr/bin/time", "-v", *cmd], env=env, cwd=cwd, capture_output=True, text=True)
    wall = time.perf_counter() - t0
    rss = re.search(r"Maximum resident set size \(kbytes\): (\d+)", done.stderr)
    cpu = sum(float(m) for m in re.findall(r"(?:User|System) time \(seconds\): ([\d.]+)", done.stderr))
    return {"wall": wall, "rss": int(rss.group(1)) / 1024 if rss else float("nan"), "cpu": cpu,
            "code": done.returncode, "stdout": done.stdout, "stderr": done.stderr}  # fmt: skip


def part_b(args: argparse.Namespace) -> None:
    import sqlalchemy as sa

    workdir = args.workdir
    workdir.mkdir(parents=True, exist_ok=True)
    env = base_env(workdir)
    train(workdir, args.world_lines, env)
    if args.store == "sqlite":
        url = f"sqlite:///{workdir / f'verify-{args.records}.db'}"
    else:
        url = pg_url(f"roundabout_bench_audit_verify_{args.records}")
    have = 0
    stamp_file = workdir / f"verify-{args.records}-{args.store}.stamp"
    if args.reuse and not (stamp_file.exists() and stamp_file.read_text() == code_stamp()):
        err(f"no store built by this code ({', '.join(SHAPING)}) to reuse: building it")
    elif args.reuse:
        try:
            engine = sa.create_engine(url)
            with engine.connect() as conn:
                have = conn.execute(sa.text("SELECT seq FROM audit_head WHERE id = 1")).scalar_one()
            engine.dispose()
        except Exception as exc:
            err(f"no store to reuse at {url}: {type(exc).__name__}")
    if have != args.records:
        if args.store == "sqlite":
            for suffix in ("", "-wal", "-shm"):
                Path(f"{url[len('sqlite:///') :]}{suffix}").unlink(missing_ok=True)
        else:
            name = url.rsplit("/", 1)[1]
            pg_admin(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
            pg_admin(f'CREATE DATABASE "{name}"')
        stamp_file.unlink(missing_ok=True)
        build_store(args, url, workdir, env)
        stamp_file.write_text(code_stamp())
    else:
        err(f"reusing {url} ({have:,} records)")
    size = ""
    if args.store == "sqlite":
        size = f"{Path(url[len('sqlite:///') :]).stat().st_size / 2**30:.2f} GB file"
    else:
        engine = sa.create_engine(url)
        with engine.connect() as conn:
            pg_bytes = conn.execute(sa.text("SELECT pg_database_size(current_database())")).scalar_one()
            size = f"{pg_bytes / 2**30:.2f} GB database"
        engine.dispose()
    if args.runs == 0:
        return  # built (or found) the store only
    cli = [sys.executable, "-m", "roundabout.cli", "audit", "verify", "--store", url]
    me = [sys.executable, str(Path(__file__).resolve())]
    tasks = {
        "peer: scan": [*me, "--scan", url],
        "peer: scan + SHA-256 of each content": [*me, "--scan", url, "--scan-hash"],
        "peer: chain walk on the DB-API cursor": [*me, "--scan-chain", url],
        "`audit verify --no-tables`": [*cli, "--no-tables", "--json", str(workdir / "verify-no-tables.json")],
        "`audit verify` (with tables)": [*cli, "--json", str(workdir / "verify-tables.json")],
    }
    print(f"# audit trail: verify over {args.records:,} decisions ({args.store}, {size}); {machine()}")
    results: dict[str, list[dict[str, Any]]] = {name: [] for name in tasks}
    for run in range(args.runs):
        order = list(tasks) if run % 2 == 0 else list(tasks)[::-1]
        for name in order:
            load_before = os.getloadavg()[0]
            r = timed(tasks[name], env, workdir)
            r["load"] = load_before
            if r["code"] != 0:
                err(r["stderr"][-3000:])
                raise SystemExit(f"{name} failed with exit code {r['code']}")
            if name.startswith("peer"):
                inner = json.loads(r["stdout"].strip().splitlines()[-1])
                r["inner"] = inner["seconds"]
                if inner.get("broken", 0) != 0 or inner["records"] != args.records:
                    raise SystemExit(f"{name}: {inner}")
            else:
                report = json.loads(
                    (
                        workdir / ("verify-no-tables.json" if "no-tables" in name else "verify-tables.json")
                    ).read_text()
                )
                if not report["ok"] or report["records"] != args.records:
                    raise SystemExit(f"{name}: unexpected report {report}")
                r["report"] = report
            results[name].append(r)
            err(
                f"run {run + 1}: {name}: {r['wall']:.1f} s wall, {r['cpu']:.1f} s CPU, "
                f"{r['rss']:,.0f} MB peak RSS"
            )
    report = results["`audit verify` (with tables)"][0]["report"]
    print(f"records {args.records:,}; checkpoints valid {report['checkpoints']}; rows checked "
          f"{report['rows_checked']}; {args.runs} runs each, order alternating; wall time of the whole "
          "subprocess (interpreter start included)")  # fmt: skip
    scan_wall = statistics.median(r["wall"] for r in results["peer: scan"])
    print("\n| what | wall s, median (runs) | CPU s | peak RSS MB | records/s | vs scan |")
    print("|---|---:|---:|---:|---:|---:|")
    for name, rs in results.items():
        wall = statistics.median(r["wall"] for r in rs)
        runs = ", ".join(f"{r['wall']:.1f}" for r in rs)
        inner = (
            f"; {statistics.median(r['inner'] for r in rs):.1f} s reading" if name.startswith("peer") else ""
        )
        print(f"| {name} | {wall:.1f} ({runs}{inner}) | {statistics.median(r['cpu'] for r in rs):.1f} "
              f"| {max(r['rss'] for r in rs):,.0f} | {args.records / wall:,.0f} "
              f"| {wall / scan_wall:.1f}x |")  # fmt: skip
    sys.stdout.flush()
    if args.profile:
        for name, extra in (("--no-tables", ["--no-tables"]), ("with tables", [])):
            out = workdir / f"verify{'-no-tables' if extra else ''}.prof"
            cmd = [sys.executable, "-m", "cProfile", "-o", str(out), "-m", "roundabout.cli", "audit",
                   "verify",
                   "--store", url, *extra]  # fmt: skip
            t0 = time.perf_counter()
            subprocess.run(cmd, env=env, cwd=workdir, check=True, capture_output=True)
            print_profile(out, f"`audit verify {name}` under cProfile ({time.perf_counter() - t0:.1f} s)")


def print_profile(path: Path, title: str) -> None:
    import io
    import pstats

    for key in ("tottime", "cumulative"):
        text = io.StringIO()
        pstats.Stats(str(path), stream=text).sort_stats(key).print_stats(22)
        body = text.getvalue()
        print(f"\n{title}, top by {key}:\n```")
        print(body[body.index("ncalls") :].rstrip().replace(str(ROOT) + "/", ""))
        print("```")
    sys.stdout.flush()


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--chain", action="store_true", help="A: the chain's cost to scoring, before/after")
    parser.add_argument("--verify", action="store_true", help="B: audit verify over --records decisions")
    parser.add_argument("--store", choices=["sqlite", "postgres"], default="sqlite")
    parser.add_argument(
        "--workdir",
        type=Path,
        default=Path("/tmp/roundabout-bench-audit"),
        help="kept work folder (world, model, stores, logs), shared by A and B",
    )
    parser.add_argument("--world-lines", type=int, default=100_000)
    parser.add_argument("--runs", type=int, default=3, help="B: 0 builds the store only")
    # A
    parser.add_argument("--before", default="9c68b9e", help="commit of the code before the audit trail")
    parser.add_argument("--keep-worktree", action="store_true")
    parser.add_argument("--clients", type=int, default=8)
    parser.add_argument("--seconds", type=float, default=20)
    parser.add_argument("--rate", type=float, default=100, help="open-loop requests/s")
    parser.add_argument("--micro", type=int, default=500, help="transactions a block in-process (0: none)")
    parser.add_argument("--micro-blocks", type=int, default=4, help="blocks each way, in-process")
    parser.add_argument("--micro-only", action="store_true", help="the in-process measure alone")
    # B
    parser.add_argument("--records", type=int, default=1_000_000)
    parser.add_argument("--per-transaction", type=int, default=1000)
    parser.add_argument("--reuse", action="store_true", help="keep a store an earlier run built")
    parser.add_argument("--profile", action="store_true", help="one more verify of each kind under cProfile")
    # internal
    parser.add_argument("--prepare-old-store", metavar="URL", help=argparse.SUPPRESS)
    parser.add_argument("--scan", metavar="URL", help=argparse.SUPPRESS)
    parser.add_argument("--scan-hash", action="store_true", help=argparse.SUPPRESS)
    parser.add_argument("--scan-chain", metavar="URL", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.prepare_old_store:
        prepare_old_store(args.prepare_old_store, args.workdir, args.world_lines)
    elif args.scan:
        scan(args.scan, args.scan_hash)
    elif args.scan_chain:
        scan_chain(args.scan_chain)
    elif args.chain:
        part_a(args)
    elif args.verify:
        part_b(args)
    else:
        parser.error("give --chain or --verify")


if __name__ == "__main__":
    main()
