"""Typed configuration: defaults from ``config.toml``, secrets only from the environment.

A wrong value is reported as ``ConfigError`` naming the key and what was expected; the CLI
turns that into exit code 2. Secrets are ``SecretStr`` so they never print by accident.
"""

from __future__ import annotations

import datetime as dt
import os
import re
import tomllib
from collections.abc import Mapping
from pathlib import Path
from typing import Annotated, Any, Literal
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from pydantic import (
    AfterValidator,
    BaseModel,
    ConfigDict,
    Field,
    SecretStr,
    ValidationError,
    field_validator,
)

from bot.config_bots import ZaloBotBinding, distinct_bots, with_bot_secrets
from kernel.clock import set_local_zone

CONFIG_ENV = "PAPI_BOT_CONFIG"
DATABASE_URL_ENV = "PAPI_BOT_DATABASE_URL"
SECRET_ENV = {
    "telegram_bot_token": "TELEGRAM_BOT_TOKEN",
    "telegram_webhook_secret": "TELEGRAM_WEBHOOK_SECRET",
    "zalo_bot_token": "ZALO_BOT_TOKEN",
    "zalo_webhook_secret": "ZALO_WEBHOOK_SECRET",
    "console_secret": "PAPI_BOT_CONSOLE_SECRET",
    "zalo_oa_app_id": "ZALO_OA_APP_ID",
    "zalo_oa_app_secret": "ZALO_OA_APP_SECRET",
    "zalo_oa_secret_key": "ZALO_OA_SECRET_KEY",
    "zalo_oa_refresh_token": "ZALO_OA_REFRESH_TOKEN",
}
_SECRET_WORDS = ("token", "secret", "password", "api_key")
_MMDD = re.compile(r"^(0[1-9]|1[0-2])-(0[1-9]|[12]\d|3[01])$")


class ConfigError(Exception):
    """The configuration cannot be used; the message says which key and why."""


def _check_mmdd(value: str) -> str:
    if not _MMDD.match(value):
        raise ValueError(f"expected a date as MM-DD, got {value!r}")
    return value


MonthDay = Annotated[str, AfterValidator(_check_mmdd)]


class _Section(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class AppConfig(_Section):
    timezone: str = "Asia/Ho_Chi_Minh"
    default_locale: Literal["vi", "en"] = "vi"
    data_dir: Path = Path("data")
    log_format: Literal["text", "json"] = "text"  # json: one object per line (run --log-json)

    @field_validator("timezone")
    @classmethod
    def _known_zone(cls, value: str) -> str:
        try:
            ZoneInfo(value)
        except (ZoneInfoNotFoundError, ValueError) as exc:
            raise ValueError(f"expected an IANA time zone such as Asia/Ho_Chi_Minh: {exc}") from exc
        return value


class DatabaseConfig(_Section):
    url: str = "sqlite:///data/papi-bot.db"
    # SQLite: `papi-bot run` applies replies and keeps the outbox in a process of its own
    # (bot.dbprocess); false: in a thread of the bot's process.
    process: bool = True


class InvitesConfig(_Section):
    ttl_days: int = Field(14, ge=1, le=365)
    # Guessing: this many wrong codes from one chat within the window locks it out a while.
    max_wrong_codes: int = Field(5, ge=1, le=100)
    wrong_code_window_minutes: int = Field(15, ge=1)
    lockout_minutes: int = Field(60, ge=1)


class ImportsConfig(_Section):
    """Plan files (bot/planimport/limits.py): bigger ones are refused before they are read."""

    max_file_mb: float = Field(20, gt=0)
    max_unzipped_mb: float = Field(50, gt=0)  # a DOCX/XLSX unpacked
    max_compression_ratio: int = Field(100, ge=10)  # per part of 1 MB or more unpacked
    max_rows: int = Field(5000, ge=1)
    max_cells: int = Field(100_000, ge=1)


class TelegramConfig(_Section):
    api_base: str = "https://api.telegram.org"
    bot_username: str = ""
    mode: Literal["polling", "webhook"] = "polling"
    webhook_url: str = ""
    webhook_host: str = "127.0.0.1"
    webhook_port: int = Field(8080, ge=1, le=65535)
    global_rate_per_second: float = Field(25, gt=0)
    per_chat_rate_per_second: float = Field(1, gt=0)


# --- Zalo (Bot Platform and Official Account) ---------------------------------------------
# Facts marked *unconfirmed* in REFERENCE.md are settings here, each with the safe default.
# No key may contain "token"/"secret" (those are refused in config.toml): secrets come from
# the environment (SECRET_ENV), the OA's rotating token pair from the database.


class ZaloOAConfig(_Section):
    """The Official Account API v3 (``[zalo.oa]``)."""

    api_base: str = "https://openapi.zalo.me"
    oauth_base: str = "https://oauth.zaloapp.com"
    # The OA's public page (https://zalo.me/<OA id>): its QR code goes on the invite sheet;
    # following the OA opens its chat, where the official sends the printed code.
    link: str = Field("", pattern=r"^(https://\S+)?$")
    webhook_path: str = "/zalo-oa/webhook"
    max_body_bytes: int = Field(256 * 1024, ge=1024)
    # Retries carry the original timestamp, the last one ~1 h 50 min after the first.
    signature_slack_seconds: int = Field(7200, ge=60)
    text_limit: int = Field(2000, ge=100)  # unconfirmed: the OA text limit is not published
    # unconfirmed: a pressed query button is believed to come back as user_send_text carrying
    # the payload; off means every menu is the numbered text fallback.
    buttons_enabled: bool = True
    max_buttons: int = Field(5, ge=1, le=10)  # unconfirmed
    button_payload_prefix: str = Field("#papi:", min_length=1, max_length=16)
    refresh_ahead_seconds: int = Field(6 * 3600, ge=60)  # margin before the ~25 h expiry
    refresh_lease_seconds: int = Field(60, ge=5)
    # The OAuth callback registered for the app (papi-bot zalo-oa authorize); Zalo sends the
    # admin's browser there with ?code=…, which the admin pastes into the command.
    redirect_uri: str = ""
    free_window_hours: int = Field(48, ge=1)  # replies are free this long after a user wrote
    paid_window_days: int = Field(7, ge=1)  # then billed until this, then -230/-232
    requests_per_minute: int = Field(100, ge=1)  # unconfirmed (Growth package)
    http_timeout_seconds: float = Field(15.0, gt=0)


class ZaloConfig(_Section):
    """The Zalo Bot Platform (``[zalo]``) and, under ``[zalo.oa]``, the Official Account."""

    api_base: str = "https://bot-api.zaloplatforms.com"
    global_rate_per_second: float = Field(10, gt=0)
    per_chat_rate_per_second: float = Field(1, gt=0)
    mode: Literal["webhook", "polling"] = "webhook"  # polling is for development only
    webhook_path: str = "/zalo/webhook"
    # One server for both Zalo webhooks (bot/channels/webhook_hub.py); Zalo posts to
    # webhook_base_url + the path, an HTTPS address a reverse proxy maps to host:port.
    webhook_host: str = "127.0.0.1"
    webhook_port: int = Field(8088, ge=1, le=65535)
    webhook_base_url: str = ""
    max_body_bytes: int = Field(256 * 1024, ge=1024)
    text_limit: int = Field(2000, ge=100, le=2000)
    poll_min_interval_seconds: float = Field(1.0, ge=1.0)  # Zalo answers at once when busy
    poll_timeout_seconds: int = Field(30, ge=1, le=60)
    http_timeout_seconds: float = Field(15.0, gt=0)
    # unconfirmed: the docs say milliseconds, some samples seconds; "auto" decides by size.
    date_unit: Literal["auto", "ms", "s"] = "auto"
    accept_group_chats: bool = False  # groups are "coming soon", then only on @mention
    quota_users_per_bot: int = Field(50, ge=1)  # unconfirmed (free Basic plan)
    quota_messages_per_month: int = Field(3000, ge=1)  # unconfirmed (free Basic plan)
    quota_warn_percent: int = Field(80, ge=1, le=100)
    # A 429 is a monthly quota, not a throttle: back off for hours, not seconds.
    quota_backoff_seconds: int = Field(6 * 3600, ge=60)
    # Evidence photos (Zalo Bot and OA) are downloaded on receipt into data_dir/evidence:
    # Zalo's links expire. A larger photo is refused and the official asked for a smaller one.
    evidence_max_mb: float = Field(10, gt=0, le=100)
    # The default bot (ZALO_BOT_TOKEN), bound to no unit: what officials are told to look for.
    bot_label: str = ""
    # Its link (Zalo Bot Manager shows it, https://zalo.me/…): printed on invites, and its QR
    # code goes on the invite sheet; the platform has no start parameter, so the official
    # sends the code.
    bot_link: str = Field("", pattern=r"^(https://\S+)?$")
    bots: list[ZaloBotBinding] = Field(default_factory=list)  # [[zalo.bots]]: one per subtree
    oa: ZaloOAConfig = ZaloOAConfig()

    @field_validator("bots")
    @classmethod
    def _distinct_bots(cls, bots: list[ZaloBotBinding]) -> list[ZaloBotBinding]:
        return distinct_bots(bots)


# --- end of Zalo ---------------------------------------------------------------------------


class OutboxConfig(_Section):
    max_attempts: int = Field(8, ge=1)
    backoff_base_seconds: float = Field(2.0, gt=0)
    backoff_max_seconds: float = Field(600.0, gt=0)
    # How long a worker's claim on a row lasts: if the worker dies mid-send, the row comes due
    # again when it ends (PostgreSQL, several workers). Longer than a send can take (the
    # platforms' HTTP timeout is 30 s), or a live worker's slow send would be taken from it.
    claim_lease_seconds: float = Field(300.0, ge=45)


class FloodConfig(_Section):
    """The flood guard (bot/flood.py): one chat must not stall everyone (docs/security.md)."""

    enabled: bool = True
    # Any sender: past this many messages within a minute, one "please slow down", and the
    # rest of that minute is recorded but not answered.
    messages_per_minute: int = Field(20, ge=1, le=1000)
    # An unlinked chat: this many answers a minute to what is not a registration attempt.
    stranger_answers_per_minute: int = Field(1, ge=1, le=60)
    # /baocao renders files: this many per person within an hour, then a clear refusal.
    reports_per_hour: int = Field(5, ge=1, le=1000)


class RemindersConfig(_Section):
    days_before_due: list[int] = Field(default_factory=lambda: [7, 3, 1])
    on_due_day: bool = True
    overdue_every_days: int = Field(3, ge=1)
    report_days_before: int = Field(7, ge=0)
    silence_days: int = Field(21, ge=1)
    escalate_to_chair_after_days: int = Field(3, ge=0)
    escalate_to_coordinator_after_days: int = Field(10, ge=0)

    @field_validator("days_before_due")
    @classmethod
    def _positive(cls, value: list[int]) -> list[int]:
        if any(day < 1 for day in value):
            raise ValueError("expected whole numbers of days, each at least 1")
        return sorted(set(value), reverse=True)


class QuietHoursConfig(_Section):
    start: dt.time = dt.time(21, 0)
    end: dt.time = dt.time(7, 0)
    send_at: dt.time = dt.time(8, 0)
    skip_weekends: bool = True
    skip_public_holidays: bool = True


class DigestConfig(_Section):
    weekday: Literal["mon", "tue", "wed", "thu", "fri", "sat", "sun"] = "mon"
    time: dt.time = dt.time(7, 30)


class ReportCalendarConfig(_Section):
    deadlines: list[MonthDay] = Field(default_factory=lambda: ["03-20", "06-20", "11-30"])


class RetentionConfig(_Section):
    """Processed-update keys, sent outbox rows, finished report jobs and their files under
    data_dir/reports older than this are pruned every night."""

    days: int = Field(90, ge=7)


class WebConfig(_Section):
    """The web console (bot/web). Loopback by default: a public interface is a choice."""

    enabled: bool = True
    host: str = "127.0.0.1"
    port: int = Field(8081, ge=1, le=65535)
    public_url: str = ""  # the address people type, for links in chats (default http://host:port)
    session_hours: float = Field(8, gt=0, le=24 * 14)
    max_upload_mb: float = Field(20, gt=0, le=200)

    @property
    def base_url(self) -> str:
        """The console's address for links: ``public_url``, else ``http://host:port``."""
        return self.public_url.rstrip("/") or f"http://{self.host}:{self.port}"


class Secrets(BaseModel):
    """Read from the environment only; never from a file, never logged."""

    model_config = ConfigDict(frozen=True)

    telegram_bot_token: SecretStr | None = None
    telegram_webhook_secret: SecretStr | None = None
    zalo_bot_token: SecretStr | None = None
    zalo_webhook_secret: SecretStr | None = None
    console_secret: SecretStr | None = None  # signs console cookies and download links
    zalo_oa_app_id: SecretStr | None = None  # not secret, but it is per deployment
    zalo_oa_app_secret: SecretStr | None = None  # the app's key: token refresh
    zalo_oa_secret_key: SecretStr | None = None  # the OA's key: webhook signatures
    # Seeds the database once; after the first refresh the database holds the live pair.
    zalo_oa_refresh_token: SecretStr | None = None
    # [[zalo.bots]]: bot name → its token / webhook secret, from the variables they name.
    zalo_bot_tokens: dict[str, SecretStr] = Field(default_factory=dict)
    zalo_bot_webhook_secrets: dict[str, SecretStr] = Field(default_factory=dict)


class Settings(_Section):
    app: AppConfig = AppConfig()
    database: DatabaseConfig = DatabaseConfig()
    invites: InvitesConfig = InvitesConfig()
    imports: ImportsConfig = ImportsConfig()
    telegram: TelegramConfig = TelegramConfig()
    zalo: ZaloConfig = ZaloConfig()
    outbox: OutboxConfig = OutboxConfig()
    flood: FloodConfig = FloodConfig()
    reminders: RemindersConfig = RemindersConfig()
    quiet_hours: QuietHoursConfig = QuietHoursConfig()
    digest: DigestConfig = DigestConfig()
    report_calendar: ReportCalendarConfig = ReportCalendarConfig()
    web: WebConfig = WebConfig()
    retention: RetentionConfig = RetentionConfig()
    secrets: Secrets = Field(default_factory=Secrets, exclude=True)

    @property
    def tz(self) -> ZoneInfo:
        return ZoneInfo(self.app.timezone)


def _find_secret_keys(data: Mapping[str, Any], prefix: str = "") -> list[str]:
    """Keys that look like secrets, in tables and arrays of tables ([[zalo.bots]]); a key
    ending in ``_env`` names an environment variable (``token_env``), it holds no secret."""
    found: list[str] = []
    for key, value in data.items():
        path = f"{prefix}{key}"
        if isinstance(value, Mapping):
            found.extend(_find_secret_keys(value, f"{path}."))
        elif isinstance(value, list) and any(isinstance(item, Mapping) for item in value):
            for index, item in enumerate(value):
                if isinstance(item, Mapping):
                    found.extend(_find_secret_keys(item, f"{path}.{index}."))
        elif key.lower().endswith("_env"):
            continue
        elif any(word in key.lower() for word in _SECRET_WORDS):
            found.append(path)
    return found


def _describe(error: ValidationError, source: str) -> str:
    lines = []
    for item in error.errors():
        key = ".".join(str(part) for part in item["loc"]) or "(top level)"
        given = item.get("input")
        detail = item["msg"]
        if item["type"] == "extra_forbidden":
            detail = "unknown key"
        lines.append(f"{source}: {key}: {detail} (got {given!r})")
    return "\n".join(lines)


def default_config_path(env: Mapping[str, str] | None = None) -> Path | None:
    """The file to read: $PAPI_BOT_CONFIG, else ./config.toml if present, else none."""
    env = os.environ if env is None else env
    if env.get(CONFIG_ENV):
        return Path(env[CONFIG_ENV])
    local = Path("config.toml")
    return local if local.is_file() else None


def load_settings(
    path: Path | None = None, env: Mapping[str, str] | None = None, *, use_default_path: bool = True
) -> Settings:
    """Build the settings from a TOML file (optional) and the environment."""
    env = os.environ if env is None else env
    if path is None and use_default_path:
        path = default_config_path(env)
    data: dict[str, Any] = {}
    source = str(path) if path else "defaults"
    if path is not None:
        try:
            data = tomllib.loads(path.read_text(encoding="utf-8"))
        except FileNotFoundError as exc:
            raise ConfigError(f"{path}: config file not found") from exc
        except tomllib.TOMLDecodeError as exc:
            raise ConfigError(f"{path}: not valid TOML: {exc}") from exc
    secret_keys = _find_secret_keys(data)
    if secret_keys:
        names = ", ".join(secret_keys)
        raise ConfigError(
            f"{source}: {names}: secrets are read only from the environment "
            f"({', '.join(SECRET_ENV.values())}); remove them from the file"
        )
    if env.get(DATABASE_URL_ENV):
        data.setdefault("database", {})["url"] = env[DATABASE_URL_ENV]
    data["secrets"] = {field: env[var] for field, var in SECRET_ENV.items() if env.get(var)}
    try:
        settings = Settings.model_validate(data)
    except ValidationError as exc:
        raise ConfigError(_describe(exc, source)) from exc
    settings = settings.model_copy(update={"secrets": with_bot_secrets(settings, env)})
    set_local_zone(settings.tz)  # dates, periods and schedules all read this one zone
    return settings
