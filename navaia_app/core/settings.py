"""Every setting comes from the environment (or a `.env` file); see `.env.example`."""

from __future__ import annotations

import secrets
from functools import lru_cache
from pathlib import Path
from typing import Literal
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from pydantic import Field, field_validator, model_validator
from pydantic_settings import BaseSettings, SettingsConfigDict

ROOT = Path(__file__).resolve().parents[2]
DEV_SECRET_FILE = ROOT / ".navaia-secret-key"
INSECURE_SECRETS = {"", "change-me", "changeme", "secret", "dev", "test"}


class ConfigError(RuntimeError):
    """The configuration cannot run the app safely."""


def _dev_secret_key() -> str:
    """A random key per dev install, kept in a git-ignored file so sessions survive restarts."""
    if DEV_SECRET_FILE.exists():
        return DEV_SECRET_FILE.read_text().strip()
    key = secrets.token_urlsafe(48)
    try:
        DEV_SECRET_FILE.write_text(key)
        DEV_SECRET_FILE.chmod(0o600)
    except OSError:
        pass
    return key


class Settings(BaseSettings):
    model_config = SettingsConfigDict(env_file=".env", extra="ignore", case_sensitive=False)

    app_env: Literal["dev", "test", "prod"] = "dev"
    database_url: str = "sqlite:///navaia.db"
    redis_url: str = "redis://localhost:6379/0"
    secret_key: str = ""
    public_base_url: str = "http://localhost:3000"
    allowed_origins: str = ""  # comma-separated; defaults to PUBLIC_BASE_URL outside prod
    allow_signup: bool = False
    business_timezone: str = "UTC"
    default_phone_region: str = "US"

    elevenlabs_webhook_secret: str | None = None
    elevenlabs_api_key: str | None = None
    elevenlabs_agent_id: str | None = None
    elevenlabs_agent_phone_number_id: str | None = None
    elevenlabs_api_base_url: str = "https://api.elevenlabs.io"

    telephony_provider: Literal["twilio", "elevenlabs", "simulated"] = "simulated"
    twilio_account_sid: str | None = None
    twilio_auth_token: str | None = None
    twilio_from_number: str | None = None
    twilio_api_base_url: str = "https://api.twilio.com"

    agent_tools_secret: str | None = None

    session_idle_minutes: int = Field(default=60, ge=1)
    session_absolute_hours: int = Field(default=12, ge=1)
    api_token_hours: int = Field(default=12, ge=1)
    log_level: str = "INFO"

    @field_validator("business_timezone")
    @classmethod
    def _known_zone(cls, value: str) -> str:
        try:
            ZoneInfo(value)
        except (ZoneInfoNotFoundError, ValueError) as exc:
            raise ValueError(f"unknown IANA time zone {value!r}") from exc
        return value

    @model_validator(mode="after")
    def _fill_defaults(self) -> "Settings":
        if not self.secret_key and self.app_env != "prod":
            self.secret_key = _dev_secret_key()
        return self

    @property
    def is_prod(self) -> bool:
        return self.app_env == "prod"

    @property
    def is_sqlite(self) -> bool:
        return self.database_url.startswith("sqlite")

    @property
    def origins(self) -> list[str]:
        if self.allowed_origins.strip():
            return [o.strip().rstrip("/") for o in self.allowed_origins.split(",") if o.strip()]
        return [self.public_base_url.rstrip("/")]

    def check_production(self) -> None:
        """Refuse to run in production with a configuration that is not safe."""
        if not self.is_prod:
            return
        problems = []
        if self.secret_key.strip().lower() in INSECURE_SECRETS or len(self.secret_key) < 32:
            problems.append("SECRET_KEY must be set to a random value of at least 32 characters")
        if not self.database_url.startswith("postgresql"):
            problems.append("DATABASE_URL must be a PostgreSQL URL (postgresql+psycopg://...)")
        if not self.allowed_origins.strip() or "*" in self.allowed_origins:
            problems.append("ALLOWED_ORIGINS must list the exact origins allowed (no '*')")
        if problems:
            raise ConfigError("Refusing to start with APP_ENV=prod: " + "; ".join(problems))


@lru_cache
def get_settings() -> Settings:
    return Settings()
