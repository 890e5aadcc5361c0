"""All settings in one typed place, read from the environment with the prefix `ROUNDABOUT_`.

Defaults are the embedded ones, so one command runs everything on a laptop: everything lives under
`ROUNDABOUT_HOME` (default `.roundabout/`). Nothing is read at import time: call `get_settings()`.
"""

import math
from datetime import UTC, date, datetime, time, timedelta
from enum import StrEnum
from functools import cache
from pathlib import Path
from typing import Any, Self

from pydantic import BaseModel, Field, SecretStr, ValidationError, field_validator, model_validator
from pydantic_settings import BaseSettings, SettingsConfigDict


class Scope(StrEnum):
    """What an API key may do."""

    SCORE = "score"
    FEEDBACK = "feedback"
    ADMIN = "admin"
    #: the analyst console (docs/console.md): read lines and decisions, record outcomes
    ANALYST = "analyst"


class ApiKey(BaseModel):
    """One key: an id shown in logs and audit, the SHA-256 hex of the key, its scopes, and optionally when
    it expires and how many requests a second it may make (a token bucket of `burst` requests)."""

    id: str = Field(min_length=1, max_length=64)
    sha256: str = Field(pattern=r"^[0-9a-f]{64}$")
    scopes: frozenset[Scope]
    expires: datetime | None = Field(
        None, description="When the key stops working (a date alone: midnight UTC at its start)"
    )
    rate_per_second: float | None = Field(
        None, gt=0, allow_inf_nan=False, description="Requests a second the key may make (None: no limit)"
    )
    burst: int | None = Field(
        None, ge=1, description="Requests the key may make at once; default: its rate rounded up"
    )

    @field_validator("scopes")
    @classmethod
    def _some_scope(cls, value: frozenset[Scope]) -> frozenset[Scope]:
        if not value:
            raise ValueError("a key needs at least one scope")
        return value

    @field_validator("expires", mode="before")
    @classmethod
    def _date_is_midnight_utc(cls, value: Any) -> Any:
        """A date, as an object or as `YYYY-MM-DD`, is the moment it starts in UTC."""
        if isinstance(value, str) and len(value.strip()) == 10:
            try:
                value = date.fromisoformat(value.strip())
            except ValueError:
                return value
        if isinstance(value, date) and not isinstance(value, datetime):
            return datetime.combine(value, time(), UTC)
        return value

    @field_validator("expires")
    @classmethod
    def _aware(cls, value: datetime | None) -> datetime | None:
        """A time without a zone means a different moment on every server: refused, not guessed."""
        if value is None:
            return None
        if value.tzinfo is None or value.utcoffset() is None:
            raise ValueError("give a time zone (2027-01-31T18:00Z, +05:00) or a date alone")
        return value.astimezone(UTC)

    @model_validator(mode="after")
    def _default_burst(self) -> Self:
        """A rate without a burst lets one second's worth of calls through at once (at least one)."""
        if self.rate_per_second is not None and self.burst is None:
            self.burst = max(1, math.ceil(self.rate_per_second))
        return self


class Settings(BaseSettings):
    """Settings of every part of roundabout; each field can be set as `ROUNDABOUT_<NAME>`."""

    model_config = SettingsConfigDict(env_prefix="ROUNDABOUT_", env_file=".env", extra="ignore")

    home: Path = Field(Path(".roundabout"), description="Folder for embedded data, stores and MLflow files")
    min_date: date = Field(date(2000, 1, 1), description="Lines or outcomes dated before this are rejected")
    max_future_days: int = Field(
        1, ge=0, description="Lines dated more than this many days after today are rejected"
    )
    store_url: str | None = Field(
        None,
        description="SQLAlchemy URL of the online feature store (PostgreSQL in production); "
        "default: SQLite file store.db under home",
    )
    registered_model: str = Field(
        "roundabout", description="Name of the risk model in the MLflow registry (train, evaluate, serve)"
    )

    model_alias: str = Field("champion", description="Registry alias the service loads and follows")
    api_keys: list[ApiKey] = Field(
        default_factory=list,
        description='API keys as JSON: [{"id": "risk-system", "sha256": "<hex of the key>", "scopes": '
        '["score", "feedback"]}], each optionally with "expires", "rate_per_second" and "burst"; '
        "`roundabout keys new --print-only` makes an entry (`roundabout keys new` keeps the key in the store "
        "instead, which the service reads while it runs)",
    )
    keys_reload_interval_seconds: float = Field(
        30.0, gt=0, description="How often the service checks the store for new, changed or revoked API keys"
    )
    key_rate_per_second: float | None = Field(
        None,
        gt=0,
        allow_inf_nan=False,
        description="Requests a second each key may make in each service process, for keys that set no "
        "rate of their own (None: no limit)",
    )
    key_burst: int | None = Field(
        None,
        ge=1,
        description="Requests a key without a rate of its own may make at once (default: "
        "`key_rate_per_second` rounded up)",
    )
    max_batch_lines: int = Field(1000, ge=1, description="Most lines one POST /v1/score may carry (else 413)")
    max_body_bytes: int = Field(16_000_000, ge=1024, description="Largest request body accepted (else 413)")
    reload_interval_seconds: float = Field(30.0, gt=0, description="How often the service checks the alias")
    lists_reload_interval_seconds: float = Field(
        30.0, gt=0, description="How often the service checks the store for new sanctions list versions"
    )
    checkpoint_interval_seconds: float = Field(
        1.0, gt=0, description="How often the service folds SQLite's write-ahead log into the store file"
    )
    store_timeout_seconds: float = Field(
        5.0, gt=0, description="Longest wait for the store before answering 503"
    )
    selection_key: SecretStr | None = Field(
        None,
        description="Secret key of the exploration draws (a keyed hash of each line id decides whether it is "
        "drawn); default: a random key made once and kept in the store, which every worker on the store "
        "shares. Whoever holds it can tell which lines will be drawn",
    )
    office_red_per_day: int | None = Field(
        None, ge=0, description="Most lines of one customs office and day sent red (None: the red share only)"
    )
    office_yellow_per_day: int | None = Field(
        None, ge=0, description="Most lines of one customs office and day sent yellow (None: the share only)"
    )
    monitor_interval_seconds: float = Field(
        300.0,
        ge=0,
        description="How often the service recomputes the monitoring figures in the background (0: never)",
    )
    monitor_days: int = Field(30, ge=1, le=3660, description="Days of line dates the service's monitor reads")
    console_session_minutes: int = Field(
        480, ge=1, le=10_080, description="How long an analyst console session lasts before signing in again"
    )
    console_secret: SecretStr | None = Field(
        None,
        description="Key that signs console session cookies; default: a random key made once and kept in the "
        "store, which every worker on it shares. Changing it signs everyone out",
    )
    console_secure_cookies: bool = Field(
        False, description="Send console cookies over HTTPS only (set it when the service is behind TLS)"
    )
    audit_key_file: Path | None = Field(
        None,
        description="PEM file of the Ed25519 key that signs the audit trail's checkpoints (made on first use "
        "when absent); default: audit-signing.key under home. Keep it where the database's users cannot read "
        "it: whoever holds it can sign a rewritten trail",
    )
    audit_checkpoint_seconds: float = Field(
        60.0,
        ge=0,
        description="How often the service signs a checkpoint of the audit trail's head (0: never; "
        "`roundabout audit checkpoint` signs one on demand). Records after the last checkpoint are vouched "
        "for by the chain alone",
    )
    mlflow_request_retries: int = Field(
        2,
        ge=0,
        description="Retries of a call to an MLflow tracking server (MLflow's own default, 7 with growing "
        "waits, took 4 minutes to report a server that is down)",
    )
    mlflow_request_timeout_seconds: float = Field(
        30.0, gt=0, description="Longest wait for one answer of an MLflow tracking server"
    )

    @property
    def mlflow_tracking_uri(self) -> str:
        """The one tracking-URI rule: the standard MLFLOW_TRACKING_URI when set, else the SQLite file
        `mlflow.db` under the resolved home."""
        import os

        return os.environ.get("MLFLOW_TRACKING_URI") or f"sqlite:///{self.home.resolve() / 'mlflow.db'}"

    @property
    def service_store_url(self) -> str:
        """`store_url`, else the embedded default: the SQLite file `store.db` under the home folder."""
        return self.store_url or f"sqlite:///{self.home.resolve() / 'store.db'}"

    @property
    def mlflow_artifact_root(self) -> Path:
        """Where new experiments keep their artifacts when no tracking server decides: `mlartifacts` under
        the resolved home."""
        return self.home.resolve() / "mlartifacts"

    def latest_date(self) -> date:
        """The latest date a line or outcome may carry: today plus `max_future_days`."""
        return date.today() + timedelta(days=self.max_future_days)

    @property
    def audit_key_path(self) -> Path:
        """`audit_key_file`, else `audit-signing.key` under the resolved home."""
        return self.audit_key_file or self.home.resolve() / "audit-signing.key"

    @property
    def data_dir(self) -> Path:
        """Default canonical data folder (the quick start simulates into it)."""
        return self.home / "data"


def settings_problems(exc: ValidationError) -> str:
    """A settings error as a user reads it: each variable named with its value and what is wrong."""
    problems = []
    for item in exc.errors():
        field = str(item["loc"][0]) if item["loc"] else "?"
        value = item.get("input")
        shown = f"={value!r}" if isinstance(value, str | int | float) else ""
        problems.append(f"ROUNDABOUT_{field.upper()}{shown}: {item['msg']}")
    return "invalid setting: " + "; ".join(problems)


@cache
def get_settings() -> Settings:
    """The process-wide settings, read once from the environment."""
    return Settings()
