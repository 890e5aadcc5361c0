"""Route features: where the goods come from and go (Russia/Belarus, EAEU, coalition origin, hubs)."""

import numpy as np

from roundabout.features.artifacts import FeatureArtifacts, category_values, heading_values
from roundabout.features.columns import Columns, map_rows, map_values
from roundabout.features.goods import encode_category
from roundabout.reference import COALITION, EAEU, RUSSIA_BELARUS, TRANSSHIPMENT_POINTS

_HUBS_ABROAD = TRANSSHIPMENT_POINTS - {"KZ"}
_EAEU_ABROAD = EAEU - {"KZ"}


def _member(values: np.ndarray, group: frozenset[str]) -> np.ndarray:
    """1/0 membership, NaN where the country is missing."""
    return map_values(values, lambda c: np.nan if c is None else float(c in group), "float64")


def _all_different(origin: str | None, dispatch: str | None, trading: str | None) -> float:
    if origin is None or dispatch is None or trading is None:
        return np.nan
    return float(origin != dispatch and dispatch != trading and origin != trading)


def _share(table: dict[str, dict[str, float]], heading: str | None, value: str | None) -> float:
    if heading is None or value is None or heading not in table:
        return np.nan
    return table[heading].get(value, 0.0)


def route_features(cols: Columns, artifacts: FeatureArtifacts) -> dict[str, np.ndarray]:
    lookup = artifacts.lookup()
    levels = lookup["levels"]
    out = {
        name: encode_category(category_values(cols, name), levels[name])
        for name in ("document_kind", "direction", "procedure")
    }
    out["destination_ru_by"] = _member(cols["destination_country"], RUSSIA_BELARUS)
    out["counterparty_ru_by"] = _member(cols["counterparty_country"], RUSSIA_BELARUS)
    out["destination_eaeu"] = _member(cols["destination_country"], _EAEU_ABROAD)
    for name in ("origin_country", "destination_country"):
        out[name] = encode_category(category_values(cols, name), levels[name])
    coalition = _member(cols["origin_country"], COALITION)
    out["coalition_origin_chpl"] = coalition * cols["chpl"]
    out["dispatch_transshipment_hub"] = _member(cols["dispatch_country"], _HUBS_ABROAD)
    out["countries_all_different"] = map_rows(
        _all_different, (cols["origin_country"], cols["dispatch_country"], cols["trading_country"]), "float64"
    )
    for name in ("transport_mode", "customs_office"):
        out[name] = encode_category(category_values(cols, name), levels[name])
    headings = heading_values(cols)
    for name in ("transport_mode", "customs_office"):
        table = lookup[f"{name}_share"]
        out[f"{name}_share_heading"] = map_rows(
            lambda h, v, table=table: _share(table, h, v), (headings, cols[name]), "float64"
        )
    return out
