"""How well the product finds odd consignments it has never seen, without labels (the oddness suite).

    .venv/bin/python bench/bench_oddness.py [--train-lines 100000 --train-seed 7 --test-lines 100000
        --test-seed 11 --per-kind 40 --months 3 --alter-seed 0 --workdir bench/.cache/oddness
        --baseline-json FILE]

Simulates a training world and fits the risk model on it with the training job's own steps
(`training.split_data`, `training.fit.fit_risk_model`, default TrainConfig, no MLflow), simulates a test
world with another seed, plants odd lines in its last `--months` months (`simulation.oddities.alter_data`:
`--per-kind` honest import lines per kind and per combination, their outcomes dropped) and scores the
whole test world, unaltered and altered, as `roundabout score` does (`RiskModel.score_data`). Prints
markdown tables:
- per kind, all singles, all combos, all: recall of the altered lines at 1, 5, 10% inspection rates by
  `risk_score`, `anomaly_score` and, when the scores frame has it, `oddness_score`; the inspection rate is
  a share of all scored import lines of the altered test world (top lines by the score); and the share of
  altered lines the model routes to the red or yellow channel;
- planted schemes' recall at 5% by risk (top 5% of all lines) on the unaltered and the altered world;
- the share of honest lines (no scheme, not altered) in the red and yellow channels, over the whole world
  and over the months the altered lines come from.
Worlds and the model are cached in `--workdir` (gitignored), keyed by their options and a hash of the code
that makes them, so a rerun only alters and scores; a change to the model's code retrains.
"""

import argparse
import hashlib
import json
import os
import platform
import sys
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from datetime import date
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
from rich.console import Console
from rich.progress import Progress, SpinnerColumn, TextColumn, TimeElapsedColumn

ROOT = Path(__file__).resolve().parents[1]
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

from roundabout.data.io import CanonicalData, read_folder, write_folder  # noqa: E402
from roundabout.simulation import SimulationConfig, simulate  # noqa: E402
from roundabout.simulation.oddities import OdditiesConfig, alter_data  # noqa: E402
from roundabout.training.metrics import rate_key, top_mask  # noqa: E402
from tests.support.oddness import RATES, recall_by_kind  # noqa: E402

#: Score columns reported, in order, when the scores frame has them.
SCORES = ("risk_score", "anomaly_score", "oddness_score")
SHORT = {"risk_score": "risk", "anomaly_score": "anomaly", "oddness_score": "oddness"}
#: Code that makes a world, and code that makes (or scores) a model: their hashes key the caches.
WORLD_CODE = ("simulation", "data", "reference")
MODEL_CODE = ("data", "features", "models", "training", "reference")
err = Console(stderr=True)


def code_hash(packages: tuple[str, ...]) -> str:
    digest = hashlib.sha256()
    for package in packages:
        for path in sorted((ROOT / "roundabout" / package).rglob("*.py")):
            digest.update(str(path.relative_to(ROOT)).encode() + path.read_bytes())
    return digest.hexdigest()[:10]


@contextmanager
def steps(total: int) -> Iterator[Callable[[str], None]]:
    """A Rich progress line over the run's named steps (on stderr: stdout keeps the tables)."""
    columns = (SpinnerColumn(), TextColumn("[bold]{task.description}"), TimeElapsedColumn())
    with Progress(*columns, console=err) as progress:
        task = progress.add_task("oddness", total=total)

        def mark(step: str) -> None:
            progress.update(task, description=f"oddness: {step}", advance=1)

        yield mark


def world(workdir: Path, lines: int, seed: int) -> CanonicalData:
    """The simulated world of `lines` and `seed`, written once under `workdir`."""
    folder = workdir / f"world-{lines}-{seed}-{code_hash(WORLD_CODE)}"
    if not (folder / "manifest.json").exists():
        write_folder(simulate(SimulationConfig(n_lines=lines, seed=seed)), folder)
    return read_folder(folder)


def trained_model(workdir: Path, train: CanonicalData, key: str) -> Any:
    """The risk model fitted on `train` by the training job's steps, saved once under `workdir`."""
    from roundabout.models.risk_model import RiskModel
    from roundabout.training import TrainConfig
    from roundabout.training.fit import fit_risk_model
    from roundabout.training.split import split_data

    folder = workdir / f"model-{key}-{code_hash(MODEL_CODE)}"
    if not (folder / "model.json").exists():
        config = TrainConfig()
        fit_risk_model(split_data(train, config.split), config).model.save(folder)
    return RiskModel.load(folder)


def score_columns(scores: pd.DataFrame) -> list[str]:
    return [c for c in SCORES if c in scores.columns]


def channel_shares(
    scores: pd.DataFrame, lines: pd.DataFrame, honest: np.ndarray, since: pd.Timestamp
) -> dict:
    """Share of `honest` lines in the red and yellow channels, over all lines and since `since`."""
    channel = scores["channel"].to_numpy(dtype=object)
    recent = (lines["date"] > since).to_numpy()
    out = {}
    for name, mask in (("all", honest), ("window", honest & recent)):
        out[name] = {c: float((channel[mask] == c).mean()) for c in ("red", "yellow")} | {
            "lines": int(mask.sum())
        }
    return out


def scheme_recall(scores: pd.DataFrame, truth: pd.DataFrame, rate: float = 0.05) -> float:
    """Recall of circumvention lines among the top `rate` of all lines by risk."""
    positive = truth.set_index("line_id")["is_circumvention"].reindex(scores["line_id"]).to_numpy(dtype=bool)
    caught = top_mask(scores["risk_score"].to_numpy(), rate) & positive
    return float(caught.sum() / positive.sum()) if positive.any() else float("nan")


def measure(
    base: CanonicalData, altered: CanonicalData, manifest: pd.DataFrame, plain: pd.DataFrame,
    odd: pd.DataFrame, months: int,
) -> dict[str, Any]:  # fmt: skip
    """Every figure of the report, from the unaltered and altered worlds' scores."""
    lines = altered.lines
    imports = (lines["direction"] == "import").to_numpy()
    by_id = odd.set_index("line_id")
    kinds: dict[str, Any] = {}
    for column in score_columns(odd):
        for name, row in recall_by_kind(by_id.loc[imports, column], manifest, RATES).items():
            kinds.setdefault(name, {"lines": int(row.pop("lines"))})[column] = row
    flagged = by_id["channel"].isin(["red", "yellow"])
    for name in kinds:
        ids = manifest["line_id"] if name == "all" else manifest.loc[_group(manifest, name), "line_id"]
        kinds[name]["red_or_yellow"] = float(flagged.reindex(ids).mean()) if len(ids) else float("nan")
    since = lines["date"].max() - pd.DateOffset(months=months)
    scheme = base.truth["is_circumvention"].to_numpy(dtype=bool)
    altered_mask = lines["line_id"].isin(manifest["line_id"]).to_numpy()
    return {
        "population": {"import_lines": int(imports.sum()), "altered_lines": len(manifest)},
        "kinds": kinds,
        "schemes_recall_at_5pct": {
            "unaltered": scheme_recall(plain, base.truth),
            "altered": scheme_recall(odd, altered.truth),
            "scheme_lines": int(scheme.sum()),
        },
        "honest_channels": {
            "unaltered": channel_shares(plain, base.lines, ~scheme & ~altered_mask, since),
            "altered": channel_shares(odd, lines, ~scheme & ~altered_mask, since),
        },
    }


def _group(manifest: pd.DataFrame, name: str) -> pd.Series:
    if name == "all singles":
        return ~manifest["combo"]
    if name == "all combos":
        return manifest["combo"]
    return manifest["kind"] == name


def print_report(figures: dict[str, Any], columns: list[str]) -> None:
    pop = figures["population"]
    print(f"Inspection rate = share of the {pop['import_lines']:,} scored import lines of the altered test "
          f"world ({pop['altered_lines']:,} altered), top lines by the score.\n")  # fmt: skip
    head = [
        f"{SHORT[c]} {rate_key(r).removeprefix('at_').replace('pct', '%')}" for c in columns for r in RATES
    ]
    print("| kind | lines | " + " | ".join(head) + " | red/yellow |")
    print("|---|---:|" + "---:|" * len(head) + "---:|")
    for name, row in figures["kinds"].items():
        label = f"**{name}**" if name.startswith("all") else name
        cells = [f"{row[c][rate_key(r)]:.2f}" for c in columns for r in RATES]
        print(f"| {label} | {row['lines']} | " + " | ".join(cells) + f" | {row['red_or_yellow']:.2f} |")
    s = figures["schemes_recall_at_5pct"]
    print(f"\nPlanted schemes ({s['scheme_lines']:,} lines), recall at 5% of all lines by risk: "
          f"unaltered {s['unaltered']:.3f}, altered {s['altered']:.3f}\n")  # fmt: skip
    print(
        "| honest lines (no scheme, not altered) | lines | red | yellow | last months: lines | red | yellow |"
    )
    print("|---|---:|---:|---:|---:|---:|---:|")
    for name, part in figures["honest_channels"].items():
        a, w = part["all"], part["window"]
        print(f"| {name} world | {a['lines']:,} | {a['red']:.2%} | {a['yellow']:.2%} | {w['lines']:,} | "
              f"{w['red']:.2%} | {w['yellow']:.2%} |")  # fmt: skip


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__.split("\n")[0], formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--train-lines", type=int, default=100_000)
    parser.add_argument("--train-seed", type=int, default=7)
    parser.add_argument("--test-lines", type=int, default=100_000)
    parser.add_argument("--test-seed", type=int, default=11)
    parser.add_argument("--per-kind", type=int, default=40)
    parser.add_argument("--months", type=int, default=3, help="Altered lines come from the last MONTHS")
    parser.add_argument("--alter-seed", type=int, default=0)
    parser.add_argument("--workdir", type=Path, default=ROOT / "bench" / ".cache" / "oddness")
    parser.add_argument("--baseline-json", type=Path, default=None, help="Also write the figures as JSON")
    args = parser.parse_args()
    if args.train_seed == args.test_seed:
        parser.error(
            "--test-seed must differ from --train-seed: the test world must be one the model never saw"
        )
    args.workdir.mkdir(parents=True, exist_ok=True)
    config = OdditiesConfig(per_kind=args.per_kind, months=args.months, seed=args.alter_seed)

    timings: dict[str, float] = {}
    start = time.perf_counter()
    with steps(6) as mark:
        for step in ("training world", "model", "test world", "alter", "score unaltered", "score altered"):
            mark(step)
            t = time.perf_counter()
            if step == "training world":
                train = world(args.workdir, args.train_lines, args.train_seed)
            elif step == "model":
                model = trained_model(args.workdir, train, f"{args.train_lines}-{args.train_seed}")
            elif step == "test world":
                test = world(args.workdir, args.test_lines, args.test_seed)
            elif step == "alter":
                altered = alter_data(test, train.lines, config)
            elif step == "score unaltered":
                plain = model.score_data(test)
            else:
                odd = model.score_data(altered.data)
            timings[step] = time.perf_counter() - t
    total = time.perf_counter() - start

    figures = measure(test, altered.data, altered.manifest, plain, odd, args.months)
    columns = score_columns(odd)
    machine = f"{platform.machine()}, {os.cpu_count()} cores, Python {platform.python_version()}"
    print(f"Machine: {machine}, {date.today()}; wall time {total:.0f} s "
          f"({', '.join(f'{k} {v:.0f} s' for k, v in timings.items())})\n")  # fmt: skip
    print_report(figures, columns)
    if args.baseline_json:
        figures["meta"] = {
            "args": {k: str(v) for k, v in vars(args).items()},
            "oddities": config.model_dump(mode="json"),
            "score_columns": columns,
            "machine": machine,
            "date": str(date.today()),
            "seconds": timings | {"total": total},
        }
        args.baseline_json.parent.mkdir(parents=True, exist_ok=True)
        args.baseline_json.write_text(json.dumps(figures, indent=1) + "\n")
        err.print(f"wrote {args.baseline_json}")


if __name__ == "__main__":
    main()
