"""The monitor's options: the period it reads and the thresholds its flags and alerts use."""

from pydantic import BaseModel, ConfigDict, Field


class MonitorConfig(BaseModel):
    """What the monitor reads and when it raises a flag; the defaults are docs/monitoring.md's."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    days: int = Field(30, gt=0, le=3660, description="Length of the period read, in days of line dates")
    psi_alert: float = Field(0.2, gt=0, description="PSI at or above which an input or the score has drifted")
    psi_warning: float = Field(0.1, gt=0, description="PSI at or above which a shift is worth a look")
    min_lines: int = Field(
        200, gt=0, description="Fewest lines a period needs before its PSI can flag anything (sampling noise)"
    )
    red_band: float = Field(
        0.5,
        gt=0,
        le=1,
        description="Relative band around the reference red share (0.5: half to one and a half)",
    )
    min_inspected: int = Field(
        30, gt=0, description="Fewest inspected lines of a channel or selection before its hit rate can alert"
    )
    confidence: float = Field(0.95, gt=0.5, lt=1, description="Level of the hit rates' Wilson intervals")
    top_values: int = Field(5, gt=0, description="Unknown category values listed per input")
