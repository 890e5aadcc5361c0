"""Shared set-up of the reliability runs (fuzz_api, soak, crash): the repo on the path, a registry.

The registry (a 20,000-line simulated world trained once) is kept under `--workdir` and reused by the
next run; the service itself is a real `roundabout serve` process, as in tests/serving.
"""

import sys
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
if str(REPO) not in sys.path:
    sys.path.insert(0, str(REPO))

from tests.support.server import Registry, registry_at  # noqa: E402

DEFAULT_WORKDIR = Path("/tmp/roundabout-reliability")


def registry(workdir: Path) -> Registry:
    """The run's registry under `workdir/registry`, trained there on first use (about 30 s)."""
    print(f"registry: {workdir / 'registry'} (trained on first use)", flush=True)
    return registry_at(workdir / "registry")
