"""All settings in one typed place, read from the environment with the prefix `ROUNDABOUT_`.

Defaults are the embedded ones, so one command runs everything on a laptop: everything lives under
`ROUNDABOUT_HOME` (default `.roundabout/`). Nothing is read at import time: call `get_settings()`.
"""

from datetime import date, timedelta
from functools import cache
from pathlib import Path

from pydantic import Field
from pydantic_settings import BaseSettings, SettingsConfigDict


class Settings(BaseSettings):
    """Settings of every part of roundabout; each field can be set as `ROUNDABOUT_<NAME>`."""

    model_config = SettingsConfigDict(env_prefix="ROUNDABOUT_", env_file=".env", extra="ignore")

    home: Path = Field(Path(".roundabout"), description="Folder for embedded data, stores and MLflow files")
    min_date: date = Field(date(2000, 1, 1), description="Lines or outcomes dated before this are rejected")
    max_future_days: int = Field(
        1, ge=0, description="Lines dated more than this many days after today are rejected"
    )

    def latest_date(self) -> date:
        """The latest date a line or outcome may carry: today plus `max_future_days`."""
        return date.today() + timedelta(days=self.max_future_days)

    @property
    def data_dir(self) -> Path:
        """Default canonical data folder (the quick start simulates into it)."""
        return self.home / "data"


@cache
def get_settings() -> Settings:
    """The process-wide settings, read once from the environment."""
    return Settings()
