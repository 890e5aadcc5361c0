"""Loading years of history into the store set-wise (`load.py`), one partition of days per transaction."""

from roundabout.store.bulk.load import PARTITION_LINES, BulkLoader, LoadResult, partition_bounds

__all__ = ["PARTITION_LINES", "BulkLoader", "LoadResult", "partition_bounds"]
