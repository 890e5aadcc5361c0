"""Every option of the synthetic world in one typed, documented place.

Scheme prevalences are shares of *all* lines of the world (import and export legs together), so the
circumvention share of the data is their sum; schemes only run after the invasion (24 Feb 2022, or a
scheme's later `starts`), so the share after it is higher. The defaults are what docs/simulation.md
describes and what the tests check.
"""

from datetime import date
from pathlib import Path
from typing import Annotated, Literal, Self

from pydantic import BaseModel, ConfigDict, Field, field_validator, model_validator

from roundabout.reference import EAEU, ISO_ALPHA2
from roundabout.simulation.goods import catalog
from roundabout.yaml_config import load_yaml_config

#: Lines of the default demo world: seconds to generate.
DEFAULT_LINES = 100_000
DEFAULT_SEED = 7
DEFAULT_START = date(2021, 1, 1)
DEFAULT_END = date(2024, 12, 31)


class _Options(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class SchemeConfig(_Options):
    """Options shared by every planted scheme."""

    prevalence: float = Field(0.01, ge=0, le=0.2, description="Share of all lines that belong to the scheme")
    lines_per_actor: int = Field(
        40, gt=0, description="Expected lines per complicit trader: sets how many traders run the scheme"
    )
    complicit_broker_share: float | None = Field(
        None,
        ge=0,
        le=1,
        description="Share of the scheme's declarations lodged by the brokers complicit in every scheme "
        "(None: the scheme's own share, mostly 0.7); 0 makes a scheme run by people no other scheme shares",
    )
    starts: date | None = Field(
        None,
        description="First day the scheme runs (never before the invasion or the world's start): its first "
        "actor starts then, the others join over the following months as they otherwise do after the "
        "invasion. None: actors join from the invasion on",
    )


class ReexportChainConfig(SchemeConfig):
    """Import of CHPL goods, then an SNT export of most of the quantity to Russia or Belarus within days."""

    prevalence: float = Field(0.012, ge=0, le=0.2, description="Share of all lines (import and export legs)")
    lag_mean_days: float = Field(6.0, gt=0, description="Mean days from the import to the export to RU/BY")
    reship_share_min: float = Field(0.7, gt=0, le=1, description="Lowest share of the quantity re-shipped")
    belarus_share: float = Field(0.15, ge=0, le=1, description="Share of export legs going to Belarus")


class ShellCompanyConfig(SchemeConfig):
    """Companies registered after the invasion that live a few months, importing CHPL goods for Russia."""

    prevalence: float = Field(0.010, ge=0, le=0.2, description="Share of all lines")
    lines_per_actor: int = Field(25, gt=0, description="Expected lines per shell company")
    min_life_days: int = Field(60, gt=0, description="Shortest active life of a shell")
    max_life_days: int = Field(300, gt=0, description="Longest active life of a shell")
    lag_mean_days: float = Field(4.0, gt=0, description="Mean days from import to SNT export to RU/BY")


class MisclassificationConfig(SchemeConfig):
    """CHPL electronics declared under harmless codes; the unit value (per kg) betrays the true goods."""

    prevalence: float = Field(0.005, ge=0, le=0.2, description="Share of all lines")
    brand_share: float = Field(0.35, ge=0, le=1, description="Share whose description names a chipmaker")
    export_share: float = Field(0.5, ge=0, le=1, description="Share of imports followed by an SNT export")


class TransitDiversionConfig(SchemeConfig):
    """Transit (procedure 80) of CHPL goods declared to a third country that in truth ends in Russia."""

    prevalence: float = Field(0.005, ge=0, le=0.2, description="Share of all lines")
    russian_exit_share: float = Field(
        0.6,
        ge=0,
        le=1,
        description="Share leaving through a post on the Russian border, not the declared one",
    )
    russian_trading_share: float = Field(0.3, ge=0, le=1, description="Share with a Russian trading country")


class PriceAnomalyConfig(SchemeConfig):
    """CHPL goods imported far below their reference value, and sold on to Russia far above it."""

    prevalence: float = Field(0.004, ge=0, le=0.2, description="Share of all lines")
    under_factor: tuple[float, float] = Field((0.08, 0.35), description="Range of value factors on imports")
    over_factor: tuple[float, float] = Field(
        (2.5, 6.0), description="Range of value factors on exports to RU"
    )


class MixShiftConfig(SchemeConfig):
    """Established traders outside electronics whose mix suddenly shifts to CHPL goods with Russian buyers."""

    prevalence: float = Field(0.008, ge=0, le=0.2, description="Share of all lines")
    min_age_years: float = Field(3.0, ge=0, description="The trader is at least this old at the switch")
    export_share: float = Field(0.45, ge=0, le=1, description="Share of the scheme's lines that are exports")


class SchemesConfig(_Options):
    """The planted circumvention schemes."""

    reexport_chain: ReexportChainConfig = ReexportChainConfig()
    shell_company: ShellCompanyConfig = ShellCompanyConfig()
    misclassification: MisclassificationConfig = MisclassificationConfig()
    transit_diversion: TransitDiversionConfig = TransitDiversionConfig()
    price_anomaly: PriceAnomalyConfig = PriceAnomalyConfig()
    mix_shift: MixShiftConfig = MixShiftConfig()

    def prevalences(self) -> dict[str, float]:
        """Scheme name -> configured share of all lines."""
        return {name: getattr(self, name).prevalence for name in type(self).model_fields}


class HonestConfig(_Options):
    """Honest trade, including the honest look-alikes of every scheme signal."""

    growth_per_year: float = Field(0.06, ge=-0.5, le=1, description="Yearly growth of the number of lines")
    seasonality: float = Field(0.15, ge=0, lt=1, description="Amplitude of the yearly cycle (peak in autumn)")
    western_surge: float = Field(
        1.0,
        ge=0,
        description="Extra weight of coalition origins for ch. 84/85/88/90 imports after 24 Feb 2022",
    )
    lines_per_document: float = Field(1.7, ge=1, description="Mean goods lines per document")
    new_company_share: float = Field(
        0.09, ge=0, le=1, description="Share of honest traders registered on or after the start date"
    )
    reship_rate: float = Field(
        0.12, ge=0, le=1, description="Share of distributors' imports later re-shipped (mostly to Kyrgyzstan)"
    )
    price_outlier_rate: float = Field(
        0.012, ge=0, le=1, description="Share of honest lines with a unit value 3-10x off the reference"
    )
    pivot_share: float = Field(
        0.04,
        ge=0,
        le=1,
        description="Share of honest traders who change their product mix to another sector's",
    )
    violation_rate: float = Field(
        0.025, ge=0, le=1, description="Share of honest lines with an ordinary violation (label noise)"
    )


class InspectionConfig(_Options):
    """Which lines customs inspects and what it finds."""

    capacity: float = Field(0.03, gt=0, le=1, description="Share of all lines inspected")
    random_quota: float = Field(
        0.2, ge=0, le=1, description="Share of the capacity chosen uniformly at random"
    )
    detection_rate: float = Field(0.8, ge=0, le=1, description="Chance an inspection finds a real violation")
    chain_import_detection: float = Field(
        0.4, ge=0, le=1, description="Detection factor on import legs of chains: the evidence is downstream"
    )
    documentary_detection: float = Field(
        0.5,
        ge=0,
        le=1,
        description="Detection factor of a documentary (yellow) check against a physical (red) inspection",
    )
    high_value_usd: float = Field(200_000, gt=0, description="Legacy rule: DT lines above this value")
    low_unit_value_ratio: float = Field(
        0.3, gt=0, lt=1, description="Legacy rule: import unit value below this share of the HS6 median"
    )
    new_trader_days: int = Field(90, ge=0, description="Legacy rule: DT lines of traders younger than this")
    sensitive_tiers: int = Field(
        2, ge=0, le=6, description="Legacy rule from 1 Apr 2023: CHPL tier rank <= this bound for RU/BY"
    )
    max_delay_days: int = Field(10, ge=0, description="Inspection happens 0..this many days after the line")


class ForeignConfig(_Options):
    """The foreign shape (`shape: foreign`): the world's DT imports as another administration holds them.

    Its own columns follow each line's goods and route; the `circumvention_*` options set how much they also
    depend on whether the line is circumvention (a share of those declarations or lines moved to the telling
    level, so the signal is moderate, never a giveaway). Declarant ids carry no signal at all.
    """

    declarants: int = Field(
        400, ge=1, le=9999, description="Declarant ids, drawn uniformly at random for each declaration"
    )
    authorised_share: float = Field(
        0.12, ge=0, le=1, description="Share of importers that are authorised operators (simplified process)"
    )
    circumvention_prepaid: float = Field(
        0.35, ge=0, le=1, description="Share of circumvention declarations paid in advance whatever the goods"
    )
    circumvention_express: float = Field(
        0.25, ge=0, le=1, description="Share of circumvention declarations made by the express process"
    )
    circumvention_relief: float = Field(
        0.3,
        ge=0,
        le=1,
        description="Share of circumvention lines claiming a preference or exemption (a lower tax rate)",
    )


class _Shift(_Options):
    """Options shared by every planted drift: from which day, and on what share of the lines it concerns."""

    starts: date | None = Field(
        None, description="First day of the shift: it touches lines dated on or after it (None: every line)"
    )
    share: float = Field(1.0, ge=0, le=1, description="Share of the lines concerned that shift")


class RouteShift(_Shift):
    """DT imports come through a new hub: a share of declarations is now dispatched (and traded) from `to`."""

    kind: Literal["route_shift"] = "route_shift"
    share: float = Field(0.3, ge=0, le=1, description="Share of the DT import declarations concerned")
    to: str = Field("GE", description="The new country of dispatch (ISO alpha-2, outside the EAEU)")
    dispatch: tuple[str, ...] = Field(
        (), description="Only declarations dispatched from these countries (empty: any but `to`)"
    )
    traded: bool = Field(True, description="The trading country becomes `to` too")

    @field_validator("to", "dispatch")
    @classmethod
    def _countries(cls, value: str | tuple[str, ...]) -> str | tuple[str, ...]:
        codes = (value,) if isinstance(value, str) else value
        if unknown := [c for c in codes if c not in ISO_ALPHA2]:
            raise ValueError(f"not ISO 3166-1 alpha-2 country codes: {', '.join(unknown)}")
        return value

    @field_validator("to")
    @classmethod
    def _outside_the_union(cls, value: str) -> str:
        if value in EAEU:
            raise ValueError(
                f"{value} is in the EAEU: DT imports come from outside it (its trade is on SNTs)"
            )
        return value


class NewCode(_Shift):
    """Lines of some chapters declared under a commodity code the world never used (a nomenclature change)."""

    kind: Literal["new_code"] = "new_code"
    share: float = Field(0.25, ge=0, le=1, description="Share of the lines of `chapters` concerned")
    code: str = Field(
        "8524110000",
        pattern=r"^\d{10}$",
        description="The new 10-digit code (default: LCD modules, an HS 2022 heading the world lacks)",
    )
    chapters: tuple[Annotated[int, Field(ge=1, le=97)], ...] = Field(
        (85,), description="HS chapters whose lines may take the code (empty: all)"
    )


class PriceShock(_Shift):
    """Customs values of some chapters multiplied by a factor: unit values jump (masses, quantities stay)."""

    kind: Literal["price_shock"] = "price_shock"
    factor: float = Field(2.5, gt=0, description="Factor on `value_usd`")
    chapters: tuple[Annotated[int, Field(ge=1, le=97)], ...] = Field(
        (), description="HS chapters shocked (empty: all)"
    )


#: One planted drift, told apart by its `kind`.
DriftShift = Annotated[RouteShift | NewCode | PriceShock, Field(discriminator="kind")]


class SimulationConfig(_Options):
    """The whole synthetic world. Same config, same bytes."""

    n_lines: int = Field(
        DEFAULT_LINES,
        gt=0,
        description="Goods lines of the world (a foreign-shaped world keeps its DT imports: about half)",
    )
    seed: int = Field(
        DEFAULT_SEED, ge=0, description="Seed of the one random generator everything derives from"
    )
    start: date = Field(DEFAULT_START, description="First day of the world")
    end: date = Field(DEFAULT_END, description="Last day of the world")
    n_traders: int | None = Field(
        None, gt=0, description="Kazakh traders; default n_lines/40 clipped to 300..25,000"
    )
    honest: HonestConfig = HonestConfig()
    schemes: SchemesConfig = SchemesConfig()
    inspections: InspectionConfig = InspectionConfig()
    shape: Literal["kazakh", "foreign"] = Field(
        "kazakh",
        description="kazakh: every line as Kazakh customs holds it; foreign: the DT imports of the same "
        "world as another administration would hand them over (own ids, 6-digit codes, missing fields, "
        "own columns; `foreign` sets them)",
    )
    foreign: ForeignConfig = ForeignConfig()
    drift: tuple[DriftShift, ...] = Field(
        (),
        description="Planted input drift, applied in order to the assembled lines before inspections "
        "(`drift.py`); none by default",
    )

    @model_validator(mode="after")
    def _check(self) -> Self:
        if self.end <= self.start:
            raise ValueError(f"end ({self.end}) must be after start ({self.start})")
        if sum(self.schemes.prevalences().values()) > 0.5:
            raise ValueError("scheme prevalences add up to more than half of all lines")
        for name in type(self.schemes).model_fields:
            starts = getattr(self.schemes, name).starts
            if starts is not None and starts >= self.end:
                raise ValueError(f"schemes.{name}.starts ({starts}) must be before end ({self.end})")
        for i, shift in enumerate(self.drift):
            if shift.starts is not None and shift.starts >= self.end:
                raise ValueError(f"drift.{i}.starts ({shift.starts}) must be before end ({self.end})")
            if isinstance(shift, NewCode):
                check_new_code(shift.code, f"drift.{i}.code", self.shape)
        return self

    @property
    def traders(self) -> int:
        """The number of Kazakh traders."""
        return self.n_traders or int(min(max(self.n_lines // 40, 300), 25_000))

    @classmethod
    def from_yaml(cls, path: Path, **overrides: object) -> Self:
        """Load a YAML file of options (any subset), then apply non-None overrides; a problem raises
        ConfigError naming the key."""
        return load_yaml_config(path, cls, "simulation config", overrides)


def check_new_code(code: str, key: str, shape: str) -> None:
    """A planted new code must be new to the world; the foreign shape cannot take one (its own columns know
    the catalogue's HS6 codes only)."""
    if code in set(catalog().hs10):
        raise ValueError(f"{key}: {code} is a code the world already uses")
    if shape == "foreign":
        raise ValueError(f"{key}: the foreign shape takes no new code (its own columns know catalogue codes)")
