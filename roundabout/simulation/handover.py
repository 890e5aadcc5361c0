"""A foreign-shaped world as the administration would hand it over: its CSV and an ingest mapping for it.

`write_source` writes `declarations.csv` (the administration's column names, one row per goods line, the
inspection date and a FRAUD label of 1, 0 or empty when the line was not inspected) and `mapping.yaml`, so
that `roundabout ingest --source declarations.csv --mapping mapping.yaml` gives back the lines and
inspections of the canonical folder (tests/simulation/test_foreign.py checks it). Ground truth never goes
into the CSV: an administration does not have it.
"""

from pathlib import Path
from typing import Any

import pandas as pd
import yaml

from roundabout.data.io import CanonicalData
from roundabout.data.mapping import IngestMapping
from roundabout.simulation.foreign import MISSING

SOURCE_FOLDER = "source"
SOURCE_FILE = "declarations.csv"
MAPPING_FILE = "mapping.yaml"

#: Source column -> canonical field (DECL_ID and ITEM together make the line id).
COLUMNS: dict[str, str] = {
    "DECL_ID": "document_id",
    "DECL_DATE": "date",
    "IMPORTER": "trader_id",
    "DECLARANT": "declarant_id",
    "SELLER": "counterparty_name",
    "OFFICE": "customs_office",
    "HS6": "hs_code",
    "ORIGIN": "origin_country",
    "DEPARTURE": "dispatch_country",
    "MASS_KG": "net_mass_kg",
    "PRICE_USD": "value_usd",
}
#: Source column -> extra column of the canonical folder.
EXTRAS: dict[str, str] = {
    "TAX_RATE": "tax_rate",
    "TAX_TYPE": "tax_type",
    "PROCESS": "process_type",
    "PAYMENT": "payment_type",
}
ORDER = ("DECL_ID", "ITEM", *list(COLUMNS)[1:], *EXTRAS, "INSPECTED_ON", "FRAUD")


def source_table(data: CanonicalData) -> pd.DataFrame:
    """The declarations table of a foreign-shaped world, in the administration's columns (all text)."""
    lines = data.lines
    out = pd.DataFrame({source: lines[field] for source, field in COLUMNS.items()})
    out["DECL_DATE"] = lines["date"].dt.strftime("%Y-%m-%d")
    out["ITEM"] = lines["line_id"].str.rpartition("/")[2]
    for source, name in EXTRAS.items():
        out[source] = lines[name]
    outcomes = data.inspections.set_index("line_id")
    inspected_on = lines["line_id"].map(outcomes["inspected_on"])
    out["INSPECTED_ON"] = inspected_on.dt.strftime("%Y-%m-%d")
    out["FRAUD"] = lines["line_id"].map(outcomes["outcome"].map({"violation": "1", "clean": "0"}))
    return out[list(ORDER)]


def mapping_body(data: CanonicalData) -> dict[str, Any]:
    """The ingest mapping of `source_table(data)`, as a YAML-ready mapping (checked by `IngestMapping`)."""
    digits = int(data.lines["trader_id"].str.len().max() - 3) if len(data.lines) else 6
    kinds = data.extra_columns
    body: dict[str, Any] = {
        "name": "simulated-foreign-declarations",
        "description": "Import declarations of a simulated world in another administration's shape "
        "(roundabout simulate --shape foreign; docs/simulation.md)",
        "source": {"format": "csv"},
        "rules": {
            "trader_id_pattern": rf"IMP\d{{{digits}}}",
            "hs_code_digits": [6],
            "missing": list(MISSING),
        },
        "columns": {"line_id": ["DECL_ID", "ITEM"]} | {field: source for source, field in COLUMNS.items()},
        "constants": {"document_kind": "DT", "direction": "import"},
        "extra_columns": {name: {"source": source, "kind": kinds[name]} for source, name in EXTRAS.items()},
        "outcomes": {
            "inspected_on": "INSPECTED_ON",
            "outcome": "FRAUD",
            "values": {"outcome": {"1": "violation", "0": "clean"}},
        },
    }
    IngestMapping.model_validate(body)
    return body


def write_source(data: CanonicalData, folder: Path) -> tuple[Path, Path]:
    """Write `declarations.csv` and `mapping.yaml` into `folder`; returns their paths."""
    folder = Path(folder)
    folder.mkdir(parents=True, exist_ok=True)
    csv_path, mapping_path = folder / SOURCE_FILE, folder / MAPPING_FILE
    source_table(data).to_csv(csv_path, index=False, lineterminator="\n")
    text = yaml.safe_dump(mapping_body(data), sort_keys=False, allow_unicode=True, width=110)
    mapping_path.write_text(text, encoding="utf-8")
    return csv_path, mapping_path
