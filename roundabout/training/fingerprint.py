"""What a model was trained on, in a few hashes: the content of the data files, the split, the config.

The content hash covers the bytes of every canonical file of the data folders (not their paths), so the
same simulated world written again, or copied elsewhere, has the same hash; with the config hash it tells
whether the registry already holds the version a run would make (`roundabout demo` reuses it).
"""

import hashlib
from pathlib import Path
from typing import Any

from roundabout.data.dataset import LINES_DIR, is_partitioned, part_files
from roundabout.data.io import INSPECTIONS_FILE, LINES_FILE, TRUTH_FILE
from roundabout.training.config import TrainConfig
from roundabout.training.split import Split

#: Options that do not change the model: where it is logged and under which name.
_NOT_THE_MODEL = {"experiment", "registered_model"}


def data_folders(data_dir: Path, config: TrainConfig) -> list[Path]:
    """Every folder a training reads: the data folder, plus the fixed validation and holdout folders."""
    folders = [Path(data_dir)]
    if config.split.kind == "folders" and config.split.valid_data and config.split.holdout_data:
        folders += [Path(config.split.valid_data), Path(config.split.holdout_data)]
    return folders


def content_hash(folders: list[Path]) -> str:
    """SHA-256 of the canonical files (lines, or each part of partitioned lines, inspections, truth) of
    `folders`, in order."""
    digest = hashlib.sha256()
    for folder in folders:
        parts = part_files(folder) if is_partitioned(folder) else {}
        named = [(f"{LINES_DIR}/{p.parent.name}/{p.name}", p) for files in parts.values() for p in files]
        named += [(name, Path(folder) / name) for name in (LINES_FILE, INSPECTIONS_FILE, TRUTH_FILE)]
        for name, path in named:
            if path.exists():
                digest.update(name.encode())
                with path.open("rb") as fh:
                    for block in iter(lambda fh=fh: fh.read(1 << 20), b""):
                        digest.update(block)
    return digest.hexdigest()


def config_hash(config: TrainConfig) -> str:
    """SHA-256 of every option that shapes the model (canonical JSON)."""
    body = config.model_dump_json(exclude=_NOT_THE_MODEL)
    return hashlib.sha256(body.encode()).hexdigest()


def fingerprint(folders: list[Path], split: Split) -> dict[str, Any]:
    """Content hash of the data files, row counts and the date range of each split."""
    data = split.data
    return {
        "content_hash": content_hash(folders),
        "lines": len(data.lines),
        "inspections": len(data.inspections),
        "truth": data.truth is not None,
        "extra_columns": data.extra_columns,
        "splits": split.summary(),
    }
