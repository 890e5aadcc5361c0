"""Reference data the product rests on, shipped inside the package with their sources.

- the Common High Priority List (CHPL) of HS6 codes with tiers (`chpl_hs_codes.csv`);
- country groups: EAEU members, the export-control coalition, the FinCEN/BIS transshipment points,
  Russia/Belarus;
- key dates of the sanctions regime and of Kazakhstan's e-waybill (SNT) obligation;
- chipmaker brands found in Russian weapons (descriptions naming them are a red flag).

Everything here is plain data loaded lazily; nothing is read at import time.
"""

from roundabout.reference.brands import CHIPMAKER_BRANDS
from roundabout.reference.chpl import chpl_table, chpl_tier_of, chpl_tier_rank
from roundabout.reference.countries import (
    COALITION,
    EAEU,
    ISO_ALPHA2,
    RUSSIA_BELARUS,
    TRANSSHIPMENT_POINTS,
)
from roundabout.reference.dates import CHPL_PUBLISHED, INVASION, SNT_OBLIGATION

__all__ = [
    "CHIPMAKER_BRANDS",
    "CHPL_PUBLISHED",
    "COALITION",
    "EAEU",
    "INVASION",
    "ISO_ALPHA2",
    "RUSSIA_BELARUS",
    "SNT_OBLIGATION",
    "TRANSSHIPMENT_POINTS",
    "chpl_table",
    "chpl_tier_of",
    "chpl_tier_rank",
]
