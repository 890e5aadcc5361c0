"""Robust centre and spread of a value per group: what every fitted reference (unit values, ratios) keeps."""

import numpy as np
import pandas as pd

#: MAD times this estimates the standard deviation of a normal distribution.
MAD_TO_SD = 1.4826


def robust_groups(keys: np.ndarray, values: np.ndarray, min_count: int, floor: float) -> pd.DataFrame:
    """Per group with at least `min_count` finite values (sorted by group): median, robust scale (MAD x
    1.4826, at least `floor`), count, min and max. Empty when no value is given."""
    ok = np.isfinite(values) & pd.notna(keys)
    columns = ["median", "scale", "n", "min", "max"]
    if not ok.any():
        return pd.DataFrame(columns=columns, dtype="float64")
    codes, names = pd.factorize(keys[ok])  # grouped on integer codes: no frame of strings to build
    frame = pd.DataFrame({"k": codes, "v": values[ok]})
    grouped = frame.groupby("k", sort=True)["v"]
    size, med = grouped.size(), grouped.median()
    mad = (frame["v"] - frame["k"].map(med)).abs().groupby(frame["k"], sort=True).median()
    keep = size[size >= min_count].index
    out = pd.DataFrame(
        {
            "median": med.loc[keep].to_numpy(),
            "scale": np.maximum(MAD_TO_SD * mad.loc[keep].to_numpy(), floor),
            "n": size.loc[keep].to_numpy(dtype="float64"),
            "min": grouped.min().loc[keep].to_numpy(),
            "max": grouped.max().loc[keep].to_numpy(),
        },
        index=pd.Index([str(names[k]) for k in keep], dtype=object),
    )
    return out.sort_index()
