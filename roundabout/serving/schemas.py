"""Request and response models of the API: the contract customs risk systems code against.

A request is checked at this edge in two steps, each once: pydantic takes the JSON apart by type and size
(texts must be JSON strings: `"hs_code": 8542310000`, a number, is refused rather than silently losing a
leading zero; numbers must be JSON numbers; unknown fields are refused, so a misspelt field never passes
unnoticed; optional fields may be left out); then the domain rules of `roundabout.data.rules` (code lists,
patterns, ISO countries, finite non-negative numbers, net <= gross, DT/SNT procedure, the date range) are
applied by the record validator with the service's format rules (`routers/score.py`). The schema shows
the rules of the default (Kazakh) format for documentation; the rules themselves live in one place.
"""

from datetime import date
from typing import Annotated, Any, Literal

from pydantic import BaseModel, ConfigDict, Field, StringConstraints, create_model

from roundabout.data.rules import MAX_LINE_ID, FormatRules, Matches, NonNegative, line_rules
from roundabout.data.schema import LINE_FIELDS, OUTCOMES, FieldSpec, Kind
from roundabout.serving.outcome_schemas import OutcomeRecordOut

#: Longest texts a line may carry (the store takes longer ones; the API is no place for a novel).
MAX_TEXT = {"description": 2000, "trader_name": 512, "counterparty_name": 512, "line_id": MAX_LINE_ID}
DEFAULT_MAX_TEXT = 128

EXAMPLE_LINE: dict[str, Any] = {
    "line_id": "KZ-SNT-2024-000123/1",
    "document_id": "KZ-SNT-2024-000123",
    "document_kind": "SNT",
    "direction": "export",
    "procedure": None,
    "date": "2024-03-12",
    "trader_id": "220540012348",
    "trader_name": "TOO Vector Trade",
    "counterparty_name": "OOO Sever Komplekt",
    "counterparty_country": "RU",
    "declarant_id": None,
    "hs_code": "8542310000",
    "description": "Microcontrollers STM32F407, Texas Instruments DSP",
    "origin_country": "US",
    "dispatch_country": "KZ",
    "destination_country": "RU",
    "trading_country": "RU",
    "value_usd": 48200.0,
    "net_mass_kg": 12.5,
    "gross_mass_kg": 14.0,
    "quantity": 900,
    "transport_mode": "road",
    "customs_office": "55208",
    "previous_document_id": None,
}

#: The smallest line the API takes: the required fields (and a DT's procedure); the rest may be left out.
MINIMAL_LINE: dict[str, Any] = {
    "line_id": "KZ-DT-2024-000456/3",
    "document_id": "KZ-DT-2024-000456",
    "document_kind": "DT",
    "direction": "import",
    "procedure": "40",
    "date": "2024-03-12",
    "trader_id": "220540012348",
    "hs_code": "8542310000",
    "value_usd": 1250.0,
    "net_mass_kg": 0.4,
}


def _documented(spec: FieldSpec) -> dict[str, Any]:
    """What the schema shows of a field's rules under the default format (checked by the rules, not here)."""
    shown: dict[str, Any] = {}
    for rule in line_rules(FormatRules()).by_field[spec.name]:
        if isinstance(rule, Matches) and not spec.country:
            shown["pattern"] = f"^(?:{rule.pattern})$"
        elif isinstance(rule, NonNegative):
            shown["minimum"] = 0
    if spec.choices:
        shown["enum"] = list(spec.choices)
    if spec.country:
        shown["pattern"] = "^[A-Z]{2}$"
    return shown


def _annotation(spec: FieldSpec) -> Any:
    """The JSON type of one canonical field: its kind and size, nothing of its rules."""
    if spec.kind is Kind.DATE:
        return date
    if spec.kind is Kind.NUMBER:
        # JSON has no NaN or Infinity: a body that sends them is refused as malformed, not taken as missing.
        return Annotated[float, Field(strict=True, allow_inf_nan=False)]
    max_length = MAX_TEXT.get(spec.name, DEFAULT_MAX_TEXT)
    return Annotated[
        str, StringConstraints(strict=True, strip_whitespace=True, min_length=1, max_length=max_length)
    ]


def _line_fields() -> dict[str, Any]:
    fields: dict[str, Any] = {}
    for spec in LINE_FIELDS:
        info: dict[str, Any] = {"description": spec.description, "examples": [EXAMPLE_LINE[spec.name]]}
        info["json_schema_extra"] = _documented(spec)
        if spec.required:
            fields[spec.name] = (_annotation(spec), Field(**info))
        else:
            fields[spec.name] = (_annotation(spec) | None, Field(default=None, **info))
    return fields


#: One canonical goods line, as sent to the API.
LineIn: type[BaseModel] = create_model(
    "LineIn",
    __config__=ConfigDict(extra="forbid", json_schema_extra={"examples": [EXAMPLE_LINE, MINIMAL_LINE]}),
    **_line_fields(),
)


class ScoreRequest(BaseModel):
    """Lines to score, in the order results should come back."""

    lines: list[LineIn] = Field(min_length=1, description="1 to the configured maximum (default 1000)")  # type: ignore[valid-type]
    explain: bool = Field(True, strict=True, description="Return reasons for each line (true or false)")
    top_k: int = Field(5, ge=0, le=20, strict=True, description="How many reasons per line (a number)")

    model_config = ConfigDict(extra="forbid", json_schema_extra={"examples": [{"lines": [EXAMPLE_LINE]}]})


class ReasonOut(BaseModel):
    """Why a line scored as it did: one feature, its value, its contribution, a sentence an officer reads."""

    feature: str
    value: float | str | None
    contribution: float
    text: str


class LineResult(BaseModel):
    line_id: str
    risk_score: float = Field(ge=0, le=1)
    anomaly_score: float
    oddness_score: float | None = Field(
        description="How rare the line's oddest trait is for its goods: -log10 of the share of training "
        "lines as extreme (2: one in a hundred; 6: one in a million). null for models without the detector"
    )
    channel: Literal["green", "yellow", "red"]
    selection: Literal["model", "exploration", "rule"] = Field(
        description="How the channel was chosen: model (its thresholds), exploration (drawn at random by "
        "the quota, whatever the score) or rule (a sanctions-list hit)"
    )
    propensity: float = Field(
        ge=0,
        le=1,
        description="Probability that the policy in force selects this line for inspection (red or yellow): "
        "1 when the model or a rule does, the line's exploration chance otherwise",
    )
    reasons: list[ReasonOut]


class ModelRef(BaseModel):
    name: str
    version: str


class ScoreResponse(BaseModel):
    request_id: str
    model: ModelRef
    results: list[LineResult]


class OutcomeIn(BaseModel):
    """An inspection outcome for a line the service has scored (its rules are checked as a line's are)."""

    model_config = ConfigDict(
        extra="forbid",
        json_schema_extra={
            "examples": [
                {
                    "line_id": "KZ-SNT-2024-000123/1",
                    "inspected_on": "2024-03-15",
                    "outcome": "violation",
                    "violation_type": "sanctions_circumvention",
                }
            ]
        },
    )

    line_id: Annotated[
        str, StringConstraints(strict=True, strip_whitespace=True, min_length=1, max_length=MAX_LINE_ID)
    ]
    inspected_on: date
    outcome: Annotated[str, StringConstraints(strict=True), Field(json_schema_extra={"enum": list(OUTCOMES)})]
    violation_type: Annotated[str, StringConstraints(strict=True, max_length=DEFAULT_MAX_TEXT)] | None = None


class FeedbackRequest(BaseModel):
    model_config = ConfigDict(extra="forbid")

    outcomes: list[OutcomeIn] = Field(min_length=1)


class FeedbackResponse(BaseModel):
    new: int = Field(description="Outcomes stored by this call")
    duplicates: int = Field(description="Outcomes already stored (the call is safe to retry)")


class DecisionOut(BaseModel):
    """One stored scoring decision (audit trail)."""

    request_id: str
    key_id: str
    line_id: str
    model_name: str
    model_version: str
    risk_score: float
    anomaly_score: float
    oddness_score: float | None
    channel: str
    reasons: list[ReasonOut]
    decided_at: str
    list_versions: dict[str, int] = Field(
        default_factory=dict,
        description="The sanctions list versions the line's parties were screened against",
    )
    selection: str | None = Field(
        None, description="How the line was selected (model, exploration, rule); null before the policy"
    )
    propensity: float | None = Field(
        None, description="The line's probability of inspection under the policy; null before the policy"
    )


class OutcomeOut(BaseModel):
    """The stored inspection outcome of a line, with who sent it and when (null for a loaded history)."""

    inspected_on: date
    outcome: str
    violation_type: str | None
    key_id: str | None
    received_at: str | None
    note: str | None


class DecisionsResponse(BaseModel):
    line_id: str
    decisions: list[DecisionOut]
    outcome: OutcomeOut | None = None
    outcomes: list[OutcomeRecordOut] = Field(
        default_factory=list,
        description="Every outcome received for the line, corrections included, oldest first",
    )


class ModelInfo(BaseModel):
    name: str
    version: str
    alias: str
    run_id: str | None
    trained_at: str | None
    holdout_metrics: dict[str, float]
    thresholds: dict[str, float | int | str]
    policy: dict[str, float | str] = Field(
        description="The selection policy: exploration rate, strategy, channel, floor and weight scale"
    )
    exploration: dict[str, float] = Field(
        description="Figures of the model's holdout estimated from the exploration sample by inverse "
        "propensity (prevalence, precision and recall at each inspection rate, PR-AUC); empty when the "
        "holdout had none"
    )
    features: list[str]


ScreenName = Annotated[
    str, StringConstraints(strict=True, strip_whitespace=True, min_length=1, max_length=512)
]
CountryCode = Annotated[str, StringConstraints(strict=True, strip_whitespace=True, pattern=r"^[A-Za-z]{2}$")]


class NameIn(BaseModel):
    """A party to screen: its name as declared (any script) and, if known, its country (ISO alpha-2)."""

    model_config = ConfigDict(extra="forbid")

    name: ScreenName
    country: CountryCode | None = None


class ScreenRequest(BaseModel):
    """Names to screen against the sanctions lists the service follows."""

    model_config = ConfigDict(
        extra="forbid",
        json_schema_extra={
            "examples": [
                {
                    "names": [
                        {"name": "Elektronika Plus LLC", "country": "RU"},
                        {"name": "ТОО «Каспий Тех»"},
                        {"name": "Global Trade Components Ltd"},
                    ]
                }
            ]
        },
    )

    names: list[NameIn] = Field(min_length=1, description="1 to the configured maximum (default 1000)")
    min_score: float | None = Field(
        None, ge=0, le=1, description="Report matches from this score (default: the match threshold)"
    )
    limit: int = Field(3, ge=1, le=20, strict=True, description="Most matches per name")


class MatchedWord(BaseModel):
    query: str
    listed: str
    similarity: float


class MatchOut(BaseModel):
    """A list entry the name resembles, with why: the name or alias matched and the words paired."""

    score: float = Field(ge=0, le=1)
    list: str
    list_version: int
    entry_id: str
    entry_name: str
    matched_name: str
    programmes: list[str]
    programme_family: str
    countries: list[str]
    kind: str
    matched_words: list[MatchedWord]
    country_agrees: bool | None
    listed_on: str | None


class NameResult(BaseModel):
    name: str
    country: str | None
    matches: list[MatchOut]


class ListVersionOut(BaseModel):
    list: str
    version: int
    content_hash: str
    published: str | None


class ScreenResponse(BaseModel):
    threshold: float
    lists: list[ListVersionOut]
    results: list[NameResult]


class Problem(BaseModel):
    """An error answer: what went wrong, and for bad input, which fields."""

    detail: str | list[dict[str, Any]]


class Readiness(BaseModel):
    """`/readyz`: ready or not, with the reasons."""

    status: Literal["ready", "not ready"]
    reasons: list[str]
    model: ModelRef | None
    last_model_error: str | None


class ReloadResult(BaseModel):
    """`/v1/admin/reload`: what the alias check did and the version serving after it."""

    result: Literal["unchanged", "swapped", "failed"]
    serving: ModelRef | None
    last_error: str | None


_ERRORS = {
    400: "The body could not be parsed at all (for example JSON nested too deeply)",
    404: "No such route: a path that cannot be a line id (for example one holding a line break)",
    401: "Missing or unknown key",
    403: "The key lacks the scope this endpoint needs",
    409: "The record contradicts one already stored: nothing was stored",
    413: "More lines than the configured maximum, or body too large",
    422: "Bad input: one item per problem, naming the field",
    503: "No model loaded or the store unavailable: nothing was stored; safe to retry (Retry-After)",
}


def error_answers(*codes: int, **overrides: str) -> dict[int | str, dict[str, Any]]:
    """OpenAPI `responses` for error codes, all with the `Problem` body; `overrides` as `e422="..."`."""
    return {
        code: {"model": Problem, "description": overrides.get(f"e{code}", _ERRORS[code])} for code in codes
    }
