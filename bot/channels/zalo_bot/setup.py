"""Building the Zalo Bot pieces from the settings: what the registry's wiring calls.

A missing or malformed secret is a ``ValueError`` naming the environment variable (never its
value), raised at start-up rather than at the first message.
"""

from __future__ import annotations

import httpx

from bot.channels.zalo_bot.client import ZaloBotClient, validate_secret
from bot.config import Settings
from kernel.clock import Clock


def bot_client(
    settings: Settings, http: httpx.AsyncClient, clock: Clock | None = None
) -> ZaloBotClient:
    token = settings.secrets.zalo_bot_token
    if token is None or not token.get_secret_value().strip():
        raise ValueError("Zalo Bot is configured but ZALO_BOT_TOKEN is not set")
    value = token.get_secret_value().strip()
    if ":" not in value:
        raise ValueError("ZALO_BOT_TOKEN must look like <bot_id>:<secret>")
    return ZaloBotClient(
        token=value,
        http=http,
        api_base=settings.zalo.api_base,
        text_limit=settings.zalo.text_limit,
        quota_backoff_seconds=settings.zalo.quota_backoff_seconds,
        clock=clock,
    )


def webhook_secret(settings: Settings) -> str:
    """The webhook secret (ZALO_WEBHOOK_SECRET), checked: 8-256 characters."""
    secret = settings.secrets.zalo_webhook_secret
    if secret is None:
        raise ValueError("Zalo webhook mode needs ZALO_WEBHOOK_SECRET (8-256 characters)")
    return validate_secret(secret.get_secret_value())


def http_client(settings: Settings) -> httpx.AsyncClient:
    """One pooled client for every Zalo bot of the process (the caller closes it)."""
    return httpx.AsyncClient(timeout=settings.zalo.http_timeout_seconds)
