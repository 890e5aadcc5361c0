"""Data folders stacked into one history, and a held-out folder placed beside its history.

Point-in-time features of a line see the lines and outcomes dated before it. Another administration's
files come as separate folders (train, valid, test): stacked in order they are one history again. A
held-out period (loaded with `roundabout ingest --no-outcomes`, or whose labels are kept for evaluation
only) is placed after its history: its lines then see the history's lines and outcomes, and the lines of
their own period before them, but never its own outcomes, which a model must not see before it is
evaluated on them.
"""

from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pandas as pd

from roundabout.data.io import CanonicalData, read_folder
from roundabout.errors import ConfigError


def stack(parts: Sequence[CanonicalData], names: Sequence[str], what: str) -> CanonicalData:
    """`parts` in order as one history: they must declare the same extra columns and share no line
    (`names` name them and `what` the option in the errors). Truth is kept only when every part has it."""
    extra = parts[0].extra_columns
    for part, name in zip(parts[1:], names[1:], strict=True):
        if part.extra_columns != extra:
            raise ConfigError(
                f"{what}: {names[0]} and {name} declare different extra columns "
                f"({_columns(extra)} vs {_columns(part.extra_columns)}): load them with the same mapping"
            )
    lines = pd.concat([p.lines for p in parts], ignore_index=True)
    repeated = lines["line_id"].duplicated(keep=False).to_numpy()
    if repeated.any():
        dup = lines["line_id"].to_numpy(dtype=object)[repeated][0]
        owner = np.repeat(np.arange(len(parts)), [len(p.lines) for p in parts])
        where = [names[i] for i in dict.fromkeys(owner[(lines["line_id"] == dup).to_numpy()])]
        within = f"twice in {where[0]}" if len(where) == 1 else f"in both {' and '.join(where)}"
        raise ConfigError(f"{what}: line_id {dup!r} is {within}")
    inspections = pd.concat([p.inspections for p in parts], ignore_index=True)
    truths = [p.truth for p in parts]
    truth = pd.concat(truths, ignore_index=True) if all(t is not None for t in truths) else None
    return CanonicalData(lines, inspections, truth, dict(extra))


def read_history(folders: Sequence[Path], what: str = "--history") -> CanonicalData:
    """The canonical folders of a history, read and stacked in the order given."""
    if not folders:
        raise ConfigError(f"{what}: no folder given")
    return stack([read_folder(Path(f)) for f in folders], [str(f) for f in folders], what)


@dataclass
class Beside:
    """A held-out folder after its history: every line, the history's outcomes only, and which lines are
    the held-out folder's (`target`, in that folder's order)."""

    data: CanonicalData
    target: np.ndarray


def beside_history(
    held_out: CanonicalData, history: CanonicalData, names: tuple[str, str] = ("--history", "--data")
) -> Beside:
    """`held_out` placed after `history`; its own outcomes (and truth) are left out of the result, so the
    features built from it see the history's outcomes only."""
    lines_only = CanonicalData(held_out.lines, held_out.inspections.iloc[:0], None, held_out.extra_columns)
    data = stack([history, lines_only], names, "history")
    data.truth = None
    target = np.zeros(len(data.lines), dtype=bool)
    target[len(history.lines) :] = True
    return Beside(data, target)


def _columns(extra: dict[str, str]) -> str:
    return ", ".join(sorted(extra)) or "none"
