"""The intermediate form of generated trade: documents and their goods lines as integer numpy arrays.

Honest trade and every scheme produce a `TradeArrays`; batches are concatenated and only then turned into the
canonical frames (ids, codes, strings). Keeping everything integer until the end is what makes a million
lines fast.
"""

from dataclasses import dataclass

import numpy as np

# Flows (kind of movement). DT = goods declaration, SNT = EAEU e-waybill.
IMP40, EXP10, REX31, TRN80, SNT_IMP, SNT_EXP = range(6)
FLOW_KIND = np.array(["DT", "DT", "DT", "DT", "SNT", "SNT"], dtype=object)
FLOW_DIRECTION = np.array(["import", "export", "export", "transit", "import", "export"], dtype=object)
FLOW_PROCEDURE = np.array(["40", "10", "31", "80", None, None], dtype=object)
IS_SNT = np.array([False, False, False, False, True, True])
IS_EXPORT = np.array([False, True, True, False, False, True])

MODES = np.array(["road", "rail", "air", "sea", "pipeline", "post"], dtype=object)
ROAD, RAIL, AIR, SEA, PIPE, POST = range(6)

#: Scheme codes in truth (0 = honest). Order is part of the seed contract.
SCHEMES: tuple[str, ...] = (
    "",
    "reexport_chain",
    "shell_company",
    "misclassification",
    "transit_diversion",
    "price_anomaly",
    "mix_shift",
)
SCHEME_CODE = {name: i for i, name in enumerate(SCHEMES)}

#: Ordinary violations of honest lines (label noise), code -> violation type.
HONEST_VIOLATIONS: tuple[str, ...] = (
    "",
    "undervaluation",
    "origin_misdeclaration",
    "misclassification",
    "documents",
)

DOC_KEYS = (
    "trader", "day", "flow", "cp", "cp_country", "dispatch", "destination", "trading", "mode", "office",
    "declarant", "prev",
)  # fmt: skip
LINE_KEYS = (
    "doc", "item", "hs10", "brand", "origin", "quantity", "net", "gross", "value", "scheme", "violation",
    "leg",
)  # fmt: skip
#: `leg` values: 0 ordinary, 1 import leg of a chain (evidence lies downstream).
LEG_IMPORT = 1


@dataclass
class TradeArrays:
    """Documents (`doc[key]`, one row per document) and lines (`line[key]`; `line["doc"]` indexes `doc`).
    `doc["prev"]` is the index of a previous document in the same batch, or -1. `doc["declarant"]` indexes
    the parties table (traders first, then brokers)."""

    doc: dict[str, np.ndarray]
    line: dict[str, np.ndarray]

    @property
    def n_lines(self) -> int:
        return len(self.line["doc"])

    @property
    def n_docs(self) -> int:
        return len(self.doc["day"])

    def take_lines(self, keep: np.ndarray) -> "TradeArrays":
        """Only the lines at `keep` (sorted indices or a mask); documents left without lines go too."""
        line = {k: v[keep] for k, v in self.line.items()}
        used = np.zeros(self.n_docs, dtype=bool)
        used[line["doc"]] = True
        new_index = np.cumsum(used) - 1
        doc = {k: v[used] for k, v in self.doc.items()}
        prev = doc["prev"]
        valid = prev >= 0
        prev_ok = np.zeros_like(valid)
        prev_ok[valid] = used[prev[valid]]
        doc["prev"] = np.where(prev_ok, new_index[np.maximum(prev, 0)], -1)
        line["doc"] = new_index[line["doc"]]
        return TradeArrays(doc, line)

    @staticmethod
    def concat(batches: list["TradeArrays"]) -> "TradeArrays":
        """One batch; document indices (and `prev` references) are shifted."""
        docs: dict[str, list[np.ndarray]] = {k: [] for k in DOC_KEYS}
        lines: dict[str, list[np.ndarray]] = {k: [] for k in LINE_KEYS}
        offset = 0
        for b in batches:
            for k in DOC_KEYS:
                v = b.doc[k]
                docs[k].append(np.where(v >= 0, v + offset, -1) if k == "prev" else v)
            for k in LINE_KEYS:
                lines[k].append(b.line[k] + offset if k == "doc" else b.line[k])
            offset += b.n_docs
        return TradeArrays(
            {k: np.concatenate(v) for k, v in docs.items()}, {k: np.concatenate(v) for k, v in lines.items()}
        )


def with_followups(first: TradeArrays, followups: TradeArrays) -> TradeArrays:
    """`first` then `followups`, whose `prev` references index documents of `first`."""
    both = TradeArrays.concat([first, followups])
    tail = np.arange(both.n_docs) >= first.n_docs
    prev = both.doc["prev"]
    both.doc["prev"] = np.where(tail & (prev >= 0), prev - first.n_docs, prev)
    return both


def expand(doc_lines: np.ndarray) -> np.ndarray:
    """The document index of every line, given the number of lines of each document."""
    return np.repeat(np.arange(len(doc_lines)), doc_lines)
