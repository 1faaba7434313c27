"""Telegram, as declared in the registry; ``start`` is in ``bot.channels.telegram.runtime``.

Kept apart from the ``bot.channels.telegram`` package, which imports aiogram (≈ 0.6 s): the
outbox, the numbered menu and the digest's splitting read Telegram's limits from here, and a
command that only prints (``papi-bot digest``) must not pay for the framework.
"""

from __future__ import annotations

from bot.channels.base import Capabilities, RateLimits
from bot.channels.kind import ChannelDeps, ChannelKind, Receiving, RunningChannel
from bot.config import Settings

NAME = "telegram"
MAX_TEXT = 4096  # characters per message
MAX_CALLBACK_BYTES = 64  # callback_data of an inline button
DEFAULT_WEBHOOK_PATH = "/telegram/webhook"


def capabilities(settings: Settings) -> Capabilities:
    return Capabilities(
        text_limit=MAX_TEXT,
        buttons=True,
        edits=True,
        documents=True,
        photo_upload=True,
        payload_bytes=MAX_CALLBACK_BYTES,
        rates=RateLimits(
            settings.telegram.global_rate_per_second, settings.telegram.per_chat_rate_per_second
        ),
    )


def _receiving(settings: Settings) -> tuple[Receiving, ...]:
    return ("webhook", "polling") if settings.telegram.mode == "webhook" else ("polling", "webhook")


def _enabled(settings: Settings) -> bool:
    return settings.secrets.telegram_bot_token is not None


async def _start(deps: ChannelDeps) -> RunningChannel:
    from bot.channels.telegram.runtime import start  # aiogram: only when Telegram runs

    return await start(deps)


TELEGRAM = ChannelKind(
    name=NAME,
    capabilities=capabilities,
    receiving=_receiving,
    enabled=_enabled,
    webhook_route=DEFAULT_WEBHOOK_PATH,
    start=_start,
)
