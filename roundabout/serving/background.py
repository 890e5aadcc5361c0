"""The service's background tasks: following the model alias and the sanctions list versions, folding
SQLite's log back into the store, and signing checkpoints of the audit trail.

Both run off the request path for the life of the app (started and cancelled by its lifespan); a failed
tick is logged and the next one tries again, so neither task ever dies.
"""

import asyncio
import logging
from collections.abc import Callable
from pathlib import Path

from roundabout.errors import RoundaboutError
from roundabout.serving.turns import Turns
from roundabout.store import ServiceStore

log = logging.getLogger("roundabout.serving")

#: Frames a last catch-up pass may leave for the write turn: copying and syncing a few dozen pages takes
#: about a millisecond, where the ~400 left by one pass under full load held every write for ~17 ms.
CHECKPOINT_REMAINDER = 50
CHECKPOINT_PASSES = 6


def checkpoint(store: ServiceStore, writes: Turns) -> None:
    """Fold SQLite's write-ahead log back into the store file: catch up alongside the requests, then copy
    the last few frames in a write turn, where no write of this process overlaps it (nor, holding the
    write lock, of another worker's), so it completes and the next write starts the log over.

    A checkpoint that always overlaps a write never completes, and under steady load the log (and the
    index every reader maps) grew by hundreds of megabytes a minute. Each catch-up pass copies what was
    written during the one before, so the remainder shrinks fast; the turn waits only for the last one.
    """
    frames, written = store.checkpoint(), None
    for _ in range(CHECKPOINT_PASSES):
        grown = store.checkpoint()
        # Stop when the last pass found little to copy, or no less than the one before (the writes outpace
        # the passes: catching up further would only let the log grow).
        if grown - frames < CHECKPOINT_REMAINDER or (written is not None and grown - frames >= written):
            break
        frames, written = grown, grown - frames
    with writes.first():
        store.checkpoint(exclusive=True)


async def follow(check: Callable[[], str], interval: float, what: str, first: float | None = None) -> None:
    """Run `check` (the model alias's, the sanctions lists', the monitor's) every `interval` seconds until
    cancelled, the first time after `first` seconds (default: `interval`); a failed check keeps what serves
    now."""
    wait = interval if first is None else first
    while True:
        await asyncio.sleep(wait)
        wait = interval
        try:
            await asyncio.to_thread(check)
        except Exception:  # never let the follower die: the next tick tries again
            log.exception("%s check crashed", what)


async def checkpoint_periodically(store: ServiceStore, writes: Turns, interval: float) -> None:
    """Fold the store's write-ahead log into its file every `interval` seconds, off the request path."""
    while True:
        await asyncio.sleep(interval)
        try:
            await asyncio.to_thread(checkpoint, store, writes)
        except Exception as exc:  # e.g. the store is down: requests report that; try again next tick
            log.warning("store checkpoint failed: %s", type(exc).__name__)


def audit_signer(store: ServiceStore, key_file: Path) -> Callable[[], str] | None:
    """A check that signs a checkpoint of the audit trail's head when it moved (the key made on first use),
    or None when the key cannot be read or made (logged: the trail goes on, unsigned, and verify says so)."""
    from roundabout.audit.signing import Signer

    try:
        signer = Signer.from_file(key_file, create=True)
    except (OSError, RoundaboutError) as exc:
        log.error("audit checkpoints are off: the signing key %s cannot be used: %s", key_file, exc)
        return None

    def sign() -> str:
        return "signed" if store.audit.checkpoint(signer) is not None else "unchanged"

    return sign
