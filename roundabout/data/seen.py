"""Keys met in earlier chunks of a file, so a key repeated across chunks is found as it is within one.

Kept as Arrow strings with the source row of each (about 30 bytes a key, against about 150 in a Python
dict), looked up by Arrow's hash join (`index_in`), which runs in C for a whole chunk at once.
"""

from dataclasses import dataclass, field

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc


@dataclass
class SeenKeys:
    """The distinct keys added so far, each with the source row it was first met at."""

    _keys: list[pa.Array] = field(default_factory=list)
    _rows: list[np.ndarray] = field(default_factory=list)
    _joined: tuple[pa.Array, np.ndarray] | None = None

    def __len__(self) -> int:
        return sum(len(k) for k in self._keys)

    def first_rows(self, keys: pd.Series) -> np.ndarray:
        """Per key, the source row it was first met at, or 0 where it was not met."""
        if not self._keys or not len(keys):
            return np.zeros(len(keys), dtype=np.int64)
        if self._joined is None:
            self._joined = (pa.concat_arrays(self._keys), np.concatenate(self._rows))
        known, rows = self._joined
        position = pc.index_in(_arrow(keys), value_set=known)
        at = position.to_numpy(zero_copy_only=False)
        found = ~np.isnan(at) if at.dtype.kind == "f" else np.ones(len(at), dtype=bool)
        out = np.zeros(len(keys), dtype=np.int64)
        out[found] = rows[at[found].astype(np.int64)]
        return out

    def add(self, keys: pd.Series, rows: np.ndarray) -> None:
        """Remember `keys` (distinct, none added before) met at `rows`."""
        if len(keys):
            self._keys.append(_arrow(keys))
            self._rows.append(np.asarray(rows, dtype=np.int64))
            self._joined = None


def _arrow(keys: pd.Series) -> pa.Array:
    return pa.array(keys.to_numpy(dtype=object), type=pa.string(), from_pandas=True)
