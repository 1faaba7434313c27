"""How Telegram starts and stops (its declaration: ``bot.channels.telegram_kind``).

Start: a ``Bot`` on ``telegram.api_base``, ``getMe`` (a wrong token or base URL fails here,
before anything else), then long polling or the webhook, per ``telegram.mode``. Stop: the
receiving loop is cancelled, the HTTP session closed.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable, Callable

from aiogram import Bot

from bot.channels.base import StartupError
from bot.channels.kind import ChannelDeps
from bot.channels.telegram.errors import map_error
from bot.channels.telegram.outgoing import TelegramChannel, make_bot
from bot.channels.telegram.receiver import TelegramReceiver
from bot.channels.telegram_kind import NAME
from bot.pipeline import record_unreadable
from kernel.i18n import _

log = logging.getLogger("papi_bot")


class TelegramRuntime:
    """A connected Telegram bot: the outbox's sender and the receiving loop."""

    name = NAME

    def __init__(self, bot: Bot, deps: ChannelDeps) -> None:
        self._bot = bot
        self._settings = deps.settings
        self.sender = TelegramChannel(bot)
        self.receiver = TelegramReceiver(bot, deps.apply, deps.clock, record=self._recorder(deps))

    @staticmethod
    def _recorder(deps: ChannelDeps) -> Callable[[str], Awaitable[None]] | None:
        """Records an unreadable update as processed (off the event loop: the pipeline's
        SQL is synchronous)."""
        engine = deps.engine
        if engine is None:
            return None

        async def record(update_key: str) -> None:
            await asyncio.to_thread(record_unreadable, engine, NAME, update_key, deps.clock.now())

        return record

    async def receive(self, stop: asyncio.Event) -> None:
        config = self._settings.telegram
        if config.mode == "polling":
            await self.receiver.poll(stop=stop)
            return
        secret = self._settings.secrets.telegram_webhook_secret
        if secret is None or not config.webhook_url:
            raise StartupError(
                _("webhook mode needs telegram.webhook_url and TELEGRAM_WEBHOOK_SECRET")
            )
        await self.receiver.serve_webhook(
            url=config.webhook_url,
            host=config.webhook_host,
            port=config.webhook_port,
            secret=secret.get_secret_value(),
        )

    def describe_error(self, exc: BaseException) -> str:
        """A running error as a sentence without the token."""
        return str(map_error(exc, self._bot.token))

    async def close(self) -> None:
        await self._bot.session.close()


async def start(deps: ChannelDeps) -> TelegramRuntime:
    """Connect (``getMe``); a wrong token or unreachable Bot API is a ``StartupError``."""
    settings = deps.settings
    token = settings.secrets.telegram_bot_token
    if token is None:
        raise StartupError(_("TELEGRAM_BOT_TOKEN is not set"))
    bot = make_bot(token.get_secret_value(), settings.telegram.api_base)
    try:
        me = await bot.get_me()
    except Exception as exc:
        await bot.session.close()
        reason = map_error(exc, token.get_secret_value())
        raise StartupError(
            _("cannot reach the Bot API at %(url)s: %(reason)s")
            % {"url": settings.telegram.api_base, "reason": reason}
        ) from None
    log.info("telegram: connected as @%s (%s mode)", me.username, settings.telegram.mode)
    return TelegramRuntime(bot, deps)
