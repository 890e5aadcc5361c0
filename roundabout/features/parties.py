"""Party features: the trader and the counterparty of a line screened against the sanctions lists.

`party_columns` screens each line's parties (each distinct name and country once: a history has far
fewer parties than lines) with a `ScreeningIndex`, counting only entries listed on or before the line's
date where the list dates them, and adds the columns the party features and the network aggregates read:

- `cp_list_score`, `trader_list_score`: the best match score in [0, 1] (0: nothing at `FEATURE_MIN_SCORE`
  or above; NaN: no list loaded, so nothing is known);
- `cp_listed`, `trader_listed`: 1 when that score reaches the index's match threshold (0 without lists);
- `listed_russia`: 1 when a party's match (at the threshold) is listed under a Russia programme.

Both paths call it with the same index: the batch build with the lists the caller gives (training: the
store's active lists), the service with the lists it follows; a line's party features are therefore a
function of the line and the list versions, which the decisions record.
"""

from collections.abc import Mapping
from typing import Any

import numpy as np

from roundabout.features.columns import Columns, factorize
from roundabout.features.history import screening
from roundabout.parties.index import Match, ScreeningIndex

#: Matches from this score on are features (weaker resemblance is noise); `cp_listed` uses the threshold.
FEATURE_MIN_SCORE = 0.5
_EPOCH_ORDINAL = 719163  # date(1970, 1, 1).toordinal()


def _best_matches(
    index: ScreeningIndex, names: np.ndarray, countries: np.ndarray, days: np.ndarray
) -> tuple[np.ndarray, np.ndarray]:
    """Per line: best score (0 if none) and whether that best is under a Russia programme."""
    n = len(names)
    score = np.zeros(n)
    russia = np.zeros(n)
    name_codes, _ = factorize(names)
    country_codes, country_values = factorize(countries)
    combo = np.where(
        name_codes < 0, -1, name_codes.astype("int64") * (len(country_values) + 1) + country_codes + 1
    )
    distinct, first, inverse = np.unique(combo, return_index=True, return_inverse=True)
    found: list[list[Match]] = []
    for code, row in zip(distinct.tolist(), first.tolist(), strict=True):
        if code < 0:
            found.append([])
            continue
        country = countries[row]
        found.append(index.match(names[row], country, limit=5, min_score=FEATURE_MIN_SCORE))
    for line in np.flatnonzero(np.array([bool(found[i]) for i in range(len(found))])[inverse]):
        day = int(days[line])
        for m in found[inverse[line]]:
            if m.listed_on is None or m.listed_on.toordinal() - _EPOCH_ORDINAL <= day:
                score[line] = m.score
                russia[line] = float(m.score >= index.threshold and m.programme_family == "russia")
                break
    return score, russia


def party_columns(cols: Columns, index: ScreeningIndex | None) -> Columns:
    """The screening columns of every line (see the module docstring)."""
    n = len(cols["day"])
    if index is None:
        nan, zero = np.full(n, np.nan), np.zeros(n)
        return {"cp_list_score": nan, "trader_list_score": nan.copy(), "cp_listed": zero,
                "trader_listed": zero.copy(), "listed_russia": nan.copy()}  # fmt: skip
    cp_score, cp_russia = _best_matches(
        index, cols["counterparty_name"], cols["counterparty_country"], cols["day"]
    )
    trader_names = cols.get("trader_name")
    if trader_names is None:
        trader_names = np.full(n, None, dtype=object)
    no_country = np.full(n, None, dtype=object)  # the declaring trader's country is the administration's
    tr_score, tr_russia = _best_matches(index, trader_names, no_country, cols["day"])
    return {
        "cp_list_score": cp_score,
        "trader_list_score": tr_score,
        "cp_listed": (cp_score >= index.threshold).astype("float64"),
        "trader_listed": (tr_score >= index.threshold).astype("float64"),
        "listed_russia": np.maximum(cp_russia, tr_russia),
    }


def party_features(cols: Columns) -> dict[str, np.ndarray]:
    """The stateless party features, from `party_columns`."""
    return {
        "counterparty_list_score": screening(cols, "cp_list_score", np.nan),
        "trader_list_score": screening(cols, "trader_list_score", np.nan),
        "listed_party_russia": screening(cols, "listed_russia", np.nan),
    }


#: Party features whose reason names the match: (role, name field, country field).
_REASON_PARTIES = {
    "counterparty_list_score": ("counterparty", "counterparty_name", "counterparty_country"),
    "trader_list_score": ("trader", "trader_name", None),
}
#: How each list is named in a reason.
LIST_LABELS = {
    "ofac": "the OFAC SDN list",
    "eu": "the EU consolidated list",
    "uk": "the UK sanctions list",
    "opensanctions": "the OpenSanctions list",
    "simulated": "the simulated world's list",
}


def describe_match(role: str, name: str, match: Match) -> str:
    """ "The counterparty 'X' resembles 'Y' on the OFAC SDN list (RUSSIA-EO14024), score 0.93"."""
    label = LIST_LABELS.get(match.list_name.lower(), f"the {match.list_name} list")
    programmes = f" ({', '.join(match.programmes[:3])})" if match.programmes else ""
    return (
        f"The {role} '{name}' resembles '{match.matched_name}' on {label}{programmes}, "
        f"score {match.score:.2f}"
    )


def party_reason(feature: str, line: Mapping[str, Any], index: ScreeningIndex | None) -> str | None:
    """The reason text of a party feature for a line, naming the entry it resembles (None: no text)."""
    if index is None:
        return None
    roles = [_REASON_PARTIES[feature]] if feature in _REASON_PARTIES else list(_REASON_PARTIES.values())
    for role, name_field, country_field in roles:
        name = line.get(name_field)
        if not name:
            continue
        country = line.get(country_field) if country_field else None
        day = line.get("date")
        found = index.match(str(name), country, limit=5, min_score=FEATURE_MIN_SCORE)
        usable = [m for m in found if m.listed_on is None or day is None or m.listed_on <= day]
        if feature == "listed_party_russia":
            usable = [m for m in usable if m.score >= index.threshold and m.programme_family == "russia"]
        if usable:
            return describe_match(role, str(name), usable[0])
    return None
