"""Building the Zalo Bot pieces from the settings: what the registry's wiring calls.

A missing or malformed secret is a ``ValueError`` naming the environment variable (never its
value), raised at start-up rather than at the first message.
"""

from __future__ import annotations

from dataclasses import dataclass

import httpx
from pydantic import SecretStr

from bot.channels.zalo_bot.client import ZaloBotClient, validate_secret
from bot.config import Settings
from kernel.clock import Clock


@dataclass(frozen=True, slots=True)
class BotSetup:
    """One Zalo bot as configured: the default one (``bot`` "") or a ``[[zalo.bots]]`` entry.
    The variable names are kept for the messages; the values are never shown."""

    channel: str  # "zalo", or "zalo:<name>"
    token: SecretStr | None
    token_env: str
    secret: SecretStr | None
    secret_env: str
    webhook_path: str


def bot_setup(settings: Settings, bot: str = "") -> BotSetup:
    """The configuration of the default bot (``bot`` "") or of the bound bot named ``bot``."""
    if not bot:
        return BotSetup(
            "zalo",
            settings.secrets.zalo_bot_token,
            "ZALO_BOT_TOKEN",
            settings.secrets.zalo_webhook_secret,
            "ZALO_WEBHOOK_SECRET",
            settings.zalo.webhook_path,
        )
    binding = next(b for b in settings.zalo.bots if b.name == bot)
    return BotSetup(
        binding.channel,
        settings.secrets.zalo_bot_tokens.get(bot),
        binding.token_env,
        settings.secrets.zalo_bot_webhook_secrets.get(bot),
        binding.secret_env or f"a secret_env for [[zalo.bots]] {bot}",
        binding.path,
    )


def bot_client(
    settings: Settings, http: httpx.AsyncClient, clock: Clock | None = None, bot: str = ""
) -> ZaloBotClient:
    setup = bot_setup(settings, bot)
    token = setup.token
    if token is None or not token.get_secret_value().strip():
        raise ValueError(f"Zalo Bot is configured but {setup.token_env} is not set")
    value = token.get_secret_value().strip()
    if ":" not in value:
        raise ValueError(f"{setup.token_env} must look like <bot_id>:<secret>")
    return ZaloBotClient(
        token=value,
        http=http,
        api_base=settings.zalo.api_base,
        text_limit=settings.zalo.text_limit,
        quota_backoff_seconds=settings.zalo.quota_backoff_seconds,
        clock=clock,
    )


def webhook_secret(settings: Settings, bot: str = "") -> str:
    """The webhook secret (ZALO_WEBHOOK_SECRET, or the bot's secret_env), checked: 8-256
    characters."""
    setup = bot_setup(settings, bot)
    if setup.secret is None:
        raise ValueError(f"Zalo webhook mode needs {setup.secret_env} (8-256 characters)")
    return validate_secret(setup.secret.get_secret_value(), setup.secret_env)


def http_client(settings: Settings) -> httpx.AsyncClient:
    """One pooled client for every Zalo bot of the process (the caller closes it)."""
    return httpx.AsyncClient(timeout=settings.zalo.http_timeout_seconds)
