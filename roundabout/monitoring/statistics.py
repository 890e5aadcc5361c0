"""The statistics the monitor reports: the population stability index of binned shares and the Wilson
interval of a hit rate. Plain numpy: both are a few lines, and a monitoring framework would add hundreds
of megabytes and seconds of start-up for them (docs/monitoring.md)."""

import math

import numpy as np
from scipy.stats import norm

#: Floor of a bin's share in the PSI, so an empty bin on one side gives a large but finite term.
SHARE_FLOOR = 1e-4


def psi(reference: np.ndarray, counts: np.ndarray) -> float:
    """Population stability index of observed bin `counts` against `reference` shares:
    sum over bins of (observed - expected) * ln(observed / expected), shares floored at `SHARE_FLOOR`.
    NaN when nothing was observed."""
    total = float(np.sum(counts))
    if total <= 0:
        return float("nan")
    now = np.maximum(np.asarray(counts, dtype="float64") / total, SHARE_FLOOR)
    ref = np.maximum(np.asarray(reference, dtype="float64"), SHARE_FLOOR)
    return float(np.sum((now - ref) * np.log(now / ref)))


def psi_rows(reference: np.ndarray, counts: np.ndarray) -> np.ndarray:
    """`psi` of each row of a (periods x bins) count matrix (NaN for an empty row)."""
    counts = np.asarray(counts, dtype="float64")
    total = counts.sum(axis=1, keepdims=True)
    with np.errstate(invalid="ignore", divide="ignore"):
        now = np.maximum(counts / total, SHARE_FLOOR)
    ref = np.maximum(np.asarray(reference, dtype="float64"), SHARE_FLOOR)
    out = np.sum((now - ref) * np.log(now / ref), axis=1)
    return np.where(total[:, 0] > 0, out, np.nan)


def wilson(successes: int, trials: int, confidence: float = 0.95) -> tuple[float, float]:
    """Wilson score interval of a proportion (good at small counts and rates near 0, unlike the normal
    approximation); (nan, nan) with no trials."""
    if trials <= 0:
        return float("nan"), float("nan")
    z = float(norm.ppf(0.5 + confidence / 2))
    p = successes / trials
    centre = (p + z * z / (2 * trials)) / (1 + z * z / trials)
    half = z * math.sqrt(p * (1 - p) / trials + z * z / (4 * trials * trials)) / (1 + z * z / trials)
    return max(0.0, centre - half), min(1.0, centre + half)
