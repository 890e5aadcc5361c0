"""The administration's own columns of a foreign-shaped world: tax rate and type, process and payment types.

Each follows the line's goods and route as such columns do in a real declaration table: bulk and heavy goods
are paid by letter of credit, small declarations in advance; small air and post consignments go by the
express process, rail and sea ones are often declared before arrival, authorised operators use the
simplified process; goods of preference origins pay a reduced rate, chips pay none. On top of that comes a
moderate dependence on circumvention, set by `ForeignConfig`: a share of circumvention declarations is paid
in advance, a share goes by the express process, a share of circumvention lines claims a preference or an
exemption (a zero rate). A model gains from these columns; none of them alone separates the classes
(docs/simulation.md gives the figures, tests/simulation/test_foreign.py holds them).
"""

import numpy as np
import pandas as pd

from roundabout.simulation.config import ForeignConfig
from roundabout.simulation.goods import MODE_CLASSES, PROFILE_NAMES, catalog

#: The extra columns a foreign world declares, and their kinds (as an ingest mapping declares them).
EXTRA_COLUMNS: dict[str, str] = {
    "tax_rate": "numeric",
    "tax_type": "categorical",
    "process_type": "categorical",
    "payment_type": "categorical",
}
PAYMENT_TYPES = ("prepaid", "deferred", "letter_of_credit", "collection")
PROCESS_TYPES = ("standard", "pre_arrival", "simplified", "express")
TAX_TYPES = ("general", "preferential", "exempt")

#: Typical general duty (percent) of the goods of each origin profile; each code draws 0-1.5 times it.
PROFILE_DUTY = {"ELEC": 4.0, "MACH": 5.0, "FOOD": 10.0, "CONS": 10.0, "MATL": 6.0, "AUTO": 8.0, "PHAR": 4.0}
#: Origins with a tariff preference and the share of the general rate they pay: free-trade partners and
#: least developed countries nothing, other beneficiaries of the preference scheme three quarters.
PREFERENCE = {"UZ": 0.0, "TJ": 0.0, "AZ": 0.0, "VN": 0.0, "BD": 0.0, "AF": 0.0, "IN": 0.75, "MY": 0.75,
              "TH": 0.75, "PH": 0.75, "BR": 0.75, "AR": 0.75, "EC": 0.75, "KE": 0.75, "LK": 0.75,
              "IR": 0.75, "MN": 0.75}  # fmt: skip
PREFERENCE_CLAIMED = 0.85  # honest lines of a preference origin that claim it
PREFERENCE_ELSEWHERE = 0.015  # honest lines of other origins claiming one (processing in a partner country)
GSP_SHARE = 0.75
SMALL_DECLARATION_USD = 5_000.0
SMALL_CONSIGNMENT_USD = 3_000.0


def general_rates(rng: np.random.Generator) -> dict[str, float]:
    """The general (MFN) duty of every HS6 code of the catalogue, in percent; chips (8541, 8542) are free."""
    cat = catalog()
    typical = np.array([PROFILE_DUTY[PROFILE_NAMES[p]] for p in cat.profile])
    factor = rng.choice(np.array([0.0, 0.5, 1.0, 1.5]), size=cat.size, p=[0.15, 0.25, 0.4, 0.2])
    rate = np.round(typical * factor * 2) / 2
    chips = np.array([h.startswith(("8541", "8542")) for h in cat.hs6])
    return dict(zip(cat.hs6, np.where(chips, 0.0, rate).tolist(), strict=True))


def _draw(rng: np.random.Generator, p: np.ndarray) -> np.ndarray:
    """One level per row of the probability matrix `p` (rows sum to 1)."""
    u = rng.random(len(p))
    return np.minimum((u[:, None] > np.cumsum(p, axis=1)).sum(axis=1), p.shape[1] - 1)


def own_columns(
    rng: np.random.Generator,
    lines: pd.DataFrame,
    doc: np.ndarray,
    importer: np.ndarray,
    circ: np.ndarray,
    cfg: ForeignConfig,
) -> pd.DataFrame:
    """The four own columns for Kazakh DT import `lines` (10-digit codes, transport modes still there);
    `doc` numbers each line's declaration 0..k-1, `importer` each line's importer 0..m-1, `circ` is truth."""
    cat = catalog()
    hs6 = lines["hs_code"].str.slice(0, 6)
    item = hs6.map({h: i for i, h in enumerate(cat.hs6)}).to_numpy(dtype=np.int64)
    n_docs = int(doc.max()) + 1 if len(doc) else 0
    first = np.full(n_docs, len(doc))
    np.minimum.at(first, doc, np.arange(len(doc)))
    lead = item[first]  # the goods of a declaration's first line set its terms
    value = np.bincount(doc, weights=lines["value_usd"].to_numpy(), minlength=n_docs)
    mode = lines["transport_mode"].to_numpy(dtype=object)[first]
    circ_doc = np.zeros(n_docs, dtype=bool)
    circ_doc[doc[circ]] = True
    authorised = rng.random(int(importer.max()) + 1 if len(importer) else 0) < cfg.authorised_share
    rates = general_rates(rng)

    # payment terms: goods and size of the declaration, then advance payment for part of circumvention
    bulky = np.isin(cat.mode_class[lead], [MODE_CLASSES.index(c) for c in ("heavy", "bulk", "pipe")])
    p_pay = np.where(bulky[:, None], [0.10, 0.35, 0.40, 0.15], [0.20, 0.55, 0.10, 0.15])
    p_pay = np.where((value < SMALL_DECLARATION_USD)[:, None], [0.45, 0.30, 0.05, 0.20], p_pay)
    payment = _draw(rng, p_pay)
    payment = np.where(circ_doc & (rng.random(n_docs) < cfg.circumvention_prepaid), 0, payment)

    # process: authorised operators simplify; small air/post consignments go express; rail/sea pre-arrive
    by_air = np.isin(mode, ["air", "post"])
    p_proc = np.select(
        [
            authorised[importer[first]][:, None],
            (by_air & (value < SMALL_CONSIGNMENT_USD))[:, None],
            by_air[:, None],
            np.isin(mode, ["rail", "sea"])[:, None],
        ],
        [[0.20, 0.10, 0.70, 0.0], [0.40, 0.0, 0.0, 0.60], [0.80, 0.0, 0.0, 0.20], [0.65, 0.35, 0.0, 0.0]],
        default=[0.85, 0.15, 0.0, 0.0],
    )
    process = _draw(rng, p_proc)
    process = np.where(circ_doc & (rng.random(n_docs) < cfg.circumvention_express), 3, process)

    # duty: the code's general rate; a preference where the origin has one; reliefs for some machinery
    general = hs6.map(rates).to_numpy(dtype=float)
    share = lines["origin_country"].map(PREFERENCE)
    eligible = share.notna().to_numpy()
    preferred = rng.random(len(lines)) < np.where(eligible, PREFERENCE_CLAIMED, PREFERENCE_ELSEWHERE)
    machinery = cat.mode_class[item] == MODE_CLASSES.index("heavy")
    exempt = rng.random(len(lines)) < np.where(machinery, 0.10, 0.03)
    tax_type = np.where(exempt, 2, np.where(preferred, 1, 0))
    relief = circ & (rng.random(len(lines)) < cfg.circumvention_relief)
    tax_type = np.where(relief, np.where(rng.random(len(lines)) < 0.5, 1, 2), tax_type)
    pays = np.where(tax_type == 1, share.fillna(GSP_SHARE).to_numpy(dtype=float), 1.0)
    tax_rate = np.where((tax_type == 2) | relief, 0.0, np.round(general * pays, 2))
    return pd.DataFrame(
        {
            "tax_rate": tax_rate,
            "tax_type": pd.Series(np.array(TAX_TYPES, dtype=object)[tax_type], dtype="str"),
            "process_type": pd.Series(np.array(PROCESS_TYPES, dtype=object)[process[doc]], dtype="str"),
            "payment_type": pd.Series(np.array(PAYMENT_TYPES, dtype=object)[payment[doc]], dtype="str"),
        }
    )
