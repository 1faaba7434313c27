"""Receiving on Telegram: updates (long polling or webhook) → ``Inbound`` → the pipeline.

aiogram's Dispatcher and Router live here and nowhere else. The offset of ``getUpdates`` is
only moved past an update after ``apply`` returned for it, so a crash loses nothing: Telegram
delivers the unconfirmed updates again and the pipeline's dedupe (``ProcessedUpdate``) turns
the ones already applied into no-ops. A webhook request is answered only after the update was
applied (``handle_in_background=False``): a failure answers 500 and Telegram retries.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable, Callable
from datetime import datetime
from urllib.parse import urlparse

from aiogram import Bot, Dispatcher, Router
from aiogram.exceptions import TelegramRetryAfter, TelegramUnauthorizedError
from aiogram.types import CallbackQuery, Message, Update, User
from aiogram.webhook.aiohttp_server import SimpleRequestHandler
from aiohttp import web

from bot.channels.telegram.errors import redact
from handlers.types import Attachment, Inbound
from kernel.clock import Clock
from kernel.textnorm import nfc

log = logging.getLogger(__name__)

ALLOWED_UPDATES = ["message", "callback_query"]
DEFAULT_WEBHOOK_PATH = "/telegram/webhook"
MAX_POLL_BACKOFF = 30.0

ApplyFn = Callable[[Inbound], Awaitable[object]]


def _display_name(user: User | None) -> str | None:
    if user is None:
        return None
    return nfc(user.full_name) or None


def attachments_of(message: Message) -> tuple[Attachment, ...]:
    """The files a message carries, as channel-neutral attachments (largest photo size)."""
    found: list[Attachment] = []
    if message.photo:
        best = message.photo[-1]
        found.append(
            Attachment(
                kind="photo",
                file_id=best.file_id,
                file_unique_id=best.file_unique_id,
                file_size=best.file_size,
                mime_type="image/jpeg",
            )
        )
    if message.document:
        doc = message.document
        found.append(
            Attachment(
                kind="document",
                file_id=doc.file_id,
                file_unique_id=doc.file_unique_id,
                file_name=nfc(doc.file_name) if doc.file_name else None,
                mime_type=doc.mime_type,
                file_size=doc.file_size,
            )
        )
    if message.voice:
        voice = message.voice
        found.append(
            Attachment(
                kind="voice",
                file_id=voice.file_id,
                file_unique_id=voice.file_unique_id,
                mime_type=voice.mime_type,
                file_size=voice.file_size,
            )
        )
    if message.sticker:
        found.append(
            Attachment(
                kind="sticker",
                file_id=message.sticker.file_id,
                file_unique_id=message.sticker.file_unique_id,
            )
        )
    for other in (message.video, message.audio, message.video_note, message.animation):
        if other is not None:
            found.append(
                Attachment(kind="other", file_id=other.file_id, file_unique_id=other.file_unique_id)
            )
    return tuple(found)


def message_inbound(message: Message, update_id: int, now: datetime) -> Inbound | None:
    """The ``Inbound`` of a user's message; None for what has no sender (channel posts)."""
    user = message.from_user
    if user is None or user.is_bot:
        return None
    text = message.text if message.text is not None else message.caption
    reply = message.reply_to_message
    return Inbound(
        channel="telegram",
        external_user_id=str(user.id),
        chat_id=str(message.chat.id),
        update_key=str(update_id),
        received_at=now,
        message_id=str(message.message_id),
        text=nfc(text) if text is not None else None,
        attachments=attachments_of(message),
        reply_to_message_id=str(reply.message_id) if reply is not None else None,
        display_name=_display_name(user),
        is_forwarded=message.forward_origin is not None,
    )


def callback_inbound(query: CallbackQuery, update_id: int, now: datetime) -> Inbound:
    """The ``Inbound`` of a button press; ``message_id`` is the message the button is on."""
    chat_id = query.message.chat.id if query.message is not None else query.from_user.id
    return Inbound(
        channel="telegram",
        external_user_id=str(query.from_user.id),
        chat_id=str(chat_id),
        update_key=str(update_id),
        received_at=now,
        message_id=str(query.message.message_id) if query.message is not None else None,
        payload=query.data,
        display_name=_display_name(query.from_user),
    )


class TelegramReceiver:
    """Feeds Telegram updates to ``apply`` (the pipeline), by long polling or webhook."""

    def __init__(self, bot: Bot, apply: ApplyFn, clock: Clock) -> None:
        self._bot = bot
        self._apply = apply
        self._clock = clock
        self.dispatcher = Dispatcher()
        router = Router(name="papi-bot-telegram")
        router.message.register(self._on_message)
        router.callback_query.register(self._on_callback)
        self.dispatcher.include_router(router)

    async def _on_message(self, message: Message, event_update: Update) -> None:
        inbound = message_inbound(message, event_update.update_id, self._clock.now())
        if inbound is not None:
            await self._apply(inbound)

    async def _on_callback(self, query: CallbackQuery, event_update: Update) -> None:
        await self._apply(callback_inbound(query, event_update.update_id, self._clock.now()))
        try:  # stop the button's spinner; the answer itself comes through the outbox
            await query.answer()
        except Exception as exc:  # an expired query is harmless
            log.info("answerCallbackQuery failed: %s", redact(str(exc), self._bot.token))

    async def feed(self, update: Update) -> None:
        """Apply one update; raises if it could not be applied (the caller retries)."""
        await self.dispatcher.feed_update(self._bot, update)

    async def poll(self, *, poll_seconds: int = 30, stop: asyncio.Event | None = None) -> None:
        """Long polling until ``stop`` is set (or cancelled); never loses an update."""
        await self._bot.delete_webhook(drop_pending_updates=False)
        offset: int | None = None
        backoff = 1.0
        stop = stop or asyncio.Event()
        while not stop.is_set():
            try:
                updates = await self._bot.get_updates(
                    offset=offset,
                    timeout=poll_seconds,
                    allowed_updates=ALLOWED_UPDATES,
                    request_timeout=int(self._bot.session.timeout + poll_seconds),
                )
                for update in updates:
                    await self.feed(update)
                    offset = update.update_id + 1  # confirmed by the next getUpdates call
                backoff = 1.0
            except TelegramUnauthorizedError:
                raise  # a wrong token: retrying will not help
            except TelegramRetryAfter as exc:
                await asyncio.sleep(float(exc.retry_after))
            except Exception as exc:
                log.warning(
                    "telegram polling: %s; retrying in %.0fs",
                    redact(f"{type(exc).__name__}: {exc}", self._bot.token),
                    backoff,
                )
                await asyncio.sleep(backoff)
                backoff = min(backoff * 2, MAX_POLL_BACKOFF)

    def webhook_app(self, secret: str, path: str = DEFAULT_WEBHOOK_PATH) -> web.Application:
        """An aiohttp app answering Telegram's webhook calls; the secret header is required."""
        if not secret:
            raise ValueError("a webhook needs a secret token (TELEGRAM_WEBHOOK_SECRET)")
        app = web.Application()
        handler = SimpleRequestHandler(
            self.dispatcher, self._bot, handle_in_background=False, secret_token=secret
        )
        app.router.add_post(path, handler.handle)
        return app

    async def serve_webhook(self, *, url: str, host: str, port: int, secret: str) -> None:
        """Register the webhook with Telegram and serve it until cancelled."""
        path = urlparse(url).path or DEFAULT_WEBHOOK_PATH
        runner = web.AppRunner(self.webhook_app(secret, path), access_log=None)
        await runner.setup()
        try:
            await web.TCPSite(runner, host, port).start()
            await self._bot.set_webhook(url, secret_token=secret, allowed_updates=ALLOWED_UPDATES)
            log.info("telegram webhook listening on %s:%d%s", host, port, path)
            await asyncio.Event().wait()
        finally:
            await runner.cleanup()
