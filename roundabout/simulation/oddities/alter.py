"""`alter_world`: honest import lines of a held-out world turned into odd consignments, with a manifest.

The product must find lines unlike any it has seen without labels saying so. This plants such lines in a
world the model never trained on: honest import lines (not part of a scheme, no violation found) of the
last months are altered one kind (or one combination) at a time, each line at most once, every drawn value
from one seeded generator, so the same config and data give the same altered world. An altered line keeps
its id and every field its kind does not name, passes the data contract as its original did, and carries
no inspection outcome: its label belonged to the consignment before the change.
"""

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date
from typing import Any

import numpy as np
import pandas as pd

from roundabout.data.io import CanonicalData
from roundabout.data.schema import INSPECTION_COLUMNS, LINE_COLUMNS
from roundabout.data.validation import FormatRules, validate_lines
from roundabout.simulation.oddities.config import OdditiesConfig, parts
from roundabout.simulation.oddities.kinds import ALTERATIONS, Change, Context, fields_of
from roundabout.simulation.oddities.reference import UNSEEN_FIELDS, Seen, Usual

MANIFEST_COLUMNS: tuple[str, ...] = ("line_id", "kind", "combo", "fields", "date", "hs6", "description")
#: Outcome columns a lines frame may carry when outcomes were joined onto it.
LABEL_COLUMNS: tuple[str, ...] = tuple(c for c in INSPECTION_COLUMNS if c != "line_id")


@dataclass
class AlteredWorld:
    """A canonical world with odd lines planted (their outcomes dropped) and the manifest of what changed."""

    data: CanonicalData
    manifest: pd.DataFrame


def _record(row: dict[str, Any]) -> dict[str, Any]:
    return {k: (None if not isinstance(v, list | tuple) and pd.isna(v) else v) for k, v in row.items()}


def _pool(lines: pd.DataFrame, config: OdditiesConfig, exclude: set[str]) -> np.ndarray:
    """Positions of the import lines of the last `config.months` months that may be altered, by line id."""
    dates = pd.to_datetime(lines["date"])
    start = dates.max() - pd.DateOffset(months=config.months)
    ok = (lines["direction"] == "import").to_numpy(bool) & (dates > start).to_numpy()
    ok &= ~lines["line_id"].isin(exclude).to_numpy()
    positions = np.flatnonzero(ok)
    return positions[np.argsort(lines["line_id"].to_numpy(dtype=object)[positions], kind="stable")]


def _check_kinds(config: OdditiesConfig) -> None:
    for kind in config.kinds:
        fields = fields_of(kind)
        if len(set(fields)) != len(fields):
            raise ValueError(f"{kind!r} changes a field twice: {', '.join(fields)}")


def _plan(
    lines: pd.DataFrame, pool: np.ndarray, ctx: Context, config: OdditiesConfig
) -> list[tuple[str, int, list[Change]]]:
    """(kind, position, changes) of every altered line: per kind, lines drawn from the pool in a random
    order until `per_kind` could carry it; a line is altered once."""
    rng = np.random.default_rng(config.seed)
    records = {int(p): _record(r) for p, r in zip(pool, lines.iloc[pool].to_dict("records"), strict=True)}
    free = np.ones(len(pool), dtype=bool)
    plan: list[tuple[str, int, list[Change]]] = []
    for kind in config.kinds:
        taken = 0
        for i in rng.permutation(np.flatnonzero(free)):
            line = records[int(pool[i])]
            changes: list[Change] = []
            for part in parts(kind):
                made = ALTERATIONS[part][1](line, ctx, rng)
                if made is None:
                    break
                changes += made
            else:
                for change in changes:
                    if change.field in UNSEEN_FIELDS:
                        ctx.seen.plant(change.field, str(line["hs_code"]), str(change.after))
                plan.append((kind, int(pool[i]), changes))
                free[i] = False
                taken += 1
                if taken == config.per_kind:
                    break
    return plan


def _rejected(frame: pd.DataFrame) -> set[str]:
    """Line ids of `frame` the data contract rejects (dates up to the frame's own latest are allowed)."""
    latest = max(pd.to_datetime(frame["date"]).max().date(), date.today())
    digits = tuple(sorted({len(c) for c in frame["hs_code"].dropna().astype(str)} & {6, 8, 10})) or (10,)
    rules = FormatRules(max_date=latest, hs_code_digits=digits)
    result = validate_lines(frame[list(LINE_COLUMNS)], rules)
    return set(frame["line_id"].astype(str)) - set(result.valid["line_id"].astype(str))


def alter_world(
    test_lines: pd.DataFrame,
    reference: pd.DataFrame | Sequence[pd.DataFrame],
    config: OdditiesConfig | None = None,
    exclude: set[str] | None = None,
) -> tuple[pd.DataFrame, pd.DataFrame]:
    """`test_lines` with odd lines planted, and the manifest (`MANIFEST_COLUMNS`: one row per altered line).

    `reference` is what "usual" and "never seen" are measured against (the training world's lines), beside
    the test lines dated on or before each altered line; `exclude` names lines never to alter (scheme lines,
    violations found). Outcome columns joined onto the lines (`LABEL_COLUMNS`) are emptied on altered lines.
    Raises ValueError if an altered line fails the data contract its original passed.
    """
    config = config or OdditiesConfig()
    _check_kinds(config)
    refs = [reference] if isinstance(reference, pd.DataFrame) else list(reference)
    lines = test_lines.reset_index(drop=True)
    ctx = Context(Usual.of(pd.concat(refs, ignore_index=True)), Seen.of(refs, lines), config)
    plan = _plan(lines, _pool(lines, config, exclude or set()), ctx, config)

    out = lines.copy()
    positions = np.array([p for _, p, _ in plan], dtype=np.int64)
    for name in {c.field for _, _, changes in plan for c in changes}:
        at = [(p, c.after) for _, p, changes in plan for c in changes if c.field == name]
        column = out[name].copy()
        column.iloc[[p for p, _ in at]] = [v for _, v in at]
        out[name] = column.astype(lines[name].dtype)
    for name in LABEL_COLUMNS:
        if name in out.columns and len(positions):
            out.loc[positions, name] = None
    out.index = test_lines.index

    broken = _rejected(out.iloc[positions]) - _rejected(lines.iloc[positions]) if len(positions) else set()
    if broken:
        raise ValueError(f"altered lines break the data contract: {sorted(broken)[:5]}")
    manifest = pd.DataFrame(
        [
            {
                "line_id": str(lines.at[p, "line_id"]),
                "kind": kind,
                "combo": config.is_combo(kind),
                "fields": ",".join(fields_of(kind)),
                "date": lines.at[p, "date"],
                "hs6": str(lines.at[p, "hs_code"])[:6],
                "description": "; ".join(c.describe() for c in changes),
            }
            for kind, p, changes in plan
        ],
        columns=list(MANIFEST_COLUMNS),
    )
    return out, manifest


def alter_data(
    data: CanonicalData,
    reference: pd.DataFrame | Sequence[pd.DataFrame],
    config: OdditiesConfig | None = None,
) -> AlteredWorld:
    """`alter_world` on a canonical world: scheme lines (truth) and lines whose inspection found a violation
    are never altered, and the outcomes of altered lines are dropped from `inspections` (truth is kept:
    an altered line is still honest)."""
    exclude = set(data.inspections.loc[data.inspections["outcome"] == "violation", "line_id"].astype(str))
    if data.truth is not None:
        exclude |= set(data.truth.loc[data.truth["is_circumvention"].astype(bool), "line_id"].astype(str))
    lines, manifest = alter_world(data.lines, reference, config, exclude)
    kept = ~data.inspections["line_id"].isin(manifest["line_id"])
    inspections = data.inspections.loc[kept].reset_index(drop=True)
    return AlteredWorld(CanonicalData(lines, inspections, data.truth, dict(data.extra_columns)), manifest)
