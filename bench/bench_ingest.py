"""Ingesting a joined ASTANA-1-like export (header, items, parties; four currencies), then a day appended.

    .venv/bin/python bench/bench_ingest.py [--items 1000000] [--day-items 5000] [--seed 7]
                                           [--work /tmp/roundabout-bench-ingest]

The export has the shape of docs/examples/astana1_dt.yaml (copied beside it, with the rates file it names):
`--items` goods lines, about 4 a declaration (header rows = items / 4), a CONSIGNOR party row for every
declaration and a DECLARANT row for about half; dates spread over 2023, values in USD/EUR/KZT/RUB with a
rate for every day, ';'-delimited with decimal commas, ИМ/ЭК directions, 12-digit BINs with their check
digit, 10-digit codes, ISO countries, the mapping's transport codes, about 5% of declarations checked.
The "day" is `--day-items` lines of new declarations dated 2024-01-01. Both are generated with numpy
(seeded) into `--work`/export-N-D-sS and reused while their parameters match (1,000,000 items: about
11 s and 1.5 GB in this process, 160 MB of CSV).

Every measurement is the real CLI, `.venv/bin/roundabout ingest ...`, in a subprocess with ROUNDABOUT_HOME
set to a fresh folder; wall time is taken around the subprocess (start-up included), peak RSS is the
child's, from /usr/bin/time -v.
(a) The export into a fresh folder: wall s, item rows/s, peak RSS, lines loaded and rejected (its
    manifest.json). Target: <= 60 s and < 2 GB (2,048 MB) for 1,000,000 item rows. Peer, same run: the
    items file read as one chunk (`--chunk-rows` above its length: the file read whole).
(b) The day with `--append` into a copy of (a)'s folder (shutil.copytree; (a)'s stays as it was): wall s,
    peak RSS, what the append added. Target: <= 5 s for 5,000 lines into 1,000,000. Then the same with
    the export ingested `--partitioned` (month partitions): the append rewrites only the day's month.
Prints markdown tables; the outputs of the last run stay in `--work`/run.
"""

import argparse
import json
import os
import re
import shutil
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import yaml

ROOT = Path(__file__).resolve().parents[1]
CLI = ROOT / ".venv" / "bin" / "roundabout"
EXAMPLE = ROOT / "docs" / "examples" / "astana1_dt.yaml"
FORMAT = 1  # bump when the generator changes: folders of another format are made again
START = np.datetime64("2023-01-01")
PERIOD_DAYS = 365  # 2023; the day is the one after
CURRENCIES = {"USD": (0.40, 1.0), "EUR": (0.20, 1.08), "KZT": (0.25, 0.00219), "RUB": (0.15, 0.0118)}
COUNTRIES = ["CN", "RU", "DE", "TR", "IT", "KR", "US", "UZ", "KG", "BY", "PL", "JP", "IN", "FR", "AE", "TW"]
COUNTRY_P = np.array([30, 25, 8, 6, 4, 4, 3, 4, 3, 3, 2, 2, 2, 2, 1, 1], dtype=float)
TRANSPORT_WEIGHT = {"10": 1.0, "20": 6.0, "30": 10.0, "40": 2.0, "50": 0.5, "71": 0.2}
POSTS = ["55101", "55102", "55201", "55208", "55301", "55401", "55501", "55601", "55701", "55901"]
GOODS = ["Части станков с ЧПУ", "Микросхемы интегральные", "Модули связи", "Трубы стальные", "Обувь кожаная"]
GOODS += ["Пшеница мягкая", "Шины пневматические", "Мебель офисная", "Насосы центробежные", "Ткани хлопковые"]
FIRMS = ["Hua Trading", "Werkzeug Handel", "Sever Komplekt", "Anadolu Dis", "Milano Export", "Seoul Parts"]


def bins(rng: np.random.Generator, n: int) -> np.ndarray:
    """`n` distinct 12-digit BINs of legal entities (YYMM, 4, 0, serial) with the Kazakh check digit."""
    out: set[str] = set()
    while len(out) < n:
        yy, mm = rng.integers(0, 24, 2 * n), rng.integers(1, 13, 2 * n)
        d = np.zeros((2 * n, 11), dtype=np.int64)
        d[:, 0], d[:, 1], d[:, 2], d[:, 3] = yy // 10, yy % 10, mm // 10, mm % 10
        d[:, 4], d[:, 5], d[:, 6:] = 4, 0, rng.integers(0, 10, (2 * n, 5))
        check = (d * np.arange(1, 12)).sum(axis=1) % 11
        second = (d * np.array([3, 4, 5, 6, 7, 8, 9, 10, 11, 1, 2])).sum(axis=1) % 11
        check = np.where(check == 10, second, check)
        ok = check != 10
        digits = np.concatenate([d[ok], check[ok, None]], axis=1)
        out.update("".join(map(str, row)) for row in digits)
    return np.array(sorted(out)[:n])


def num(cents: np.ndarray) -> np.ndarray:
    """Amounts in hundredths as the export writes them: '9 800 000', '12 450,50', '1,2'."""
    whole, frac = np.divmod(cents, 100)
    millions, rest = np.divmod(whole, 1_000_000)
    thousands, units = np.divmod(rest, 1000)

    def z3(x: np.ndarray) -> np.ndarray:
        return np.strings.zfill(x.astype(str), 3)

    text = np.where(
        whole >= 1_000_000,
        millions.astype(str) + " " + z3(thousands) + " " + z3(units),
        np.where(whole >= 1000, thousands.astype(str) + " " + z3(units), whole.astype(str)),
    )
    decimals = np.strings.rstrip(np.strings.zfill(frac.astype(str), 2), "0")
    return np.where(frac > 0, text + "," + decimals, text)


def pick(rng: np.random.Generator, values: np.ndarray | list[str], n: int, skew: float = 0.8) -> np.ndarray:
    """`n` draws from `values`, the first ones likelier (weights 1 / rank^skew)."""
    p = 1.0 / np.arange(1, len(values) + 1) ** skew
    return np.asarray(values)[rng.choice(len(values), n, p=p / p.sum())]


def export(
    rng: np.random.Generator, pools: dict[str, Any], n: int, day0: int, days: int, serial0: int
) -> dict[str, pd.DataFrame]:
    """Header, items and parties frames of `n` goods lines dated `day0` .. `day0 + days - 1` (from START)."""
    n_decl = max(1, round(n / 4))
    per_decl = 1 + np.bincount(rng.integers(0, n_decl, n - n_decl), minlength=n_decl)
    decl = np.repeat(np.arange(n_decl), per_decl)
    item_no = np.arange(n) - np.repeat(np.cumsum(per_decl) - per_decl, per_decl) + 1
    day = np.sort(rng.integers(day0, day0 + days, n_decl))
    stamps = pd.DatetimeIndex(START + np.arange(day0 + days + 30))
    dmy, dmy_short = np.array(stamps.strftime("%d.%m.%Y")), np.array(stamps.strftime("%d%m%y"))
    imp = rng.random(n_decl) < 0.7
    post = pick(rng, POSTS, n_decl)
    number = (
        post + "/" + dmy_short[day] + "/" + np.strings.zfill((serial0 + np.arange(n_decl)).astype(str), 7)
    )
    foreign = np.asarray(COUNTRIES)[rng.choice(len(COUNTRIES), n_decl, p=COUNTRY_P / COUNTRY_P.sum())]
    trader = pick(rng, np.arange(len(pools["traders"])), n_decl, 0.9)
    checked = rng.random(n_decl) < 0.05
    codes = list(pools["transport"])
    weights = np.array([TRANSPORT_WEIGHT.get(c, 1.0) for c in codes])
    header = {
        "DT_NUMBER": number,
        "DECL_TYPE": np.where(imp, "ИМ", "ЭК"),
        "PROC": np.where(imp, pick(rng, ["40", "51", "53"], n_decl, 3), pick(rng, ["10", "31"], n_decl, 3)),
        "DT_DATE": dmy[day],
        "BIN": pools["traders"][trader],
        "ORG_NAME": "ТОО Трейдер " + trader.astype(str),
        "DISPATCH": np.where(imp, foreign, "KZ"),
        "DESTINATION": np.where(imp, "KZ", foreign),
        "TRADE_CTRY": np.where(rng.random(n_decl) < 0.9, foreign, pick(rng, COUNTRIES, n_decl)),
        "TRANSPORT": np.asarray(codes)[rng.choice(len(codes), n_decl, p=weights / weights.sum())],
        "POST": post,
        "CHECK_DATE": np.where(checked, dmy[day + rng.integers(1, 15, n_decl)], ""),
    }
    hs = rng.integers(0, len(pools["hs"]), n)
    hs = np.minimum(hs, rng.integers(0, len(pools["hs"]), n))  # smaller indices more often
    shares = [share for share, _ in CURRENCIES.values()]
    currency = np.asarray(list(CURRENCIES))[rng.choice(len(CURRENCIES), n, p=shares)]
    rate = pools["rates"].set_index(["date", "currency"])["rate"]
    on_day = pd.MultiIndex.from_arrays([stamps[day[decl]].strftime("%Y-%m-%d"), currency])
    usd_per_unit = np.where(currency == "USD", 1.0, rate.reindex(on_day).to_numpy())
    usd = np.clip(rng.lognormal(8.0, 1.6, n), 5.0, 2e6)
    netto = np.clip(rng.lognormal(4.0, 2.0, n), 0.01, 5e6)
    items = {
        "DT_NUMBER": number[decl],
        "ITEM_NO": item_no.astype(str),
        "TNVED": pools["hs"][hs],
        "GOODS_DESCR": np.asarray(GOODS)[hs % len(GOODS)] + ", арт. " + hs.astype(str),
        "ORIGIN": np.where(rng.random(n) < 0.75, np.where(imp, foreign, "KZ")[decl], pick(rng, COUNTRIES, n)),
        "INVOICE_VALUE": num(np.round(usd / usd_per_unit * 100).astype(np.int64)),
        "CURRENCY": currency,
        "NETTO": num(np.round(netto * 100).astype(np.int64)),
        "BRUTTO": num(np.round(netto * rng.uniform(1.01, 1.15, n) * 100).astype(np.int64)),
        "ADD_QTY": (1 + rng.poisson(netto / 5)).astype(str),
        "CHECK_RESULT": np.where(checked[decl], np.where(rng.random(n) < 0.15, "1", "0"), ""),
    }
    consignor = pick(rng, np.arange(20_000), n_decl, 0.6)
    broker = rng.integers(0, len(pools["brokers"]), n_decl)
    has_declarant = rng.random(n_decl) < 0.5
    parties = pd.DataFrame(
        {
            "DT_NUMBER": np.concatenate([number, number[has_declarant]]),
            "ROLE": np.repeat(["CONSIGNOR", "DECLARANT"], [n_decl, has_declarant.sum()]),
            "NAME": np.concatenate(
                [
                    np.asarray(FIRMS)[consignor % len(FIRMS)] + " " + consignor.astype(str) + " Ltd",
                    "ТОО Брокер Сервис " + broker[has_declarant].astype(str),
                ]
            ),
            "COUNTRY": np.concatenate([foreign, np.full(has_declarant.sum(), "KZ")]),
            "BIN": np.concatenate([np.full(n_decl, ""), pools["brokers"][broker[has_declarant]]]),
            "_order": np.concatenate([np.arange(n_decl), np.flatnonzero(has_declarant)]),
        }
    )
    parties = parties.sort_values("_order", kind="stable").drop(columns="_order")
    return {"header": pd.DataFrame(header), "items": pd.DataFrame(items), "parties": parties}


def generate(args: argparse.Namespace) -> tuple[Path, dict[str, int]]:
    """The export and day folder of these parameters (generated unless it is there already) and the rows of
    each of its files."""
    folder = args.work / f"export-{args.items}-{args.day_items}-s{args.seed}"
    params = {"format": FORMAT, "items": args.items, "day_items": args.day_items, "seed": args.seed}
    marker = folder / "params.json"
    if marker.exists() and (made := json.loads(marker.read_text()))["params"] == params:
        return folder, made["rows"]
    print(f"generating {args.items:,} + {args.day_items:,} item rows into {folder}", file=sys.stderr)
    t0 = time.perf_counter()
    shutil.rmtree(folder, ignore_errors=True)
    folder.mkdir(parents=True)
    mapping = yaml.safe_load(EXAMPLE.read_text())
    shutil.copy(EXAMPLE, folder / EXAMPLE.name)
    rng = np.random.default_rng(args.seed)
    days = pd.date_range(str(START), periods=PERIOD_DAYS + 1).strftime("%Y-%m-%d")  # the period and the day
    rates = pd.concat(
        pd.DataFrame(
            {"date": days, "currency": code, "rate": base * np.exp(np.cumsum(rng.normal(0, 4e-3, len(days))))}
        )
        for code, (_, base) in CURRENCIES.items()
        if code != "USD"
    )
    rates.to_csv(folder / mapping["currency"]["rates"], index=False, float_format="%.6g")
    hs = rng.integers(1, 98, 3000) * 10**8 + rng.integers(0, 10**8, 3000)
    pools = {
        "traders": bins(rng, max(50, args.items // 200)),
        "brokers": bins(rng, 200),
        "hs": np.unique(np.strings.zfill(hs.astype(str), 10)),
        "transport": mapping["values"]["transport_mode"],
        "rates": rates.assign(rate=pd.to_numeric(rates["rate"].map("{:.6g}".format))),
    }
    n_decl = max(1, round(args.items / 4))
    frames = {
        "": export(rng, pools, args.items, 0, PERIOD_DAYS, 1),
        "day_": export(rng, pools, args.day_items, PERIOD_DAYS, 1, 1 + n_decl),
    }
    rows = {}
    for prefix, tables in frames.items():
        for name, frame in tables.items():
            frame.to_csv(folder / f"{prefix}{name}.csv", sep=";", index=False)
            rows[prefix + name] = len(frame)
    marker.write_text(json.dumps({"params": params, "rows": rows}))
    print(f"generated in {time.perf_counter() - t0:.1f} s", file=sys.stderr)
    return folder, rows


def ingest(
    data: Path,
    prefix: str,
    out: Path,
    append: bool,
    home: Path,
    chunk_rows: int | None = None,
    partitioned: bool = False,
) -> dict[str, Any]:
    """`roundabout ingest` of the `prefix` files of `data` into `out`: wall s, peak RSS MB."""
    sources = [
        x for t in ("header", "items", "parties") for x in ("--source", f"{t}={data / f'{prefix}{t}.csv'}")
    ]
    cmd = [str(CLI), "ingest", "--mapping", str(data / EXAMPLE.name), "--out", str(out), *sources]
    cmd += ["--append"] if append else []
    cmd += ["--chunk-rows", str(chunk_rows)] if chunk_rows else []
    cmd += ["--partitioned"] if partitioned else []
    home.mkdir(parents=True, exist_ok=True)
    env = {k: v for k, v in os.environ.items() if not k.startswith("ROUNDABOUT_") and k != "PYTHONPATH"}
    t0 = time.perf_counter()
    done = subprocess.run(
        ["/usr/bin/time", "-v", *cmd],
        env={**env, "ROUNDABOUT_HOME": str(home)},
        cwd=home,
        capture_output=True,
        text=True,
    )
    wall = time.perf_counter() - t0
    if done.returncode:
        raise SystemExit(
            f"{' '.join(cmd)} failed ({done.returncode}):\n{done.stdout[-2000:]}\n{done.stderr[-3000:]}"
        )
    rss = re.search(r"Maximum resident set size \(kbytes\): (\d+)", done.stderr)
    manifest = json.loads((out / "manifest.json").read_text())
    return {"wall": wall, "rss": int(rss.group(1)) / 1024 if rss else float("nan"), "manifest": manifest}


def met(ok: bool, applies: bool) -> str:
    return ("yes" if ok else "**no**") if applies else "- (target at its size)"


def report(
    args: argparse.Namespace,
    rows: dict[str, int],
    a: dict[str, Any],
    peer: dict[str, Any],
    b: dict[str, Any],
    parts: dict[str, Any],
    c: dict[str, Any],
) -> str:
    lines, inspections = a["manifest"]["lines"], a["manifest"].get("inspections") or {}
    full = args.items == 1_000_000
    out = [
        "**(a) ingest of the export into a fresh folder**\n",
        "| read | item rows | header rows | parties rows | wall s | item rows/s | peak RSS MB | "
        "lines loaded | lines rejected | inspections loaded | target (1,000,000 item rows) | met |",
        "|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|---|---|",
    ]
    for what, run, target in (("chunks of 200,000 rows (default)", a, True), ("whole (peer)", peer, False)):
        done = run["manifest"]["lines"]
        out.append(
            f"| {what} | {rows['items']:,} | {rows['header']:,} | {rows['parties']:,} | {run['wall']:.1f} | "
            f"{rows['items'] / run['wall']:,.0f} | {run['rss']:,.0f} | {done['rows_loaded']:,} | "
            f"{done['rows_rejected']:,} | {inspections.get('rows_loaded', 0):,} | "
            + ("<= 60 s, < 2,048 MB | " if target else "- | ")
            + (f"{met(run['wall'] <= 60 and run['rss'] < 2048, full)} |" if target else "- |")
        )
    out.append(
        f"\nChunks against the whole file, same run: peak RSS {a['rss'] / peer['rss']:.2f}x, "
        f"wall time {a['wall'] / peer['wall']:.2f}x."
    )
    out += [
        "\n**(b) the day appended (`--append`) into a copy of (a)'s folder**\n",
        "| folder | day item rows | into lines | wall s | peak RSS MB | loaded | rejected | added | "
        "skipped | replaced | target | met |",
        "|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|---|---|",
    ]
    for what, run in (("one lines file", b), ("month partitions", c)):
        appended = (run["manifest"].get("appends") or [{}])[-1]
        counts = appended.get("lines_appended", {})
        day = run["manifest"]["lines"]
        out.append(
            f"| {what} | {rows['day_items']:,} | {lines['rows_loaded']:,} | {run['wall']:.1f} | "
            f"{run['rss']:,.0f} | {day['rows_loaded']:,} | {day['rows_rejected']:,} | "
            f"{counts.get('added', 0):,} | {counts.get('repeated_skipped', 0):,} | "
            f"{counts.get('replaced', 0):,} | <= 5 s (5,000 lines into 1,000,000) | "
            f"{met(run['wall'] <= 5, full and args.day_items == 5000)} |"
        )
    out.append(
        "\nThe export ingested `--partitioned` (month partitions) for the second row: "
        f"{parts['wall']:.1f} s, "
        f"{parts['rss']:,.0f} MB peak. The append into month partitions against one file, same run: "
        f"wall time {c['wall'] / b['wall']:.2f}x."
    )
    return "\n".join(out)


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--items", type=int, default=1_000_000, help="item rows of the export")
    parser.add_argument("--day-items", type=int, default=5_000, help="item rows of the appended day")
    parser.add_argument("--seed", type=int, default=7)
    parser.add_argument("--work", type=Path, default=Path("/tmp/roundabout-bench-ingest"))
    args = parser.parse_args()
    if args.items < 1 or args.day_items < 1:
        parser.error("--items and --day-items must be at least 1")
    if not CLI.exists() or not Path("/usr/bin/time").exists():
        raise SystemExit(f"needs {CLI} (install the project into .venv) and /usr/bin/time")
    data, rows = generate(args)
    run = args.work / "run"
    shutil.rmtree(run, ignore_errors=True)
    print("(a) ingest", file=sys.stderr)
    a = ingest(data, "", run / "full", False, run / "home-a")
    print("(a) ingest, the peer: the items file in one chunk", file=sys.stderr)
    peer = ingest(data, "", run / "whole", False, run / "home-p", chunk_rows=rows["items"] + 1)
    shutil.copytree(run / "full", run / "appended")
    print("(b) append", file=sys.stderr)
    b = ingest(data, "day_", run / "appended", True, run / "home-b")
    print("(c) ingest into month partitions, then the day appended", file=sys.stderr)
    parts = ingest(data, "", run / "parts", False, run / "home-c", partitioned=True)
    shutil.copytree(run / "parts", run / "parts-appended")
    c = ingest(data, "day_", run / "parts-appended", True, run / "home-d")
    print(report(args, rows, a, peer, b, parts, c))
    print(f"\nfolders: {run / 'full'} (rejects.csv), {run / 'appended'}")


if __name__ == "__main__":
    main()
