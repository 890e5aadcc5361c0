"""The tamper-evident audit trail, as data: records chained by SHA-256 (`chain.py`), checkpoints signed
with Ed25519 (`signing.py`), verification of a chain however it is read (`verify.py`) and the export an
auditor verifies offline (`export.py`). The store keeps the records (`roundabout.store.audit_log`).
"""

from roundabout.audit.chain import GENESIS, Chained, Entry, canonical, link, record_hash

__all__ = ["GENESIS", "Chained", "Entry", "canonical", "link", "record_hash"]
