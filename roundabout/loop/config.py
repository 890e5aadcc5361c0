"""The loop simulation's options: the world, the deployment calendar, the capacity and the policies compared.

Every policy runs on the same world and seed, under the same capacity (`red_share` of lines physically
inspected): the exploration quota is part of that capacity, so a policy that explores gives up some of the
model's inspections, and the comparison is at equal cost. A quota is given as a share of all lines.
"""

from datetime import date
from pathlib import Path
from typing import Literal, Self

from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator, model_validator

from roundabout.simulation.config import SimulationConfig
from roundabout.simulation.trade_arrays import SCHEMES
from roundabout.yaml_config import load_yaml_config


class _Options(BaseModel):
    model_config = ConfigDict(extra="forbid")


class PolicySpec(_Options):
    """One selection policy of the comparison."""

    name: str = Field(min_length=1, max_length=40, pattern=r"^[a-z0-9][a-z0-9_.-]*$")
    exploration_rate: float = Field(0.0, ge=0, lt=1, description="Share of lines drawn at random (0: greedy)")
    strategy: Literal["uniform", "risk", "anomaly"] = Field("uniform", description="How draws are spread")
    ipw: bool = Field(True, description="Weigh inspected lines by inverse propensity when retraining")


def default_policies() -> list[PolicySpec]:
    """Greedy, uniform exploration at 2, 5 and 10% of lines, the risk strategy at 5%, and the uniform and
    risk 5% policies without inverse-propensity weighting."""
    return [
        PolicySpec(name="greedy"),
        PolicySpec(name="uniform-2", exploration_rate=0.02),
        PolicySpec(name="uniform-5", exploration_rate=0.05),
        PolicySpec(name="uniform-10", exploration_rate=0.10),
        PolicySpec(name="risk-5", exploration_rate=0.05, strategy="risk"),
        PolicySpec(name="uniform-5-noipw", exploration_rate=0.05, ipw=False),
        PolicySpec(name="risk-5-noipw", exploration_rate=0.05, strategy="risk", ipw=False),
    ]


class LoopConfig(_Options):
    """Every option of `roundabout simulate-loop`."""

    lines: int = Field(150_000, ge=20_000, description="Goods lines of the world (2021-2024)")
    seed: int = Field(7, ge=0, description="Seed of the world, the draws and the inspections")
    new_scheme: str = Field(
        "transit_diversion",
        description="The scheme that begins during the deployment (a planted scheme's name)",
    )
    new_scheme_starts: date = Field(date(2024, 3, 1), description="The day the new scheme begins")
    new_scheme_prevalence: float = Field(
        0.008, gt=0, le=0.2, description="Share of all lines of the world that belong to the new scheme"
    )
    new_scheme_options: dict[str, float] = Field(
        default_factory=lambda: {"complicit_broker_share": 0.0},
        description="Further options of the new scheme's config (docs/simulation.md), e.g. export_share: 0",
    )
    deploy_start: date = Field(date(2024, 1, 1), description="First day the loop selects inspections")
    period: Literal["month", "week"] = Field("month", description="Length of one period")
    periods: int = Field(12, ge=2, le=104, description="Periods of deployment")
    retrain_every: int = Field(2, ge=1, description="Retrain after this many periods")
    red_share: float = Field(
        0.15, gt=0, lt=1, description="Capacity: share of lines physically inspected, exploration included"
    )
    office_red_per_day: int | None = Field(
        None, ge=1, description="Physical inspections per customs office and day (None: the share only)"
    )
    search_minutes: float = Field(0.0, ge=0, description="Selection and tuning budget of each retraining")
    policies: list[PolicySpec] = Field(default_factory=default_policies, min_length=1)

    @field_validator("new_scheme")
    @classmethod
    def _known_scheme(cls, value: str) -> str:
        if value not in SCHEMES[1:]:
            raise ValueError(f"unknown scheme {value!r}; expected one of {', '.join(SCHEMES[1:])}")
        return value

    @model_validator(mode="after")
    def _check(self) -> Self:
        if not date(2021, 6, 1) < self.deploy_start < date(2024, 12, 1):
            raise ValueError("deploy_start must fall within the world (2021-06-01 .. 2024-12-01)")
        if self.new_scheme_starts <= self.deploy_start:
            raise ValueError("new_scheme_starts must be after deploy_start: the first model never saw it")
        names = [p.name for p in self.policies]
        if len(set(names)) != len(names):
            raise ValueError(f"policy names must be distinct: {names}")
        try:
            self.world()
        except ValidationError as exc:
            problems = "; ".join(f"{'.'.join(map(str, e['loc']))}: {e['msg']}" for e in exc.errors())
            raise ValueError(f"new_scheme_options do not make a world: {problems}") from None
        if too_big := [p.name for p in self.policies if p.exploration_rate >= self.red_share]:
            raise ValueError(
                f"exploration_rate of {too_big} does not fit the capacity red_share {self.red_share}"
            )
        return self

    def world(self) -> SimulationConfig:
        """The simulated world: the default one, sized and seeded, with the new scheme starting mid-way."""
        body = SimulationConfig(n_lines=self.lines, seed=self.seed).model_dump()
        body["schemes"][self.new_scheme].update(
            prevalence=self.new_scheme_prevalence, starts=self.new_scheme_starts, **self.new_scheme_options
        )
        return SimulationConfig.model_validate(body)

    @classmethod
    def from_yaml(cls, path: Path) -> Self:
        return load_yaml_config(path, cls, "loop config")
