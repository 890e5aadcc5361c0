"""Request and response models of the API: the contract customs risk systems code against.

The goods-line model is built from the canonical `LINE_FIELDS`, so the API checks exactly what ingest
checks (patterns, code lists, ISO countries, non-negative finite numbers, net <= gross, DT/SNT procedure
rules, date range). Texts and numbers are strict: `"hs_code": 8542310000` (a number) is refused rather
than silently losing a leading zero, and `"value_usd": "12"` is refused as a wrong type. Unknown fields
are refused, so a misspelt field never passes unnoticed.
"""

import re
from datetime import date
from typing import Annotated, Any, Literal

from pydantic import (
    BaseModel,
    ConfigDict,
    Field,
    StringConstraints,
    create_model,
    field_validator,
    model_validator,
)

from roundabout.data.schema import LINE_FIELDS, OUTCOMES, FieldSpec, Kind
from roundabout.reference import ISO_ALPHA2
from roundabout.settings import get_settings

MAX_TEXT = {"description": 2000, "trader_name": 512, "counterparty_name": 512}
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


def _annotation(spec: FieldSpec) -> Any:
    """The pydantic type of one canonical field."""
    if spec.kind is Kind.DATE:
        return date
    if spec.kind is Kind.NUMBER:
        constraints: dict[str, Any] = {"strict": True, "allow_inf_nan": False}
        if spec.non_negative:
            constraints["ge"] = 0
        return Annotated[float, Field(**constraints)]
    if spec.choices:
        return Literal[spec.choices]
    # `\d` would also take Arabic-Indic or other Unicode digits for a BIN or commodity code: ASCII only.
    pattern = "^(?:" + spec.pattern.replace(r"\d", "[0-9]") + ")$" if spec.pattern else None
    if spec.country:
        pattern = r"^[A-Z]{2}$"
    max_length = MAX_TEXT.get(spec.name, DEFAULT_MAX_TEXT)
    text = StringConstraints(
        strict=True, strip_whitespace=True, min_length=1, max_length=max_length, pattern=pattern
    )
    return Annotated[str, text]


def _line_fields() -> dict[str, Any]:
    fields: dict[str, Any] = {}
    for spec in LINE_FIELDS:
        annotation = _annotation(spec)
        info = Field(description=spec.description, examples=[EXAMPLE_LINE[spec.name]])
        if spec.required:
            fields[spec.name] = (annotation, info)
        else:
            info.default = None
            fields[spec.name] = (annotation | None, info)
    return fields


_CONTROL = re.compile(r"[\x00-\x1f\x7f]")


def _without_nul(value: str | None) -> str | None:
    """Refuse NUL characters: PostgreSQL text cannot hold them, so they would fail in the store, not here."""
    if value is not None and "\x00" in value:
        raise ValueError("NUL characters (\\u0000) are not allowed")
    return value


def _plain_id(value: str) -> str:
    """Refuse control characters in a line id: it is a key in logs and in `/v1/decisions/{line_id}`."""
    if _CONTROL.search(value):
        raise ValueError("control characters (\\u0000-\\u001f, \\u007f) are not allowed in a line id")
    return value


class _LineRules(BaseModel):
    """Rules that relate several fields, and those that need reference data."""

    model_config = ConfigDict(extra="forbid", json_schema_extra={"examples": [EXAMPLE_LINE]})

    @field_validator(*(f.name for f in LINE_FIELDS if f.country), check_fields=False)
    @classmethod
    def _iso_country(cls, value: str | None) -> str | None:
        if value is not None and value not in ISO_ALPHA2:
            raise ValueError(f"{value!r} is not an ISO 3166-1 alpha-2 country code")
        return value

    @field_validator(*(f.name for f in LINE_FIELDS if f.kind is Kind.TEXT), check_fields=False)
    @classmethod
    def _no_nul(cls, value: str | None) -> str | None:
        return _without_nul(value)

    @field_validator("line_id", check_fields=False)
    @classmethod
    def _line_id(cls, value: str) -> str:
        return _plain_id(value)

    @field_validator(*(f.name for f in LINE_FIELDS if f.kind is Kind.DATE), check_fields=False)
    @classmethod
    def _in_range(cls, value: date) -> date:
        settings = get_settings()
        if not settings.min_date <= value <= settings.latest_date():
            raise ValueError(f"date outside {settings.min_date}..{settings.latest_date()}")
        return value

    @model_validator(mode="after")
    def _cross_field(self) -> "_LineRules":
        data = self.__dict__
        gross = data.get("gross_mass_kg")
        if gross is not None and data["net_mass_kg"] > gross:
            raise ValueError("net_mass_kg: net mass exceeds gross mass")
        if data["document_kind"] == "DT" and data.get("procedure") is None:
            raise ValueError("procedure: required on a DT line")
        if data["document_kind"] == "SNT" and data.get("procedure") is not None:
            raise ValueError("procedure: must be empty on an SNT line")
        return self


#: One canonical goods line, as sent to the API.
LineIn: type[BaseModel] = create_model("LineIn", __base__=_LineRules, **_line_fields())


class ScoreRequest(BaseModel):
    """Lines to score, in the order results should come back."""

    lines: list[LineIn] = Field(min_length=1, description="1 to the configured maximum (default 1000)")  # type: ignore[valid-type]
    explain: bool = Field(True, description="Return reasons for each line")
    top_k: int = Field(5, ge=0, le=20, description="How many reasons per line")

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
    channel: Literal["green", "yellow", "red"]
    reasons: list[ReasonOut]


class ModelRef(BaseModel):
    name: str
    version: str


class ScoreResponse(BaseModel):
    request_id: str
    model: ModelRef
    results: list[LineResult]


class OutcomeIn(BaseModel):
    """An inspection outcome for a line the service has scored."""

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
        str, StringConstraints(strict=True, strip_whitespace=True, min_length=1, max_length=128)
    ]
    inspected_on: date
    outcome: Literal[OUTCOMES]  # type: ignore[valid-type]
    violation_type: Annotated[str, StringConstraints(strict=True, max_length=128)] | None = None

    @field_validator("line_id", "violation_type")
    @classmethod
    def _no_nul(cls, value: str | None) -> str | None:
        return _without_nul(value)

    @field_validator("line_id")
    @classmethod
    def _line_id(cls, value: str) -> str:
        return _plain_id(value)

    @model_validator(mode="after")
    def _clean_has_no_type(self) -> "OutcomeIn":
        if self.outcome == "clean" and self.violation_type:
            raise ValueError("violation_type: must be empty when the outcome is clean")
        return self


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
    channel: str
    reasons: list[ReasonOut]
    decided_at: str


class DecisionsResponse(BaseModel):
    line_id: str
    decisions: list[DecisionOut]


class ModelInfo(BaseModel):
    name: str
    version: str
    alias: str
    run_id: str | None
    trained_at: str | None
    holdout_metrics: dict[str, float]
    thresholds: dict[str, float | int | str]
    features: list[str]


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
    413: "More lines than the configured maximum, or body too large",
    422: "Bad input: one item per problem, naming the field",
    503: "No model loaded or the store unavailable: nothing was stored; safe to retry (Retry-After)",
}


def error_answers(*codes: int, **overrides: str) -> dict[int | str, dict[str, Any]]:
    """OpenAPI `responses` for error codes, all with the `Problem` body; `overrides` as `e422="..."`."""
    return {
        code: {"model": Problem, "description": overrides.get(f"e{code}", _ERRORS[code])} for code in codes
    }
