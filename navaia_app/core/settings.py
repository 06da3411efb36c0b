"""Every setting comes from the environment (or a `.env` file); see `.env.example`."""

from __future__ import annotations

import os
import secrets
from functools import lru_cache
from pathlib import Path
from typing import Literal
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from pydantic import Field, field_validator, model_validator
from pydantic_settings import BaseSettings, PydanticBaseSettingsSource, SettingsConfigDict

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


SECRET_FIELDS = ("secret_key", "database_url", "redis_url", "elevenlabs_webhook_secret", "elevenlabs_api_key",
                 "twilio_auth_token", "agent_tools_secret", "metrics_token")


class FileSecretsSource(PydanticBaseSettingsSource):
    """`NAME_FILE=/run/secrets/x` reads NAME from that file (Docker and Kubernetes mount secrets so)."""

    def get_field_value(self, field, field_name):  # pragma: no cover - __call__ does the work
        return None, field_name, False

    def __call__(self) -> dict[str, str]:
        values = {}
        for name in SECRET_FIELDS:
            path = os.environ.get(f"{name.upper()}_FILE")
            if path:
                try:
                    values[name] = Path(path).read_text(encoding="utf-8").strip()
                except OSError as exc:
                    raise ConfigError(f"{name.upper()}_FILE={path} cannot be read: {exc.strerror}") from exc
        return values


class Settings(BaseSettings):
    model_config = SettingsConfigDict(env_file=".env", extra="ignore", case_sensitive=False)

    @classmethod
    def settings_customise_sources(cls, settings_cls, init_settings, env_settings, dotenv_settings,
                                   file_secret_settings):
        # A mounted secret file wins over a plain variable of the same name.
        return (init_settings, FileSecretsSource(settings_cls), env_settings, dotenv_settings, file_secret_settings)

    app_env: Literal["dev", "test", "prod"] = "dev"
    database_url: str = "sqlite:///navaia.db"
    redis_url: str = "redis://localhost:6379/0"
    secret_key: str = ""
    public_base_url: str = "http://localhost:3000"
    allowed_origins: str = ""  # comma-separated; defaults to PUBLIC_BASE_URL outside prod
    allow_signup: bool = False
    business_timezone: str = "UTC"
    business_hours: str = "mon-fri 09:00-17:00"  # in BUSINESS_TIMEZONE; "mon-fri 09:00-17:00; sat 10:00-14:00"
    booking_slot_minutes: int = Field(default=30, ge=5, le=480)
    default_phone_region: str = "US"

    elevenlabs_webhook_secret: str | None = None
    elevenlabs_api_key: str | None = None
    elevenlabs_agent_id: str | None = None
    elevenlabs_agent_phone_number_id: str | None = None
    elevenlabs_api_base_url: str = "https://api.elevenlabs.io"
    # The backstop for lost post-call webhooks: list the last 24 h of conversations this often (0 = off).
    elevenlabs_sync_seconds: int = Field(default=300, ge=0, le=86_400)

    telephony_provider: str = "simulated"  # a registered provider name (telephony.base.provider_names())
    twilio_account_sid: str | None = None
    twilio_auth_token: str | None = None
    twilio_from_number: str | None = None
    twilio_api_base_url: str = "https://api.twilio.com"
    # Campaigns and outbound calls: the most calls a second each provider accepts (a campaign never
    # goes faster, whatever it asks), the simulated provider's outcome mix and clock, dispatcher timing.
    twilio_calls_per_second: float = Field(default=1.0, gt=0, le=1000)
    elevenlabs_calls_per_second: float = Field(default=1.0, gt=0, le=1000)
    simulated_calls_per_second: float = Field(default=100.0, gt=0, le=1000)
    simulated_outcomes: str = "completed:62,slow_human:8,no_answer:12,busy:8,voicemail:7,failed:3"
    simulated_time_scale: float = Field(default=1.0, gt=0, le=100)
    campaign_dispatch_slice_seconds: float = Field(default=4.0, ge=0.5, le=120)
    campaign_reconcile_seconds: int = Field(default=15, ge=1, le=3600)
    # ISO 3166 country codes that calls and texts may go to ("US,CA"); empty: every country (dev and
    # test only: production refuses to start without it).
    allowed_call_countries: str = ""

    # Booking reminders: texts go through SMS_PROVIDER (default: Twilio when calls do, else simulated);
    # the due-reminder job runs every REMINDERS_EVERY_SECONDS.
    sms_provider: Literal["twilio", "simulated"] | None = None
    reminders_every_seconds: int = Field(default=30, ge=1, le=3600)
    # Browser tests only: a file of seconds added to the clock (core.types.utcnow; honoured only with
    # APP_ENV=test, refused in production).
    test_clock_file: str | None = None
    reminders_stuck_seconds: int = Field(default=120, ge=1, le=86400)  # a text 'sending' this long: its job died

    agent_tools_secret: str | None = None
    # Outgoing webhooks may reach loopback and private addresses (tests, on-premises receivers); off: SSRF.
    outgoing_webhooks_allow_private: bool = False
    media_dir: str = "./data/media"  # call recordings (post_call_audio); relative to the working directory

    session_idle_minutes: int = Field(default=60, ge=1)
    session_absolute_hours: int = Field(default=12, ge=1)
    api_token_hours: int = Field(default=12, ge=1)
    log_level: str = "INFO"
    metrics_token: str | None = None  # bearer token for Prometheus at /api/metrics (or use an admin token)
    rate_limit_token_per_minute: int = Field(default=30, ge=1)  # POST /api/v1/auth/token per client
    rate_limit_webhooks_per_second: int = Field(default=2000, ge=1)  # POST /api/webhooks/* per client
    # Reverse proxies whose X-Forwarded-For is believed (addresses or CIDR networks, comma-separated); none
    # by default, so nobody can choose the address their sign-in failures and rate limits count against.
    trusted_proxies: str = ""
    database_connect_timeout: int = Field(default=10, ge=1, le=300)  # seconds, PostgreSQL connections

    @field_validator("trusted_proxies")
    @classmethod
    def _proxy_networks(cls, value: str) -> str:
        import ipaddress

        for item in (v.strip() for v in value.split(",")):
            if item:
                try:
                    ipaddress.ip_network(item, strict=False)
                except ValueError as exc:
                    raise ValueError(f"TRUSTED_PROXIES: {item!r} is not an address or CIDR network") from exc
        return value

    @property
    def trusted_proxy_networks(self) -> tuple:
        import ipaddress

        return tuple(ipaddress.ip_network(v.strip(), strict=False) for v in self.trusted_proxies.split(",")
                     if v.strip())

    @field_validator("business_timezone")
    @classmethod
    def _known_zone(cls, value: str) -> str:
        try:
            ZoneInfo(value)
        except (ZoneInfoNotFoundError, ValueError) as exc:
            raise ValueError(f"unknown IANA time zone {value!r}") from exc
        return value

    @field_validator("telephony_provider")
    @classmethod
    def _provider_name(cls, value: str) -> str:
        return value.strip().lower()

    @field_validator("allowed_call_countries")
    @classmethod
    def _known_countries(cls, value: str) -> str:
        import phonenumbers

        codes = [c.strip().upper() for c in value.split(",") if c.strip()]
        unknown = [c for c in codes if c not in phonenumbers.SUPPORTED_REGIONS]
        if unknown:
            raise ValueError(f"unknown ISO country code(s) {', '.join(unknown)} (use two letters, e.g. US,GB)")
        return ",".join(dict.fromkeys(codes))

    @property
    def call_countries(self) -> frozenset[str] | None:
        """ALLOWED_CALL_COUNTRIES as a set of ISO codes; None: every country (outside production)."""
        codes = frozenset(c for c in self.allowed_call_countries.split(",") if c)
        return codes or None

    @field_validator("business_hours")
    @classmethod
    def _readable_hours(cls, value: str) -> str:
        from navaia_app.core.hours import OpeningHours

        OpeningHours.parse(value)  # raises with a message that says what is wrong
        return value

    @property
    def opening_hours(self):
        """BUSINESS_HOURS parsed (navaia_app.core.hours.OpeningHours)."""
        from navaia_app.core.hours import OpeningHours

        return OpeningHours.parse(self.business_hours)

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
        if not self.allowed_call_countries.strip():
            problems.append("ALLOWED_CALL_COUNTRIES must list the countries calls and texts may go to (e.g. US,CA)")
        if not self.public_base_url.startswith("https://"):
            problems.append("PUBLIC_BASE_URL must be the https:// origin that people, Twilio and ElevenLabs reach")
        for name in ("elevenlabs_webhook_secret", "agent_tools_secret"):
            value = (getattr(self, name) or "").strip()
            if value.lower() in INSECURE_SECRETS or len(value) < 16:
                problems.append(f"{name.upper()} must be set to a random value of at least 16 characters")
        if self.test_clock_file:
            problems.append("TEST_CLOCK_FILE moves the clock of browser tests: it must not be set in production")
        if problems:
            raise ConfigError("Refusing to start with APP_ENV=prod: " + "; ".join(problems))


@lru_cache
def get_settings() -> Settings:
    return Settings()
