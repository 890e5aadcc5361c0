"""The unsupervised part of the risk model: an IsolationForest over all lines, exported to flat arrays.

scikit-learn fits the forest; scoring does not go through `IsolationForest`. Each tree is copied into flat
node arrays (feature, threshold, left, right, leaf value) and all trees are stacked; the arrays are what is
saved. Thresholds are stored as float32 rounded down, which keeps `x <= threshold` exact for the float32
inputs the trees compare, and both children of node i sit at `child[2i]` and `child[2i + 1]`.

- One row is scored with a few numpy operations over a few hundred nodes (no validation, no joblib, no
  DataFrame), all trees at once, level by level. Leaves point to themselves, so walking a fixed number of
  levels (the forest's maximum depth) needs no masks.
- A batch is scored by scikit-learn's compiled tree walker (`sklearn.tree._tree.Tree.apply`, the same
  code `IsolationForest.score_samples` runs per tree), on trees rebuilt from the exported arrays once per
  detector: a leaf id per row and tree, then that leaf's path length. This is ~2.5x faster than the
  level-by-level numpy walk on large batches (rows x trees x levels of four gathers) and needs neither
  the fitted forest nor a pickle. A LightGBM text model built from the same trees scores identically but
  no faster (its per-node cost is higher; see docs/models.md).
- Rows go in chunks: each chunk's columns are picked, imputed and made float32 (no full-size copies of
  the input), then walked through every tree. The walker releases the GIL, so
  chunks are shared by one thread per usable core; a row's path lengths are still added tree by tree in
  order, so the result does not depend on the number of threads (bit for bit).

The result equals `IsolationForest.score_samples` (a test checks it to 1e-9): the score is the negated
anomaly score of the original paper, so lower means more abnormal; `anomaly_score` below flips it so that
higher means more abnormal, in (0, 1].

Missing values are imputed with the training median of each column before fitting and scoring, since
isolation trees cannot route NaN.
"""

import os
import threading
import warnings
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Self

import numpy as np
from sklearn.ensemble import IsolationForest
from sklearn.tree._tree import Tree

#: Rows per compiled-walker call in batch mode (keeps the float32 chunk in a core's cache across the trees).
CHUNK_ROWS = 8192


def default_workers() -> int:
    """Threads for batch scoring: the cores this process may run on."""
    try:
        return max(1, len(os.sched_getaffinity(0)))
    except AttributeError:  # not on Linux
        return max(1, os.cpu_count() or 1)


def average_path_length(n: np.ndarray) -> np.ndarray:
    """c(n): mean path length of an unsuccessful binary-search-tree search over n points (paper, eq. 1)."""
    n = np.asarray(n, dtype="float64")
    out = np.zeros_like(n)
    out[n == 2] = 1.0
    big = n > 2
    out[big] = 2.0 * (np.log(n[big] - 1.0) + np.euler_gamma) - 2.0 * (n[big] - 1.0) / n[big]
    return out


class AnomalyDetector:
    """IsolationForest fitted with scikit-learn, scored from exported arrays."""

    def __init__(
        self,
        n_estimators: int = 200,
        max_samples: int = 256,
        fit_rows: int = 200_000,
        random_state: int = 0,
        max_features: float = 1.0,
    ) -> None:
        self.n_estimators = n_estimators
        self.max_features = max_features
        self.max_samples = max_samples
        self.fit_rows = fit_rows
        self.random_state = random_state
        self.forest_: IsolationForest | None = None
        self.fill_: np.ndarray | None = None
        self.arrays_: dict[str, np.ndarray] | None = None
        self._walkers: list[tuple[Tree, np.ndarray]] | None = None

    # fitting ---------------------------------------------------------------------------------------
    def fit(self, X: np.ndarray) -> Self:
        """Fit on (a random sample of at most `fit_rows` of) the rows of X; NaN imputed by column medians."""
        X = np.asarray(X, dtype="float64")
        rng = np.random.default_rng(self.random_state)
        if len(X) > self.fit_rows:
            X = X[np.sort(rng.choice(len(X), self.fit_rows, replace=False))]
        with warnings.catch_warnings(), np.errstate(all="ignore"):
            warnings.simplefilter("ignore", RuntimeWarning)  # all-NaN columns (fields a source lacks)
            fill = (
                np.nanmedian(np.where(np.isfinite(X), X, np.nan), axis=0) if len(X) else np.zeros(X.shape[1])
            )
        self.fill_ = np.where(np.isfinite(fill), fill, 0.0)
        forest = IsolationForest(
            n_estimators=self.n_estimators,
            max_samples=min(self.max_samples, len(X)),
            max_features=self.max_features,
            random_state=self.random_state,
        )
        forest.fit(self.impute(X))
        self.forest_ = forest
        self.arrays_ = export_forest(forest, X.shape[1])
        self._walkers = None
        return self

    def impute(self, X: np.ndarray) -> np.ndarray:
        """X as float32 (what the trees compare) with missing or infinite values replaced by the fill."""
        return _impute(X, self._fill())

    def _fill(self) -> np.ndarray:
        if self.fill_ is None:
            raise RuntimeError("the anomaly detector is not fitted")
        return self.fill_

    # scoring ---------------------------------------------------------------------------------------
    def score_samples(
        self, X: np.ndarray, columns: np.ndarray | None = None, workers: int | None = None
    ) -> np.ndarray:
        """Same values as `IsolationForest.score_samples` (lower = more abnormal), from exported arrays.

        `columns`: the detector's inputs are these columns of X (as `X[:, columns]`, without copying X).
        `workers`: threads walking chunks of rows (default: the usable cores; 1 = the calling thread only).
        """
        X = np.atleast_2d(X)
        fill = self._fill()
        cols = None if columns is None else np.asarray(columns, dtype=np.intp)
        if (X.shape[1] if cols is None else len(cols)) != len(fill):
            raise ValueError(
                f"expected {len(fill)} anomaly inputs, got {X.shape[1] if cols is None else len(cols)}"
            )
        n = len(X)
        depth = np.zeros(n)
        chunks = [(start, min(start + CHUNK_ROWS, n)) for start in range(0, n, CHUNK_ROWS)]
        walkers = self._trees()
        workers = min(default_workers() if workers is None else max(1, int(workers)), len(chunks))
        if workers <= 1:
            _walk_chunks(iter(chunks), X, cols, fill, walkers, depth)
        else:
            # Chunks are handed out one at a time under a lock; each thread writes only its chunks of `depth`.
            lock, pending = threading.Lock(), iter(chunks)

            def take() -> tuple[int, int] | None:
                with lock:
                    return next(pending, None)

            with ThreadPoolExecutor(max_workers=workers, thread_name_prefix="anomaly") as pool:
                jobs = [
                    pool.submit(_walk_chunks, iter(take, None), X, cols, fill, walkers, depth)
                    for _ in range(workers)
                ]
                for job in jobs:
                    job.result()
        return -(2.0 ** (-depth / float(self._arrays()["denominator"])))

    def anomaly_score(
        self, X: np.ndarray, columns: np.ndarray | None = None, workers: int | None = None
    ) -> np.ndarray:
        """The anomaly score of the paper, 2^(-E[h(x)]/c(psi)): in (0, 1], higher = more abnormal."""
        return -self.score_samples(X, columns, workers)

    def anomaly_score_one(self, x: np.ndarray) -> float:
        """One row's anomaly score with no chunking, validation or copies beyond the imputation."""
        a = self._arrays()
        xf = _impute(x, self._fill())
        feature, threshold, child = a["feature"], a["threshold"], a["child"]
        node = a["roots"]
        for _ in range(int(a["depth"])):
            node = child[2 * node + (xf[feature[node]] > threshold[node])]
        return float(2.0 ** (-a["leaf_value"][node].sum() / float(a["denominator"])))

    def _trees(self) -> list[tuple[Tree, np.ndarray]]:
        """The exported trees as scikit-learn `Tree` objects (built once) with each node's path length."""
        if self._walkers is None:
            self._walkers = compiled_trees(self._arrays(), len(self._fill()))
        return self._walkers

    def _arrays(self) -> dict[str, np.ndarray]:
        if self.arrays_ is None:
            raise RuntimeError("the anomaly detector is not fitted")
        return self.arrays_

    # persistence -----------------------------------------------------------------------------------
    def save(self, path: Path) -> None:
        """Write the exported arrays and the imputation fill to one .npz file (no pickle)."""
        np.savez(Path(path), fill=self._fill(), **self._arrays())

    @classmethod
    def load(cls, path: Path) -> Self:
        with np.load(Path(path)) as data:
            arrays = {k: data[k] for k in data.files}
        out = cls()
        out.fill_ = arrays.pop("fill")
        out.arrays_ = arrays
        out.n_estimators = len(arrays["roots"])
        return out


def _impute(X: np.ndarray, fill: np.ndarray) -> np.ndarray:
    """X as float64, missing or infinite values replaced by `fill`, then as float32 (the one definition
    of the detector's input, for fitting, batches and single rows)."""
    X = np.asarray(X, dtype="float64")
    return np.where(np.isfinite(X), X, fill).astype(np.float32)


def _walk_chunks(
    chunks: Iterator[tuple[int, int]],
    X: np.ndarray,
    cols: np.ndarray | None,
    fill: np.ndarray,
    walkers: list[tuple[Tree, np.ndarray]],
    depth: np.ndarray,
) -> None:
    """Add every tree's path length to `depth[start:end]` for each (start, end) chunk of rows of X.

    Per chunk: X's rows (and `cols`) imputed as `impute` does, then one compiled `Tree.apply` per tree;
    the path lengths are added tree by tree, in order, whichever thread runs the chunk.
    """
    step = np.empty(CHUNK_ROWS)
    for start, end in chunks:
        block = X[start:end] if cols is None else X[start:end, cols]
        xf, part, add = _impute(block, fill), depth[start:end], step[: end - start]
        for tree, leaf_value in walkers:
            np.take(leaf_value, tree.apply(xf), out=add)
            part += add


def compiled_trees(arrays: dict[str, np.ndarray], n_features: int) -> list[tuple[Tree, np.ndarray]]:
    """Rebuild one scikit-learn `Tree` per exported tree, for its compiled `apply` (leaf id per row).

    The node records are set through `Tree.__setstate__`, the state scikit-learn pickles a tree with.
    Features are columns of the full input and thresholds the float32-rounded-down ones, so `apply` on the
    float32 input routes every row exactly as the fitted tree does. Returns (tree, path length by node).
    """
    feature, threshold, child = arrays["feature"], arrays["threshold"], arrays["child"]
    roots = arrays["roots"].astype(np.int64)
    ends = np.append(roots[1:], len(feature))
    out = []
    for root, end in zip(roots, ends, strict=True):
        ids = np.arange(root, end)
        left, right = child[2 * ids].astype(np.int64), child[2 * ids + 1].astype(np.int64)
        leaf = left == ids
        nodes = np.zeros(len(ids), dtype=_NODE_DTYPE)
        nodes["left_child"] = np.where(leaf, -1, left - root)
        nodes["right_child"] = np.where(leaf, -1, right - root)
        nodes["feature"] = np.where(leaf, -2, feature[ids])
        nodes["threshold"] = np.where(leaf, -2.0, threshold[ids].astype(np.float64))
        nodes["n_node_samples"] = 1
        nodes["weighted_n_node_samples"] = 1.0
        value = np.ascontiguousarray(arrays["leaf_value"][ids], dtype=np.float64)
        tree = Tree(n_features, np.ones(1, dtype=np.intp), 1)
        tree.__setstate__(
            {
                "max_depth": int(arrays["depth"]),
                "node_count": len(ids),
                "nodes": nodes,
                "values": value.reshape(-1, 1, 1).copy(),
            }
        )
        out.append((tree, value))
    return out


_NODE_DTYPE = Tree(1, np.ones(1, dtype=np.intp), 1).__getstate__()["nodes"].dtype


def export_forest(forest: IsolationForest, n_features: int) -> dict[str, np.ndarray]:
    """Stack the trees of a fitted forest into flat node arrays with global node ids.

    `feature` is mapped back through each tree's feature subset to a column of the full input; a leaf
    gets feature 0, threshold +inf and itself as both children; `leaf_value` is depth + c(samples in the
    leaf), the per-tree path length the paper averages.
    """
    flat = _stack(forest)
    if flat["feature"].max() >= n_features:
        raise ValueError("the forest uses a column outside the input")
    threshold = flat["threshold"].astype(np.float32)
    over = threshold.astype(np.float64) > flat["threshold"]
    threshold[over] = np.nextafter(threshold[over], np.float32(-np.inf))
    child = np.empty(2 * len(threshold), dtype=np.int32)
    child[0::2], child[1::2] = flat["left"], flat["right"]
    return {
        "feature": flat["feature"].astype(np.int32),
        "threshold": threshold,
        "child": child,
        "leaf_value": flat["leaf_value"],
        "roots": flat["roots"].astype(np.int32),
        "depth": flat["depth"],
        "denominator": flat["denominator"],
    }


def _stack(forest: IsolationForest) -> dict[str, np.ndarray]:
    feature, threshold, left, right, leaf_value, roots = [], [], [], [], [], []
    offset = 0
    depth = 0
    for tree, features in zip(forest.estimators_, forest.estimators_features_, strict=True):
        t = tree.tree_
        ids = np.arange(t.node_count)
        is_leaf = t.children_left == -1
        cols = np.asarray(features)[np.where(is_leaf, 0, t.feature)]
        feature.append(np.where(is_leaf, 0, cols).astype(np.int64))
        threshold.append(np.where(is_leaf, np.inf, t.threshold).astype(np.float64))
        left.append(np.where(is_leaf, ids, t.children_left) + offset)
        right.append(np.where(is_leaf, ids, t.children_right) + offset)
        node_depth = np.asarray(t.compute_node_depths(), dtype="float64") - 1.0
        value = node_depth + average_path_length(t.n_node_samples)
        leaf_value.append(np.where(is_leaf, value, 0.0))
        roots.append(offset)
        offset += t.node_count
        depth = max(depth, int(t.max_depth))
    return {
        "feature": np.concatenate(feature),
        "threshold": np.concatenate(threshold),
        "left": np.concatenate(left).astype(np.int64),
        "right": np.concatenate(right).astype(np.int64),
        "leaf_value": np.concatenate(leaf_value),
        "roots": np.asarray(roots, dtype=np.int64),
        "depth": np.asarray(depth, dtype=np.int64),
        "denominator": np.asarray(
            len(forest.estimators_) * average_path_length(np.array([forest.max_samples_]))[0], dtype="float64"
        ),
    }
