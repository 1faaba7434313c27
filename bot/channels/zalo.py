"""Zalo Bot and Zalo OA, as declared in the registry; ``start`` is in ``bot.channels.zalo_run``.

Limits from /work/shared/REFERENCE.md: Zalo Bot sends text of 1–2000 characters, has no
buttons of any kind (numbered menus), no edits, no documents, photos only by URL; getUpdates
is for development, webhooks are the production mode. Zalo OA has query buttons, files by
upload, no edits; its access token lasts ≈ 25 h and is refreshed with a rotating refresh
token. Rates are not published (Zalo Bot: a monthly quota) — they are settings (``[zalo]``).
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from dataclasses import replace
from datetime import timedelta

from bot.channels.base import Capabilities, RateLimits
from bot.channels.kind import ChannelDeps, ChannelKind, Receiving, RunningChannel
from bot.config import Settings
from bot.config_bots import ZaloBotBinding

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
        monthly_quota=settings.zalo.quota_messages_per_month,  # unconfirmed: free Basic plan
        quota_warn_percent=settings.zalo.quota_warn_percent,
        max_users=settings.zalo.quota_users_per_bot,  # unconfirmed: free Basic plan
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
        free_window=timedelta(hours=settings.zalo.oa.free_window_hours),
        numbered_fallback=True,  # more than max_buttons, or buttons_enabled off
    )


def _bot_receiving(settings: Settings) -> tuple[Receiving, ...]:
    return ("polling", "webhook") if settings.zalo.mode == "polling" else ("webhook", "polling")


def _webhook_only(settings: Settings) -> tuple[Receiving, ...]:
    return ("webhook",)


def _bot_enabled(settings: Settings) -> bool:
    """The token turns it on; webhook mode without ZALO_WEBHOOK_SECRET then stops the start
    with a message naming the variable (rather than running without Zalo, silently)."""
    return settings.secrets.zalo_bot_token is not None


def _oa_enabled(settings: Settings) -> bool:
    """The app id turns it on; the other OA secrets missing stops the start, naming them."""
    return settings.secrets.zalo_oa_app_id is not None


async def _start_bot(deps: ChannelDeps) -> RunningChannel:
    # Imported when started: the runtime pulls in the web console (file links), which
    # itself reads this registry; the declarations stay importable on their own.
    from bot.channels.zalo_run import bot_runtime

    return await bot_runtime.start(deps)


def _start_bound(name: str) -> Callable[[ChannelDeps], Awaitable[RunningChannel]]:
    async def start(deps: ChannelDeps) -> RunningChannel:
        from bot.channels.zalo_run import bot_runtime

        return await bot_runtime.start(deps, bot=name)

    return start


def bound_bot(binding: ZaloBotBinding) -> ChannelKind:
    """The declaration of one ``[[zalo.bots]]`` bot: Zalo Bot's capabilities (each bot has
    its own monthly quota and user limit), channel "zalo:<name>", its own webhook path."""
    name = binding.name

    def enabled(settings: Settings) -> bool:
        return name in settings.secrets.zalo_bot_tokens

    def why_disabled(settings: Settings) -> str | None:
        if enabled(settings):
            return None
        return (
            f"{binding.channel}: {binding.token_env} is not set, so this bot is disabled; "
            f"officials of {binding.unit!r} are sent to the nearest other Zalo bot"
        )

    return ChannelKind(
        name=binding.channel,
        capabilities=bot_capabilities,
        receiving=_bot_receiving,
        enabled=enabled,
        webhook_route=binding.path,
        start=_start_bound(name),
        why_disabled=why_disabled,
        unit=binding.unit,
        label=binding.label or binding.name,
        link=binding.link,
    )


def zalo_bots(settings: Settings | None) -> list[ChannelKind]:
    """The default Zalo bot (named as ``[zalo] bot_label`` says), then every bound bot."""
    if settings is None:
        return [ZALO_BOT]
    default = replace(ZALO_BOT, label=settings.zalo.bot_label, link=settings.zalo.bot_link)
    return [default, *(bound_bot(binding) for binding in settings.zalo.bots)]


async def _start_oa(deps: ChannelDeps) -> RunningChannel:
    from bot.channels.zalo_run import oa_runtime

    return await oa_runtime.start(deps)


ZALO_BOT = ChannelKind(
    name="zalo",
    capabilities=bot_capabilities,
    receiving=_bot_receiving,
    enabled=_bot_enabled,
    webhook_route="/zalo/webhook",
    start=_start_bot,
)

ZALO_OA = ChannelKind(
    name="zalo_oa",
    capabilities=oa_capabilities,
    receiving=_webhook_only,
    enabled=_oa_enabled,
    webhook_route="/zalo-oa/webhook",
    token_refresh=True,
    start=_start_oa,
)
