"""Zalo Bot and Zalo OA, as declared in the registry (their adapters come next).

Limits from /work/shared/REFERENCE.md: Zalo Bot sends text of 1–2000 characters, has no
buttons of any kind (numbered menus), no edits, no documents, photos only by URL; getUpdates
is for development, webhooks are the production mode. Zalo OA has query buttons, files by
upload, no edits; its access token lasts ≈ 25 h and is refreshed with a rotating refresh
token. Rates are not published (Zalo Bot: a monthly quota) — they are settings (``[zalo]``).
"""

from __future__ import annotations

from bot.channels.base import Capabilities, RateLimits
from bot.channels.kind import ChannelKind, Receiving
from bot.config import Settings

ZALO_BOT_TEXT_LIMIT = 2000
ZALO_OA_TEXT_LIMIT = 2000  # unconfirmed: the OA docs give no figure; Zalo Bot's is 2000
ZALO_OA_PAYLOAD_BYTES = 1000  # unconfirmed: a query button's payload comes back as text


def _rates(settings: Settings) -> RateLimits:
    return RateLimits(settings.zalo.global_rate_per_second, settings.zalo.per_chat_rate_per_second)


def bot_capabilities(settings: Settings) -> Capabilities:
    return Capabilities(
        text_limit=ZALO_BOT_TEXT_LIMIT,
        buttons=False,
        edits=False,
        documents=False,
        photo_upload=False,  # sendPhoto takes a URL only
        payload_bytes=None,
        rates=_rates(settings),
    )


def oa_capabilities(settings: Settings) -> Capabilities:
    return Capabilities(
        text_limit=ZALO_OA_TEXT_LIMIT,
        buttons=True,
        edits=False,
        documents=True,
        photo_upload=True,
        payload_bytes=ZALO_OA_PAYLOAD_BYTES,
        rates=_rates(settings),
    )


def _webhook_first(settings: Settings) -> tuple[Receiving, ...]:
    return ("webhook", "polling")


def _webhook_only(settings: Settings) -> tuple[Receiving, ...]:
    return ("webhook",)


def _bot_enabled(settings: Settings) -> bool:
    return settings.secrets.zalo_bot_token is not None


def _oa_enabled(settings: Settings) -> bool:
    return False  # the OA's secrets (app id, secret key, refresh token) are not configurable yet


ZALO_BOT = ChannelKind(
    name="zalo",
    capabilities=bot_capabilities,
    receiving=_webhook_first,
    enabled=_bot_enabled,
    webhook_route="/zalo/webhook",
)

ZALO_OA = ChannelKind(
    name="zalo_oa",
    capabilities=oa_capabilities,
    receiving=_webhook_only,
    enabled=_oa_enabled,
    webhook_route="/zalo-oa/webhook",
    token_refresh=True,
)
