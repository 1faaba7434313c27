"""Receiving on Telegram: updates (long polling or webhook) → ``Inbound`` → the pipeline.

The offset of ``getUpdates`` is only moved past an update after it was handled, so a crash
loses nothing: Telegram delivers the unconfirmed updates again and the pipeline's dedupe
(``ProcessedUpdate``) turns the ones already applied into no-ops. A webhook request is
answered only after the update was handled: a failure to apply it answers 500 and Telegram
retries.

Updates are read one by one from their JSON (``getUpdates`` is asked for raw objects): with
aiogram's typed ``list[Update]`` one update without ``chat``, or with ``"date": "yesterday"``,
made the whole batch unreadable, the offset never moved, and nothing after it ever arrived.
An update that cannot be read is logged (its id and which fields were wrong, never their
values), recorded as processed and skipped; a failure to *apply* a readable update is
retried: for as long as it takes when the database or the network is away, at most
``bot.attempts.LIMIT`` times when the update itself fails (then it is recorded as processed,
logged at ERROR and skipped: retried for ever, it held the offset, and a hundred updates
later nothing new was fetched).
"""

from __future__ import annotations

import asyncio
import hashlib
import json
import logging
from collections.abc import Awaitable, Callable
from typing import Any, ClassVar
from urllib.parse import urlparse

from aiogram import Bot
from aiogram.exceptions import ClientDecodeError, TelegramRetryAfter, TelegramUnauthorizedError
from aiogram.methods import GetUpdates
from aiogram.types import Update
from aiohttp import web
from pydantic import ValidationError

from bot.attempts import Attempts
from bot.channels.telegram.errors import redact
from bot.channels.telegram.incoming import callback_inbound, message_inbound
from bot.channels.telegram_kind import DEFAULT_WEBHOOK_PATH
from bot.channels.webhook_checks import read_limited, secret_matches
from bot.pipeline import key_digest
from handlers.types import Inbound
from kernel.clock import Clock

log = logging.getLogger(__name__)

ALLOWED_UPDATES = ["message", "callback_query"]
SECRET_HEADER = "X-Telegram-Bot-Api-Secret-Token"
FIRST_POLL_BACKOFF = 1.0
MAX_POLL_BACKOFF = 30.0
MAX_WEBHOOK_BODY = 1024 * 1024  # an update is a few kilobytes

ApplyFn = Callable[[Inbound], Awaitable[object]]
RecordFn = Callable[[str], Awaitable[object]]  # records an unreadable update's key


class GetRawUpdates(GetUpdates):
    """``getUpdates`` with each update left as JSON, to be read one at a time."""

    __returning__: ClassVar[Any] = list[Any]


def unreadable_key(bot_id: int, raw: object) -> str:
    """The dedupe key of an update that could not be read: a digest of all of it (its
    ``update_id`` included), so it is stable for a redelivery and names no one."""
    canonical = json.dumps(raw, sort_keys=True, ensure_ascii=True, default=str)
    return f"{bot_id}:x:{hashlib.sha256(canonical.encode()).hexdigest()[:32]}"


def what_was_wrong(exc: BaseException) -> str:
    """Which fields were wrong and how, without their values (they may be personal)."""
    if isinstance(exc, ValidationError):
        problems = exc.errors(include_url=False, include_context=False, include_input=False)
        return "; ".join(
            f"{'.'.join(str(part) for part in problem['loc'])}: {problem['type']}"
            for problem in problems[:5]
        )
    return type(exc).__name__


def _update_id(raw: object) -> int | None:
    value = raw.get("update_id") if isinstance(raw, dict) else None
    return value if isinstance(value, int) and not isinstance(value, bool) else None


def chat_of(raw: object) -> object:
    """Whose update this is, for keeping each chat's updates in order: its chat id (a button
    press: the chat of its message, else its sender); an update naming none is its own."""
    if isinstance(raw, dict):
        message = raw.get("message")
        query = raw.get("callback_query")
        if isinstance(query, dict):
            message = query.get("message")
            if not isinstance(message, dict):
                sender = query.get("from")
                return _field(sender, "id") if isinstance(sender, dict) else object()
        if isinstance(message, dict):
            chat = message.get("chat")
            if isinstance(chat, dict):
                return _field(chat, "id")
    return object()  # alone: nothing to keep it in order with


def _field(data: dict[str, Any], name: str) -> object:
    value = data.get(name)
    return value if isinstance(value, int | str) else object()


class NotApplied(Exception):
    """An update of the batch failed to apply; names the error's type, never its text."""


class TelegramReceiver:
    """Feeds Telegram updates to ``apply`` (the pipeline), by long polling or webhook;
    ``record`` records the key of an update that could not be read (None: only logged)."""

    def __init__(
        self, bot: Bot, apply: ApplyFn, clock: Clock, *, record: RecordFn | None = None
    ) -> None:
        self._bot = bot
        self._apply = apply
        self._clock = clock
        self._record = record
        self._attempts = Attempts()

    def inbound(self, update: Update) -> Inbound | None:
        """The ``Inbound`` of a message or button press (None for any other update)."""
        now = self._clock.now()
        if update.message is not None:
            return message_inbound(update.message, update.update_id, now, bot_id=self._bot.id)
        if update.callback_query is not None:
            query = update.callback_query
            return callback_inbound(query, update.update_id, now, bot_id=self._bot.id)
        return None

    async def handle(self, raw: object) -> None:
        """Handle one update from its JSON. An unreadable one is logged, recorded and
        skipped; raises only if a readable one could not be applied (the caller retries)."""
        try:
            update = Update.model_validate(raw, context={"bot": self._bot})
            inbound = self.inbound(update)
        except Exception as exc:  # whatever is wrong with it, it will be wrong next time too
            await self._unreadable(raw, exc)
            return
        if inbound is None:
            return
        try:
            await self._apply(inbound)
        except Exception as exc:
            if not self._attempts.give_up(inbound.update_key, exc):
                raise
            await self._given_up(inbound, exc)
            return
        self._attempts.applied(inbound.update_key)
        if update.callback_query is not None:
            try:  # stop the button's spinner; the answer itself comes through the outbox
                await update.callback_query.answer()
            except Exception as exc:  # an expired query is harmless
                log.info("answerCallbackQuery failed: %s", redact(str(exc), self._bot.token))

    async def handle_batch(
        self, updates: list[Any], offset: int | None
    ) -> tuple[int | None, BaseException | None]:
        """Handle one ``getUpdates`` answer; the offset that confirms what was handled, and
        the error of the earliest update that failed (None: all were handled).

        The chats' updates go at the same time, each chat's one after another in order (a
        chat's "50%" never overtakes its "xong"); while one waits for the database, the
        next chat's update is read. If one fails, the offset stays at the earliest failed
        update, so it and every later one come again: those already applied are no-ops
        (the pipeline's dedupe); the poll loop backs off."""
        chats: dict[object, list[Any]] = {}
        for raw in updates:
            chats.setdefault(chat_of(raw), []).append(raw)
        failures = await asyncio.gather(*(self._handle_chat(raws) for raws in chats.values()))
        failed = [(update_id, exc) for update_id, exc in failures if exc is not None]
        if failed:
            return min(failed, key=lambda item: item[0])
        ids = [update_id for raw in updates if (update_id := _update_id(raw)) is not None]
        return (max(ids) + 1 if ids else offset), None  # confirmed by the next getUpdates

    async def _handle_chat(self, raws: list[Any]) -> tuple[int, BaseException | None]:
        """One chat's updates in order, up to the first that fails (its id and error)."""
        for raw in raws:
            try:
                await self.handle(raw)
            except Exception as exc:
                return (_update_id(raw) or 0, exc)
        return (0, None)

    async def _unreadable(self, raw: object, exc: BaseException) -> None:
        log.warning(
            "telegram: update %s could not be read (%s); recorded as processed and skipped",
            _update_id(raw) if _update_id(raw) is not None else "without an id",
            what_was_wrong(exc),
        )
        if self._record is not None:
            await self._record(unreadable_key(self._bot.id, raw))

    async def _given_up(self, inbound: Inbound, exc: BaseException) -> None:
        # The error's type only: its text may quote the update's values.
        log.error(
            "telegram: update %s failed to apply %d times (%s); recorded as processed and skipped",
            key_digest(inbound.update_key),
            self._attempts.limit,
            type(exc).__name__,
        )
        if self._record is not None:
            try:
                await self._record(inbound.update_key)
            except Exception as error:  # skipped anyway: the offset moves past it
                log.warning("telegram: could not record the skipped update (%s)", type(error))

    async def poll(self, *, poll_seconds: int = 30, stop: asyncio.Event | None = None) -> None:
        """Long polling until ``stop`` is set (or cancelled); never loses an update."""
        await self._bot.delete_webhook(drop_pending_updates=False)
        offset: int | None = None
        backoff = FIRST_POLL_BACKOFF
        stop = stop or asyncio.Event()
        while not stop.is_set():
            try:
                updates = await self._bot(
                    GetRawUpdates(
                        offset=offset, timeout=poll_seconds, allowed_updates=ALLOWED_UPDATES
                    ),
                    request_timeout=int(self._bot.session.timeout + poll_seconds),
                )
                offset, error = await self.handle_batch(updates, offset)
                if error is not None:  # its type only: its text may quote the update
                    raise NotApplied(f"an update was not applied ({type(error).__name__})")
                backoff = FIRST_POLL_BACKOFF
            except TelegramUnauthorizedError:
                raise  # a wrong token: retrying will not help
            except TelegramRetryAfter as exc:
                await asyncio.sleep(float(exc.retry_after))
            except Exception as exc:
                # A decode error quotes the whole answer (names, texts): its type is enough.
                reason = (
                    type(exc).__name__
                    if isinstance(exc, ClientDecodeError)
                    else redact(f"{type(exc).__name__}: {exc}", self._bot.token)
                )
                log.warning("telegram polling: %s; retrying in %.0fs", reason, backoff)
                await asyncio.sleep(backoff)
                backoff = min(backoff * 2, MAX_POLL_BACKOFF)

    def webhook_handler(self, secret: str) -> Callable[[web.Request], Awaitable[web.Response]]:
        """Telegram's webhook call: 401 without the secret (any header value, compared on
        bytes in constant time), 413 too large, 400 not a JSON object, 500 if applying
        failed (Telegram retries), else 200 (an unreadable update too: it was recorded; and
        one given up after ``bot.attempts.LIMIT`` calls that failed for a reason of its own)."""
        if not secret:
            raise ValueError("a webhook needs a secret token (TELEGRAM_WEBHOOK_SECRET)")

        async def handle(request: web.Request) -> web.Response:
            if not secret_matches(request.headers.get(SECRET_HEADER), secret):
                return web.Response(status=401)
            body = await read_limited(request, MAX_WEBHOOK_BODY)
            if body is None:
                return web.Response(status=413)
            try:
                raw = json.loads(body)
            except (ValueError, RecursionError):  # not JSON, not UTF-8, or nested too deep
                return web.Response(status=400)
            if not isinstance(raw, dict):
                return web.Response(status=400)
            try:
                await self.handle(raw)
            except Exception as exc:
                log.warning(
                    "telegram webhook: update %s not applied (%s); Telegram will retry",
                    _update_id(raw),
                    type(exc).__name__,
                )
                return web.Response(status=500)
            return web.json_response({})

        return handle

    def webhook_app(self, secret: str, path: str = DEFAULT_WEBHOOK_PATH) -> web.Application:
        """An aiohttp app answering Telegram's webhook calls; the secret header is required."""
        app = web.Application(client_max_size=MAX_WEBHOOK_BODY)
        app.router.add_post(path, self.webhook_handler(secret))
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
