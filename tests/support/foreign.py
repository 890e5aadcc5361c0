"""Another administration's declaration table, hand-made: foreign column names, its own fraud label, and
train / valid / test files of consecutive quarters, loaded through an ingest mapping. A tenth of the
importers commit most fraud, and fraud is under-valued, so a model has something to learn."""

from datetime import date, timedelta
from pathlib import Path

import numpy as np
import pandas as pd

from roundabout.data.ingest import ingest
from roundabout.data.mapping import load_mapping
from roundabout.data.validation import FormatRules

MAPPING = """
name: foreign-declarations
rules:
  trader_id_pattern: 'IMP\\d{5}'
  hs_code_digits: [6]
  missing: [trader_name, counterparty_country, description, dispatch_country, trading_country,
            gross_mass_kg, quantity, transport_mode, previous_document_id]
columns:
  line_id: [DECL_ID, ITEM]
  document_id: DECL_ID
  date: DECL_DATE
  trader_id: IMPORTER
  declarant_id: DECLARANT
  counterparty_name: SELLER
  customs_office: OFFICE
  hs_code: HS6
  origin_country: ORIGIN
  destination_country: DEST
  net_mass_kg: MASS_KG
  value_usd: PRICE_USD
constants: {document_kind: DT, direction: import, procedure: "40"}
extra_columns:
  payment_type: {source: PAYMENT, kind: categorical}
  tax_rate: {source: TAX_RATE, kind: numeric}
outcomes:
  inspected_on: DECL_DATE
  outcome: FRAUD
  values: {outcome: {"1": violation, "0": clean}}
"""

#: The files: name, lines, first day (each covers 90 days).
PARTS = (
    ("train", 3000, date(2023, 1, 1)),
    ("valid", 1000, date(2023, 4, 1)),
    ("test", 1000, date(2023, 7, 1)),
)
#: Importers IMP00000-IMP00029 commit most fraud.
RISKY_IMPORTERS = [f"IMP{i:05d}" for i in range(30)]
#: Lines dated up to this day load (the tests must not depend on today's date).
RULES = FormatRules(max_date=date(2030, 1, 1))


def foreign_table(rng: np.random.Generator, n: int, start: date, first_id: int) -> pd.DataFrame:
    """One file of `n` declarations (one item each) over the 90 days from `start`."""
    importers = np.array([f"IMP{i:05d}" for i in range(300)])
    risky = set(RISKY_IMPORTERS)
    imp = rng.choice(importers, n)
    hs = rng.choice(["847150", "854231", "620342", "300490", "870899", "940360"], n)
    mass = np.round(rng.lognormal(4, 1, n), 1)
    fraud = np.array([rng.random() < (0.45 if i in risky else 0.04) for i in imp])
    price = np.round(mass * rng.lognormal(3, 0.3, n) * np.where(fraud, 0.4, 1.0), 2)  # under-valued
    return pd.DataFrame(
        {
            "DECL_ID": [f"D{first_id + i}" for i in range(n)],
            "ITEM": "1",
            "DECL_DATE": [
                (start + timedelta(days=int(d))).isoformat() for d in np.sort(rng.integers(0, 90, n))
            ],
            "IMPORTER": imp,
            "DECLARANT": rng.choice([f"DCL{i}" for i in range(40)], n),
            "SELLER": rng.choice([f"Seller {i} Ltd" for i in range(500)], n),
            "OFFICE": rng.choice(["OF1", "OF2", "OF3"], n),
            "HS6": hs,
            "ORIGIN": rng.choice(["CN", "DE", "TR", "US"], n),
            "DEST": "KZ",
            "MASS_KG": mass,
            "PRICE_USD": price,
            "PAYMENT": rng.choice(["cash", "credit", "deferred"], n),
            "TAX_RATE": rng.choice([0.0, 5.0, 10.0], n),
            "FRAUD": fraud.astype(int).astype(str),
        }
    )


def write_foreign_files(root: Path, seed: int = 0) -> dict[str, Path]:
    """The mapping (`mapping`) and the three source files (`train`, `valid`, `test`) as CSV under `root`."""
    root.mkdir(parents=True, exist_ok=True)
    (root / "mapping.yaml").write_text(MAPPING)
    out = {"mapping": root / "mapping.yaml"}
    rng = np.random.default_rng(seed)
    for i, (part, n, start) in enumerate(PARTS):
        out[part] = root / f"{part}.csv"
        foreign_table(rng, n, start, i * 10_000).to_csv(out[part], index=False)
    return out


def ingest_foreign(root: Path, seed: int = 0) -> dict[str, Path]:
    """The three files ingested with their outcomes into `root/<part>`, and the test file once more with
    its outcomes left out, into `root/test_lines` (what a held-out file is loaded as)."""
    files = write_foreign_files(root / "source", seed)
    mapping = load_mapping(files["mapping"])
    out: dict[str, Path] = {}
    for part, _, _ in PARTS:
        result = ingest(files[part], mapping, root / part, RULES)
        assert result.lines.rows_rejected == 0
        out[part] = root / part
    ingest(files["test"], mapping, root / "test_lines", RULES, outcomes=False)
    out["test_lines"] = root / "test_lines"
    return out
