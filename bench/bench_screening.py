"""Sanctions-list name screening: match quality, per-query latency, batch and single-line cost, beside a
brute-force rapidfuzz peer measured in the same run.

    .venv/bin/python bench/bench_screening.py [--seeds 1 2 3 --lines 1000000 --runs 2 --peer-queries 200
        --peer-sample 100 --out bench/results/screening.json]

1. Quality, per seed: a simulated list of 300 Russian and 150 third-country entities and its pair set (1,000
   spelling variants of listed names, 1,000 honest names). The product's top match
   (`ScreeningIndex.match`) at its default threshold; the peer's (`rapidfuzz.process.extractOne`, WRatio,
   `default_process`, over every name and alias) at the cutoff, swept, of precision >= 0.95 and of best F1.
   A positive counts when the top match is its entry; any match of a negative, and a positive's match to
   another entry, count against precision.
2. Latency: a 50,000-entry list (about 150,000 names and aliases): index build time and memory
   (tracemalloc), then `match(name, country, limit=1)` once per query over 2,000 names (half variants of
   listed names, half unlisted firms): with `analyse`'s cache just cleared, after 500 other names, and
   again (the name's analysis cached); the peer on `--peer-queries` of them.
3. Batch: `features.parties.party_columns` on `--lines` lines with 30,000 distinct counterparty names (5%
   variants of listed names) and 5,000 trader names; the peer timed on `--peer-sample` distinct names and
   extrapolated to all of them.
4. Single line: `party_columns` on one line (counterparty and trader, names never seen), 2,000 lines.

The simulated list draws names from a few stems (50 Russian, 36 English, 8-10 per third country): at most
about 31,000 distinct entities. For the 50,000-entry list `wider_stems` adds invented words to each pool,
as many times over as that list is larger than the 450-entry one, so a stem names about as many entries in
both. Timing parts run `--runs` times, the better run is reported (all runs are in the JSON). Writes the
figures to `--out`, with the commit and a hash of the code measured, and the precision-recall plot beside
it (.png).
"""

import argparse
import gc
import hashlib
import json
import os
import platform
import subprocess
import sys
import time
import tracemalloc
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from datetime import date
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
from rapidfuzz import fuzz, process, utils
from rich.console import Console
from rich.progress import Progress, SpinnerColumn, TextColumn, TimeElapsedColumn

ROOT = Path(__file__).resolve().parents[1]
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

from roundabout.features.parties import party_columns  # noqa: E402
from roundabout.parties.entries import ListEntry  # noqa: E402
from roundabout.parties.index import ListVersion, LoadedList, ScreeningIndex  # noqa: E402
from roundabout.parties.names import analyse  # noqa: E402
from roundabout.simulation import parties as sim  # noqa: E402
from roundabout.simulation.parties import lexicon  # noqa: E402
from roundabout.simulation.parties import names as sim_names  # noqa: E402

START, END = date(2022, 2, 24), date(2026, 6, 30)
EPOCH = date(1970, 1, 1).toordinal()
BIG = (41_000, 9_000)  # Russian, third-country: about 3 names per entry, 150,000 in all
#: Names drawn from one pair set on the large list for each use: (unlisted, variants of listed names).
USES = {"queries": (1_000, 1_000), "warmup": (250, 250), "counterparties": (28_500, 1_500),
        "traders": (5_000, 0), "single": (1_900, 100), "single_traders": (2_000, 0)}  # fmt: skip
#: The code measured (its state is recorded with the figures: it was changing while the bench was written).
CODE = ("roundabout/parties", "roundabout/features/parties.py", "roundabout/simulation/parties")
ON_TOP = "(any, typo or case change on top)"
Named = list[tuple[str, str | None]]
err = Console(stderr=True)


def code_state() -> dict[str, str]:
    """The commit, a hash of the code measured and whether git sees it changed since the commit."""
    files = sorted(
        f for part in CODE for f in ((ROOT / part).rglob("*.py") if "." not in part else [ROOT / part])
    )
    git = lambda *a: subprocess.run(["git", *a], cwd=ROOT, capture_output=True, text=True).stdout.strip()  # noqa: E731
    digest = hashlib.sha256(b"".join(f.read_bytes() for f in files)).hexdigest()[:12]
    return {"head": git("rev-parse", "--short", "HEAD"), "code_sha256": digest,
            "uncommitted": git("status", "--porcelain", "--", *CODE)}  # fmt: skip


def build(entries: Sequence[ListEntry]) -> ScreeningIndex:
    return ScreeningIndex.build([LoadedList(ListVersion("simulated", 1), entries)])


def peer(query: str, choices: list[str]) -> tuple[str, float, int] | None:
    return process.extractOne(query, choices, scorer=fuzz.WRatio, processor=utils.default_process)


def invented(rng: np.random.Generator, n: int, cyrillic: bool, taken: set[str]) -> tuple[str, ...]:
    """`n` new capitalised words of 2-3 syllables, none in `taken` (which grows) nor a common word."""
    consonants, vowels = ("бвгдзклмнпрстфхч", "аеиоуя") if cyrillic else ("bdfgklmnprstvz", "aeiou")
    out: list[str] = []
    while len(out) < n:
        size = int(rng.integers(2, 4)) * 2 + int(rng.random() < 0.5)
        word = "".join((p := (consonants, vowels)[k % 2])[rng.integers(len(p))] for k in range(size))
        if word not in taken and lexicon.distinctive_words(word):
            taken.add(word)
            out.append(word.capitalize())
    return tuple(out)


@contextmanager
def wider_stems(factor: int, seed: int = 0) -> Iterator[None]:
    """The simulated list's stem pools, each `factor` times as large (invented words added)."""
    saved = ru, en, local = sim_names.RU_STEMS, sim_names.EN_STEMS, sim_names.LOCAL_STEMS
    rng = np.random.default_rng(seed)
    taken = {w.casefold() for w in (*ru, *en, *(w for s in local.values() for w in s))}
    more = lambda s: s + invented(rng, len(s) * (factor - 1), lexicon.has_cyrillic(s[0]), taken)  # noqa: E731
    sim_names.RU_STEMS, sim_names.EN_STEMS = more(ru), more(en)
    sim_names.LOCAL_STEMS = {country: more(stems) for country, stems in local.items()}
    try:
        yield
    finally:
        sim_names.RU_STEMS, sim_names.EN_STEMS, sim_names.LOCAL_STEMS = saved


def sweep(score: np.ndarray, right: np.ndarray, n_pos: int) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """(cutoff, precision, recall) of "the top match if its score >= cutoff" at every distinct score > 0."""
    order = np.argsort(-score, kind="stable")
    s, tp = score[order], np.cumsum(right[order])
    k = np.flatnonzero(np.r_[s[1:] != s[:-1], True] & (s > 0))
    return s[k], tp[k] / (k + 1), tp[k] / n_pos


def operating_points(score: np.ndarray, right: np.ndarray, n_pos: int) -> dict[str, dict[str, float]]:
    cut, prec, rec = sweep(score, right, n_pos)
    i = int(np.argmax(np.where(prec >= 0.95, rec, -1.0)))
    j = int(np.argmax(2 * prec * rec / np.maximum(prec + rec, 1e-12)))
    point = lambda k: {"cutoff": cut[k], "precision": prec[k], "recall": rec[k]}  # noqa: E731
    return {"at_precision_95": point(i), "best_f1": point(j)}


def quality(seeds: Sequence[int]) -> tuple[dict[str, Any], dict[str, tuple[np.ndarray, ...]]]:
    """Part 1: product and peer on each seed's pair set, pooled (the peer's cutoff is one for all)."""
    frames = []
    for seed in seeds:
        rng = np.random.default_rng(seed)
        entries = sim.make_listed_entities(rng, 300, 150, START, END)
        pairs = sim.pair_set(rng, entries, 1000, 1000)
        index = build(entries)
        choices = [n for e in entries for n in e.all_names()]
        owner = [e.entry_id for e in entries for _ in e.all_names()]
        rows = []
        for query, country in zip(pairs["query"], pairs["query_country"], strict=True):
            m = (index.match(query, country or None, limit=1, min_score=0.0) or [None])[0]
            p = peer(query, choices)
            rows.append((m.score if m else 0.0, m.entry_id if m else "", m.matched_name if m else "",
                         p[1] if p else 0.0, owner[p[2]] if p else ""))  # fmt: skip
        found = pd.DataFrame(rows, columns=["score", "found", "matched", "peer_score", "peer_found"])
        names = pairs["entry_id"].map({e.entry_id: e.name for e in entries})
        frames.append(pairs.join(found).assign(seed=seed, entry_name=names))
    df = pd.concat(frames, ignore_index=True)
    pos, score, peer_score = df["label"].to_numpy() == 1, df["score"].to_numpy(), df["peer_score"].to_numpy()
    right = pos & (df["found"] == df["entry_id"]).to_numpy() & (score > 0)
    peer_right = pos & (df["peer_found"] == df["entry_id"]).to_numpy() & (peer_score > 0)
    flagged, n_pos = score >= index.threshold, int(pos.sum())
    hit = right & flagged

    def pr(m: np.ndarray) -> dict[str, float]:
        return {"precision": hit[m].sum() / max(flagged[m].sum(), 1), "recall": hit[m].sum() / pos[m].sum()}

    product = {"threshold": index.threshold, **pr(np.ones(len(df), bool))} | operating_points(
        score, right, n_pos
    )
    product["per_seed"] = {s: pr((df["seed"] == s).to_numpy()) for s in seeds}
    theirs = operating_points(peer_score, peer_right, n_pos)
    peer_flag = peer_score >= theirs["at_precision_95"]["cutoff"]
    base = np.where(pos, df["kind"].str.split("+").str[0], df["kind"])
    kinds = []
    for kind in (*sim.VARIANT_KINDS, ON_TOP, *sim.NEGATIVE_KINDS):
        mask = df["kind"].str.contains("+", regex=False).to_numpy() if kind == ON_TOP else base == kind
        negative = kind in sim.NEGATIVE_KINDS
        ours, their = (flagged, peer_flag) if negative else (hit, peer_right & peer_flag)
        kinds.append({"kind": kind, "pairs": mask.sum(), "measure": "flagged" if negative else "recall",
                      "product": ours[mask].mean(), "peer": their[mask].mean()})  # fmt: skip
    show = ["seed", "query", "kind", "entry_name", "matched", "score"]
    miss = pos & ~hit
    reasons = {"nothing scored": miss & (score == 0), "right entry below threshold": miss & right,
               "another entry on top": miss & ~right & (score > 0)}  # fmt: skip
    out = {"pairs": len(df), "positives": n_pos, "product": product, "peer": theirs, "kinds": kinds,
           "missed": {"all": miss.sum()} | {k: v.sum() for k, v in reasons.items()},
           "false_positives": (flagged & ~hit).sum(),
           "missed_examples": df.loc[miss, show].head(20).to_dict("records"),
           "false_positive_examples": df.loc[flagged & ~hit, show].head(20).to_dict("records")}  # fmt: skip
    return out, {"product": sweep(score, right, n_pos), "peer": sweep(peer_score, peer_right, n_pos)}


def ms_each(fn: Callable[[Any], object], items: Sequence[Any]) -> np.ndarray:
    out = np.empty(len(items))
    for i, item in enumerate(items):
        t = time.perf_counter()
        fn(item)
        out[i] = time.perf_counter() - t
    return out * 1000


def stats(times: np.ndarray) -> dict[str, float]:
    p50, p95, p99 = np.percentile(times, [50, 95, 99])
    return {"n": len(times), "mean": times.mean(), "p50": p50, "p95": p95, "p99": p99, "max": times.max()}


def runs_of(
    n: int, once: Callable[[], dict[str, Any]], key: Callable[[dict[str, Any]], Any]
) -> dict[str, Any]:
    """`once` run `n` times: the best run by `key`, with all runs."""
    results = [once() for _ in range(n)]
    return {**min(results, key=key), "runs": results}


def seconds(fn: Callable[[], object], index: ScreeningIndex | None = None) -> dict[str, Any]:
    """Wall time of `fn` with `analyse`'s cache (and the index's kept matches) cleared first."""
    analyse.cache_clear()
    if index is not None:
        index.clear_cache()
    gc.collect()
    t = time.perf_counter()
    fn()
    return {"seconds": time.perf_counter() - t}


def shuffled(rng: np.random.Generator, items: Named) -> Named:
    return [items[i] for i in rng.permutation(len(items))]


def days(rng: np.random.Generator, first: date, last: date, n: int) -> np.ndarray:
    return rng.integers(first.toordinal() - EPOCH, last.toordinal() - EPOCH + 1, n)


def one_line(name: str, country: str | None, trader: str, day: int) -> dict[str, np.ndarray]:
    obj = lambda v: np.array([v], dtype=object)  # noqa: E731
    return {"counterparty_name": obj(name), "counterparty_country": obj(country), "trader_name": obj(trader),
            "day": np.array([day])}  # fmt: skip


def big_list(rng: np.random.Generator) -> tuple[list[ListEntry], dict[tuple[str, int], Named]]:
    """The 50,000-entry list, and (name, country or None) for each use of `USES`, by label."""
    with wider_stems(round(sum(BIG) / 450)):
        entries = sim.make_listed_entities(np.random.default_rng(0), *BIG, START, END)
    sizes = {label: [n[label] for n in USES.values()] for label in (0, 1)}
    pairs = sim.pair_set(rng, entries, sum(sizes[1]), sum(sizes[0]))
    pools: dict[tuple[str, int], Named] = {}
    for label in (0, 1):
        rows = pairs[pairs["label"] == label]
        named = [(q, c or None) for q, c in zip(rows["query"], rows["query_country"], strict=True)]
        for use, at, size in zip(USES, np.cumsum([0, *sizes[label]]).tolist(), sizes[label], strict=False):
            pools[use, label] = named[at : at + size]
    return entries, pools


def large(args: argparse.Namespace, mark: Callable[[str], None]) -> dict[str, Any]:
    """Parts 2-4 on the 50,000-entry list."""
    rng = np.random.default_rng(1)
    entries, pools = big_list(rng)
    out: dict[str, Any] = {"entries": len(entries), "names": sum(len(e.all_names()) for e in entries)}
    mark("index build")
    out["build"] = runs_of(args.runs, lambda: seconds(lambda: build(entries)), lambda r: r["seconds"])
    analyse.cache_clear()
    gc.collect()
    tracemalloc.start()
    index = build(entries)
    traced = tracemalloc.get_traced_memory()
    analyse.cache_clear()  # what stays is the index alone
    gc.collect()
    alone = tracemalloc.get_traced_memory()[0]
    tracemalloc.stop()
    out["build"] |= {"indexed": index.size[1], "traced_mb": traced[0] / 2**20, "peak_mb": traced[1] / 2**20,
                     "index_alone_mb": alone / 2**20}  # fmt: skip

    mark("latency")
    queries = shuffled(rng, pools["queries", 1] + pools["queries", 0])
    match = lambda q: index.match(q[0], q[1], limit=1)  # noqa: E731

    def latency_once() -> dict[str, Any]:
        analyse.cache_clear()
        index.clear_cache()
        cold = ms_each(match, queries)
        analyse.cache_clear()
        index.clear_cache()
        ms_each(match, pools["warmup", 1] + pools["warmup", 0])
        warm = stats(ms_each(match, queries))
        # "repeat": the same names again, as recurring parties are (analysis and matches kept)
        return {"cold": stats(cold), "warm": warm, "repeat": stats(ms_each(match, queries))}

    out["latency"] = runs_of(args.runs, latency_once, lambda r: r["warm"]["p99"])
    choices = [n for e in entries for n in e.all_names()]
    half = args.peer_queries // 2
    sample = [q for q, _ in pools["queries", 1][:half] + pools["queries", 0][:half]]
    peer_once = lambda: stats(ms_each(lambda q: peer(q, choices), sample))  # noqa: E731
    out["latency_peer"] = runs_of(args.runs, peer_once, lambda r: r["p50"])

    mark("batch")
    cp = shuffled(rng, pools["counterparties", 1] + pools["counterparties", 0])  # listed ones anywhere
    traders = np.array([q for q, _ in pools["traders", 0]], dtype=object)
    names, countries = (np.array(v, dtype=object) for v in zip(*cp, strict=True))
    weight = 1 / (np.arange(len(cp)) + 10.0)  # every name once, then a long tail
    tail = rng.choice(len(cp), args.lines - len(cp), p=weight / weight.sum())
    which = rng.permutation(np.r_[np.arange(len(cp)), tail])
    more = rng.integers(0, len(traders), args.lines - len(traders))
    who = rng.permutation(np.r_[np.arange(len(traders)), more])
    on = days(rng, date(2022, 1, 1), date(2026, 11, 30), args.lines)
    cols = {"counterparty_name": names[which], "counterparty_country": countries[which],
            "trader_name": traders[who], "day": on}  # fmt: skip
    result: dict[str, np.ndarray] = {}
    screen_all = lambda: result.update(party_columns(cols, index))  # noqa: E731
    out["batch"] = runs_of(args.runs, lambda: seconds(screen_all, index),
                           lambda r: r["seconds"])  # fmt: skip
    n_cp, n_traders = len(set(cp)), len(set(traders.tolist()))
    sample = rng.choice(np.r_[names, traders], args.peer_sample, replace=False).tolist()
    peer_ms = min(stats(ms_each(lambda q: peer(q, choices), sample))["mean"] for _ in range(args.runs))
    out["batch"] |= {"lines": args.lines, "counterparties": n_cp, "traders": n_traders,
                     "cp_listed_share": result["cp_listed"].mean(), "peer_sample": args.peer_sample,
                     "peer_ms_per_name": peer_ms, "peer_s": peer_ms * (n_cp + n_traders) / 1000}  # fmt: skip

    mark("single line")
    fresh = shuffled(rng, pools["single", 1] + pools["single", 0])
    on = days(rng, date(2026, 1, 1), date(2026, 11, 30), len(fresh)).tolist()
    lines = [one_line(*fresh[i], pools["single_traders", 0][i][0], on[i]) for i in range(len(fresh))]
    warm_lines = [one_line(n, c, n, on[0]) for n, c in pools["warmup", 0][:50]]

    def single_once() -> dict[str, Any]:
        analyse.cache_clear()  # the timed lines' names are then new to the caches
        index.clear_cache()
        ms_each(lambda c: party_columns(c, index), warm_lines)
        return stats(ms_each(lambda c: party_columns(c, index), lines))

    out["single"] = runs_of(args.runs, single_once, lambda r: r["p50"])
    return out


def plot(curves: dict[str, tuple[np.ndarray, ...]], figures: dict[str, Any], path: Path) -> None:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    fig, ax = plt.subplots(figsize=(6, 4.5))
    for label, (_, prec, rec) in curves.items():
        ax.plot(rec, prec, label=f"{label}, cutoff swept")
    ours, theirs = figures["product"], figures["peer"]["at_precision_95"]
    ax.plot(ours["recall"], ours["precision"], "o", label=f"product at its threshold {ours['threshold']:.2f}")
    ax.plot(
        theirs["recall"], theirs["precision"], "s", label=f"peer at {theirs['cutoff']:.1f} (precision 0.95)"
    )
    ax.set(xlabel="recall", ylabel="precision", ylim=(0.5, 1.01), title="Screening, simulated pair sets")
    ax.grid(alpha=0.3)
    ax.legend(loc="lower left", fontsize=8)
    fig.savefig(path, dpi=120, bbox_inches="tight")


def main() -> None:
    raw = argparse.RawDescriptionHelpFormatter
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=raw)
    parser.add_argument("--seeds", type=int, nargs="+", default=[1, 2, 3])
    parser.add_argument("--lines", type=int, default=1_000_000)
    parser.add_argument("--runs", type=int, default=2, help="runs of each timing part (the best is reported)")
    parser.add_argument("--peer-queries", type=int, default=200, help="latency queries the peer is timed on")
    parser.add_argument("--peer-sample", type=int, default=100, help="batch names the peer is timed on")
    parser.add_argument("--out", type=Path, default=ROOT / "bench" / "results" / "screening.json")
    args = parser.parse_args()
    code = code_state()
    columns = (SpinnerColumn(), TextColumn("[bold]{task.description}"), TimeElapsedColumn())
    with Progress(*columns, console=err) as progress:
        task = progress.add_task("screening", total=6)
        mark = lambda step: progress.update(task, description=f"screening: {step}", advance=1)  # noqa: E731
        mark("quality")
        figures, curves = quality(args.seeds)
        mark("50,000-entry list")
        figures |= large(args, mark)
    machine = f"{platform.machine()}, {os.cpu_count()} cores, Python {platform.python_version()}"
    figures["meta"] = {"machine": machine, "date": str(date.today()), "load_average": os.getloadavg(),
                       "args": {k: str(v) for k, v in vars(args).items()}, "code": code,
                       "code_changed_during_run": code_state() != code}  # fmt: skip
    text = json.dumps(figures, indent=1, default=lambda o: o.item() if hasattr(o, "item") else str(o))
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(text + "\n")
    plot(curves, figures, args.out.with_suffix(".png"))
    print(text)
    err.print(f"wrote {args.out} and {args.out.with_suffix('.png')}")


if __name__ == "__main__":
    main()
