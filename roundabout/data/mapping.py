"""An ingest mapping: how one administration's table becomes canonical goods lines (and outcomes).

A mapping is a YAML file (format and worked example in docs/ingest.md). It renames source columns to
canonical fields, maps codes to canonical values, gives date formats, decimal mark and unit conversions,
says which format rules apply (trader id and procedure code formats, commodity code length, fields the
source lacks), declares extra columns that flow through to the model as features, and optionally names the
inspection-outcome columns. A mapping is checked as a whole before any row is read, so a typo in it fails
fast with the offending key named.
"""

from pathlib import Path
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field, field_validator, model_validator

from roundabout.data.currency import read_rates
from roundabout.data.rules import ESSENTIAL_FIELDS, FormatRules, check_pattern
from roundabout.data.schema import (
    INSPECTION_COLUMNS,
    KZ_HS_DIGITS,
    KZ_PROCEDURE_PATTERN,
    KZ_TRADER_ID_PATTERN,
    LINE_COLUMNS,
    LINE_FIELDS,
    Kind,
)
from roundabout.errors import ConfigError
from roundabout.yaml_config import load_yaml_config

_DATE_FIELDS = {f.name for f in LINE_FIELDS if f.kind is Kind.DATE}
_NUMBER_FIELDS = {f.name for f in LINE_FIELDS if f.kind is Kind.NUMBER}
_REQUIRED = {f.name for f in LINE_FIELDS if f.required}


class MappingError(ConfigError):
    """A mapping that cannot be applied: bad YAML, unknown field, source column not found."""


class SourceOptions(BaseModel):
    """How to read the source file."""

    model_config = ConfigDict(extra="forbid")

    format: Literal["csv", "parquet"] | None = Field(None, description="Default: from the file extension")
    delimiter: str = ","
    encoding: str = "utf-8"
    decimal: str = Field(".", description="Decimal mark of numbers written as text")


class Rules(BaseModel):
    """Which format rules apply. Defaults are Kazakhstan's (12-digit BIN, 10-digit EAEU codes, 2-digit
    procedure codes)."""

    model_config = ConfigDict(extra="forbid")

    trader_id_pattern: str = KZ_TRADER_ID_PATTERN
    hs_code_digits: list[int] = Field(default_factory=lambda: [KZ_HS_DIGITS])
    procedure_pattern: str = Field(KZ_PROCEDURE_PATTERN, description="Full-match regex for procedure codes")
    missing: list[str] = Field(default_factory=list, description="Canonical fields this source lacks")

    @field_validator("trader_id_pattern", "procedure_pattern")
    @classmethod
    def _compiles(cls, value: str) -> str:
        return check_pattern(value)


class ExtraColumn(BaseModel):
    """A column of the administration's own that becomes a model feature."""

    model_config = ConfigDict(extra="forbid")

    source: str
    kind: Literal["categorical", "numeric"]


class OutcomeColumns(BaseModel):
    """Source columns holding inspection outcomes; a row with an empty outcome was not inspected."""

    model_config = ConfigDict(extra="forbid")

    inspected_on: str
    outcome: str
    violation_type: str | None = None
    date_format: str = "%Y-%m-%d"
    values: dict[str, dict[str, str]] = Field(
        default_factory=dict, description="Per outcome field: source code -> canonical value"
    )

    @field_validator("values")
    @classmethod
    def _known(cls, value: dict[str, dict[str, str]]) -> dict[str, dict[str, str]]:
        unknown = sorted(set(value) - set(INSPECTION_COLUMNS))
        if unknown:
            raise ValueError(f"not inspection fields: {', '.join(unknown)}")
        return value


class Table(BaseModel):
    """One table of a declaration system's export (header, items, parties), joined to the goods lines
    (`data/joins.py`)."""

    model_config = ConfigDict(extra="forbid")

    file: str | None = Field(None, description="The `--source NAME=FILE` it is read from (default: its name)")
    join: dict[str, str] = Field(
        default_factory=dict,
        description="Goods-line table column -> this table's column; empty for the goods-line table itself",
    )
    where: dict[str, str] = Field(
        default_factory=dict, description="Only this file's rows with these values (e.g. a party's role)"
    )
    required: bool = Field(True, description="A goods line without a row here is rejected (else loads empty)")


class UnitColumn(BaseModel):
    """A numeric field whose unit a column gives per row (a mass in KG, T or G): the factor of each code
    to the canonical unit."""

    model_config = ConfigDict(extra="forbid")

    column: str = Field(description="Source column with each row's unit code")
    factors: dict[str, float] = Field(description="Unit code -> factor to the canonical unit (T: 1000)")


class Currency(BaseModel):
    """The currency of declared values and the daily rates that turn them into US dollars
    (`data/currency.py`)."""

    model_config = ConfigDict(extra="forbid")

    column: str = Field(description="Source column with each line's currency code (ISO 4217)")
    rates: Path = Field(description="CSV of date, currency, rate (USD per unit); relative to the mapping")
    fields: list[str] = Field(default_factory=lambda: ["value_usd"], description="Values declared in it")
    max_age_days: int = Field(7, ge=0, description="Oldest rate taken, in days before the line's date")
    usd: str = Field("USD", description="The code of US dollars (rate 1)")


class IngestMapping(BaseModel):
    """One administration's table, described in canonical terms."""

    model_config = ConfigDict(extra="forbid")

    name: str
    description: str = ""
    source: SourceOptions = Field(default_factory=SourceOptions)
    columns: dict[str, str | list[str]] = Field(
        description="Canonical field -> source column, or a list of columns joined with '/'"
    )
    constants: dict[str, str] = Field(default_factory=dict, description="Canonical field -> fixed value")
    values: dict[str, dict[str, str | None]] = Field(
        default_factory=dict,
        description="Canonical field -> {source code: canonical value}; a code mapped to null (YAML ~) "
        "means unknown and loads as an empty field",
    )
    dates: dict[str, str] = Field(default_factory=dict, description="Date field -> strptime format")
    units: dict[str, float] = Field(default_factory=dict, description="Numeric field -> factor to apply")
    unit_columns: dict[str, UnitColumn] = Field(
        default_factory=dict, description="Numeric field -> the column giving its unit per row, and factors"
    )
    rules: Rules = Field(default_factory=Rules)
    extra_columns: dict[str, ExtraColumn] = Field(default_factory=dict)
    outcomes: OutcomeColumns | None = None
    currency: Currency | None = None
    tables: dict[str, Table] = Field(
        default_factory=dict,
        description="Several source tables joined into goods lines; columns are then named TABLE.COLUMN",
    )

    @model_validator(mode="after")
    def _consistent(self) -> "IngestMapping":
        canonical = set(LINE_COLUMNS)
        for section in ("columns", "constants", "values", "dates", "units"):
            unknown = sorted(set(getattr(self, section)) - canonical)
            if unknown:
                raise ValueError(f"{section}: not canonical line fields: {', '.join(unknown)}")
        if bad := sorted(set(self.dates) - _DATE_FIELDS):
            raise ValueError(f"dates: not date fields: {', '.join(bad)}")
        if bad := sorted(set(self.units) - _NUMBER_FIELDS):
            raise ValueError(f"units: not numeric fields: {', '.join(bad)}")
        if both := sorted(set(self.columns) & set(self.constants)):
            raise ValueError(f"fields given both a column and a constant: {', '.join(both)}")
        if bad := sorted(set(self.rules.missing) - canonical):
            raise ValueError(f"rules.missing: not canonical line fields: {', '.join(bad)}")
        if bad := sorted(set(self.rules.missing) & ESSENTIAL_FIELDS):
            raise ValueError(f"rules.missing: these fields cannot be missing: {', '.join(bad)}")
        provided = set(self.columns) | set(self.constants)
        if bad := sorted(set(self.rules.missing) & provided):
            raise ValueError(f"rules.missing: fields declared missing but mapped: {', '.join(bad)}")
        unmapped = sorted(_REQUIRED - provided - set(self.rules.missing))
        if unmapped:
            raise ValueError(
                f"required fields neither mapped nor declared missing: {', '.join(unmapped)} "
                "(map them under columns/constants, or list them under rules.missing)"
            )
        if bad := sorted(set(self.extra_columns) & canonical):
            raise ValueError(f"extra_columns: names clash with canonical fields: {', '.join(bad)}")
        if self.tables:
            mains = [name for name, table in self.tables.items() if not table.join]
            if len(mains) != 1:
                raise ValueError(
                    f"tables: exactly one table (the goods lines) has no join; found {len(mains)}: "
                    f"{', '.join(mains) or 'none'}"
                )
            unknown = sorted(c for c in self.source_columns() if c.split(".", 1)[0] not in self.tables)
            if unknown:
                raise ValueError(
                    f"with tables, columns are named TABLE.COLUMN of a declared table: {', '.join(unknown)}"
                )
        if bad := sorted(set(self.unit_columns) - _NUMBER_FIELDS):
            raise ValueError(f"unit_columns: not numeric fields: {', '.join(bad)}")
        if self.currency is not None:
            fields = set(self.currency.fields)
            if bad := sorted(fields - _NUMBER_FIELDS):
                raise ValueError(f"currency.fields: not numeric fields: {', '.join(bad)}")
            if bad := sorted(fields - set(self.columns)):
                raise ValueError(f"currency.fields: not mapped under columns: {', '.join(bad)}")
        return self

    def format_rules(self, base: FormatRules) -> FormatRules:
        """The validation rules for this source, on top of the deployment's date range in `base`."""
        return base.model_copy(
            update={
                "trader_id_pattern": self.rules.trader_id_pattern,
                "hs_code_digits": tuple(self.rules.hs_code_digits),
                "procedure_pattern": self.rules.procedure_pattern,
                "date_formats": dict(self.dates),
                "decimal": self.source.decimal,
                "unit_factors": dict(self.units),
                "missing": frozenset(self.rules.missing),
            }
        )

    @property
    def main_table(self) -> str | None:
        """The table whose rows are the goods lines (None for a single-table source)."""
        return next((name for name, table in self.tables.items() if not table.join), None)

    def source_files(self) -> list[str]:
        """The `--source` names a multi-table mapping reads (each once)."""
        return list(dict.fromkeys(table.file or name for name, table in self.tables.items()))

    def file_columns(self, file: str) -> set[str]:
        """The columns of the `--source` file `file` that a mapping with `tables` reads: what its tables
        join on, select by and map (a wide export's other columns are never held)."""
        wanted = self.source_columns()
        main = self.main_table
        cols: set[str] = set()
        for name, table in self.tables.items():
            if (table.file or name) != file:
                continue
            cols.update(table.where)
            cols.update(table.join.values())
            cols.update(c.split(".", 1)[1] for c in wanted if c.startswith(f"{name}."))
            if name == main:
                cols.update(c for t in self.tables.values() for c in t.join)
        return cols

    def source_columns(self, outcomes: bool = True) -> set[str]:
        """Every source column the mapping reads (the outcome columns only when `outcomes` are loaded)."""
        cols: set[str] = set()
        for value in self.columns.values():
            cols.update([value] if isinstance(value, str) else value)
        cols.update(extra.source for extra in self.extra_columns.values())
        if self.currency is not None:
            cols.add(self.currency.column)
        cols.update(unit.column for unit in self.unit_columns.values())
        if outcomes and self.outcomes is not None:
            cols.update({self.outcomes.inspected_on, self.outcomes.outcome})
            if self.outcomes.violation_type:
                cols.add(self.outcomes.violation_type)
        return cols


def load_mapping(path: Path) -> IngestMapping:
    """Read and check a mapping YAML file, and the rates file it names; any problem raises MappingError
    naming the key (or the rates file's row)."""
    mapping = load_yaml_config(path, IngestMapping, "mapping", error=MappingError)
    if mapping.currency is not None:
        rates = mapping.currency.rates
        if not rates.is_absolute():
            mapping.currency.rates = Path(path).parent / rates
        try:
            read_rates(mapping.currency.rates, mapping.currency.usd)
        except ConfigError as exc:
            raise MappingError(f"mapping {path}: currency.rates: {exc}") from None
    return mapping
