"""The canonical data model: field names, types and rules. The field names are a public contract.

A *goods line* is one line of a goods declaration (DT) or of an EAEU e-waybill (SNT). An *inspection
outcome* is the label customs records when it checks a line. *Ground truth* exists only in the simulated
world and is never a model input.
"""

from dataclasses import dataclass
from enum import StrEnum

import pyarrow as pa


class Kind(StrEnum):
    """How a field is typed and parsed."""

    TEXT = "text"
    DATE = "date"
    NUMBER = "number"
    BOOL = "bool"


@dataclass(frozen=True)
class FieldSpec:
    """One canonical field and the rules every row must satisfy.

    `pattern` is a full-match regular expression; `choices` a closed set of values; `country` means an
    ISO 3166-1 alpha-2 code. Empty optional fields are allowed and stored as null.
    """

    name: str
    kind: Kind
    required: bool
    description: str
    choices: tuple[str, ...] = ()
    pattern: str | None = None
    country: bool = False
    non_negative: bool = False
    #: A probability of selection: more than 0, at most 1.
    probability: bool = False


DOCUMENT_KINDS = ("DT", "SNT")
DIRECTIONS = ("import", "export", "transit")
TRANSPORT_MODES = ("road", "rail", "air", "sea", "pipeline", "post")
OUTCOMES = ("violation", "clean")
#: How a line came to be inspected: the model's channel, the exploration quota, or a mandatory rule.
SELECTIONS = ("model", "exploration", "rule")

#: Kazakh format rules, the default: a 12-digit BIN and a 10-digit EAEU commodity code.
KZ_TRADER_ID_PATTERN = r"\d{12}"
KZ_HS_DIGITS = 10
#: Kazakh customs procedure codes: two digits (40 release for domestic consumption, 10 export, ...).
KZ_PROCEDURE_PATTERN = r"\d{2}"

LINE_FIELDS: tuple[FieldSpec, ...] = (
    FieldSpec("line_id", Kind.TEXT, True, "Unique id of the goods line"),
    FieldSpec("document_id", Kind.TEXT, True, "Id of the declaration (DT) or waybill (SNT)"),
    FieldSpec("document_kind", Kind.TEXT, True, "DT (goods declaration) or SNT (e-waybill)", DOCUMENT_KINDS),
    FieldSpec("direction", Kind.TEXT, True, "import, export or transit", DIRECTIONS),
    FieldSpec(
        "procedure",
        Kind.TEXT,
        False,
        "Customs procedure code (DT only; two digits in Kazakhstan)",
        pattern=KZ_PROCEDURE_PATTERN,
    ),
    FieldSpec("date", Kind.DATE, True, "Date of the declaration or waybill"),
    FieldSpec(
        "trader_id", Kind.TEXT, True, "Trader id (12-digit BIN in Kazakhstan)", pattern=KZ_TRADER_ID_PATTERN
    ),
    FieldSpec("trader_name", Kind.TEXT, False, "Trader name"),
    FieldSpec("counterparty_name", Kind.TEXT, False, "Foreign counterparty (seller or buyer) name"),
    FieldSpec("counterparty_country", Kind.TEXT, False, "Counterparty country", country=True),
    FieldSpec("declarant_id", Kind.TEXT, False, "Declarant or customs broker id"),
    FieldSpec(
        "hs_code", Kind.TEXT, True, "Commodity code (10-digit EAEU code by default)", pattern=r"\d{10}"
    ),
    FieldSpec("description", Kind.TEXT, False, "Goods description"),
    FieldSpec("origin_country", Kind.TEXT, False, "Country of origin", country=True),
    FieldSpec("dispatch_country", Kind.TEXT, False, "Country of dispatch", country=True),
    FieldSpec("destination_country", Kind.TEXT, False, "Country of destination", country=True),
    FieldSpec(
        "trading_country", Kind.TEXT, False, "Trading country (the contract counterparty's)", country=True
    ),
    FieldSpec("value_usd", Kind.NUMBER, True, "Customs value in USD", non_negative=True),
    FieldSpec("net_mass_kg", Kind.NUMBER, True, "Net mass in kg", non_negative=True),
    FieldSpec("gross_mass_kg", Kind.NUMBER, False, "Gross mass in kg", non_negative=True),
    FieldSpec("quantity", Kind.NUMBER, False, "Quantity in supplementary units", non_negative=True),
    FieldSpec("transport_mode", Kind.TEXT, False, "Mode of transport at the border", TRANSPORT_MODES),
    FieldSpec("customs_office", Kind.TEXT, False, "Customs office or border post code"),
    FieldSpec("previous_document_id", Kind.TEXT, False, "Reference to a previous document"),
)

INSPECTION_FIELDS: tuple[FieldSpec, ...] = (
    FieldSpec("line_id", Kind.TEXT, True, "The inspected goods line"),
    FieldSpec("inspected_on", Kind.DATE, True, "Date of the inspection"),
    FieldSpec("outcome", Kind.TEXT, True, "violation or clean", OUTCOMES),
    FieldSpec("violation_type", Kind.TEXT, False, "Kind of violation found (empty when clean)"),
    FieldSpec(
        "selection", Kind.TEXT, False, "Why the line was inspected: model, exploration or rule", SELECTIONS
    ),
    FieldSpec(
        "propensity",
        Kind.NUMBER,
        False,
        "Probability that the policy in force would select the line for inspection (0 < p <= 1)",
        probability=True,
    ),
)

TRUTH_FIELDS: tuple[FieldSpec, ...] = (
    FieldSpec("line_id", Kind.TEXT, True, "The goods line"),
    FieldSpec("is_circumvention", Kind.BOOL, True, "Whether the line is part of a circumvention scheme"),
    FieldSpec("scheme", Kind.TEXT, False, "Name of the planted scheme, empty for honest lines"),
    FieldSpec(
        "listed_party",
        Kind.BOOL,
        False,
        "Whether the counterparty or trader was on the world's sanctions list",
    ),
)

#: Canonical id columns of parties, goods and places: what id statistics (smoothed violation rates) may be
#: computed on. Line and document ids are not among them: a line's own id has no history, and the lines of
#: one declaration share its outcome, so a document's statistic would hand a line its neighbours' labels.
ID_COLUMNS: tuple[str, ...] = (
    "trader_id",
    "trader_name",
    "declarant_id",
    "counterparty_name",
    "hs_code",
    "customs_office",
)

LINE_COLUMNS: tuple[str, ...] = tuple(f.name for f in LINE_FIELDS)
INSPECTION_COLUMNS: tuple[str, ...] = tuple(f.name for f in INSPECTION_FIELDS)
TRUTH_COLUMNS: tuple[str, ...] = tuple(f.name for f in TRUTH_FIELDS)

_ARROW_TYPES = {
    Kind.TEXT: pa.string(),
    Kind.DATE: pa.date32(),
    Kind.NUMBER: pa.float64(),
    Kind.BOOL: pa.bool_(),
}


def arrow_schema(fields: tuple[FieldSpec, ...], extra: dict[str, pa.DataType] | None = None) -> pa.Schema:
    """The Parquet schema of a canonical table, with any declared extra columns appended.

    Every column is nullable: required fields are enforced by validation, and a mapping may declare a
    field missing for a whole source.
    """
    columns = [pa.field(f.name, _ARROW_TYPES[f.kind]) for f in fields]
    columns += [pa.field(name, dtype, nullable=True) for name, dtype in (extra or {}).items()]
    return pa.schema(columns)


LINES_SCHEMA = arrow_schema(LINE_FIELDS)
INSPECTIONS_SCHEMA = arrow_schema(INSPECTION_FIELDS)
TRUTH_SCHEMA = arrow_schema(TRUTH_FIELDS)
