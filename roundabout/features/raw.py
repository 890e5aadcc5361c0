"""The declaration's own fields as model inputs: codes and countries as categories, amounts as numbers.

The engineered families read these fields through red flags (a chapter, a CHPL tier, a hub, a unit value
against its reference); a model fitted on an administration's raw columns sees them whole (the 6-digit
code, the country of departure, the net mass) and an administration's table may carry signal in them that
no Kazakh red flag names. So they are inputs too, beside the engineered ones: the product never knows less
than a plain model on the raw columns. Party ids are categories of their most frequent values only; which
of these families a model keeps is decided on the validation period at training.
"""

import numpy as np

from roundabout.features.artifacts import FeatureArtifacts, category_values
from roundabout.features.columns import Columns
from roundabout.features.goods import encode_category

#: Raw categorical inputs (their source column: `artifacts.CATEGORY_COLUMNS`).
RAW_CATEGORIES = (
    "raw_hs6",
    "raw_dispatch_country",
    "raw_trading_country",
    "raw_counterparty_country",
    "raw_trader_id",
    "raw_declarant_id",
    "raw_counterparty",
)
#: Raw numeric inputs and their canonical field.
RAW_NUMBERS = {
    "raw_net_mass_kg": "net_mass_kg",
    "raw_gross_mass_kg": "gross_mass_kg",
    "raw_quantity": "quantity",
}


def raw_features(cols: Columns, artifacts: FeatureArtifacts) -> dict[str, np.ndarray]:
    levels = artifacts.lookup()["levels"]
    out = {
        name: encode_category(category_values(cols, name), levels.get(name, {})) for name in RAW_CATEGORIES
    }
    out.update({name: cols[field].astype("float64") for name, field in RAW_NUMBERS.items()})
    return out
