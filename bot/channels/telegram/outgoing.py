"""Sending on Telegram: ``TelegramChannel.send`` (the ``Channel`` protocol) over aiogram."""

from __future__ import annotations

import asyncio
from pathlib import Path
from typing import Any

from aiogram import Bot
from aiogram.client.session.aiohttp import AiohttpSession
from aiogram.client.telegram import TelegramAPIServer
from aiogram.methods import Response, TelegramMethod
from aiogram.types import (
    FSInputFile,
    InlineKeyboardButton,
    InlineKeyboardMarkup,
    Message,
    ReplyParameters,
)

from bot.channels.base import OutgoingMessage, PermanentFailure, SendError, SendResult
from bot.channels.telegram.errors import is_not_modified, map_error
from bot.channels.telegram_kind import MAX_TEXT
from bot.channels.textsplit import split_text

MAX_CAPTION = 1024
PHOTO_SUFFIXES = frozenset({".png", ".jpg", ".jpeg", ".webp"})
DEFAULT_TIMEOUT = 30.0


class KeepingSession(AiohttpSession):
    """aiogram's HTTP session, holding on to each ``Response[T]`` model it parses with.

    aiogram builds ``Response[method.__returning__]`` for every answer; pydantic keeps that
    parametrised model in a weak cache only, so whenever the garbage collector ran in between
    (a busy bot allocates a lot: every SQL row) the model is rebuilt — ≈15 ms of schema
    generation, measured as 8 % of the bot's CPU under load (docs/performance.md). One strong
    reference per answer type (a handful: Message, bool, list[Update], User…) ends that."""

    def __init__(self, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self._responses: dict[Any, Any] = {}

    def check_response(
        self, bot: Bot, method: TelegramMethod[Any], status_code: int, content: str
    ) -> Response[Any]:
        returning = method.__returning__
        if returning not in self._responses:
            self._responses[returning] = Response[returning]  # type: ignore[valid-type]
        return super().check_response(bot, method, status_code, content)


def make_bot(token: str, api_base: str, *, timeout: float = DEFAULT_TIMEOUT) -> Bot:
    """An aiogram ``Bot`` talking to ``api_base`` (Telegram, a self-hosted server, a fake)."""
    api = TelegramAPIServer.from_base(api_base.rstrip("/"))
    return Bot(token, session=KeepingSession(api=api, timeout=timeout))


def keyboard(message: OutgoingMessage) -> InlineKeyboardMarkup | None:
    if not message.buttons:
        return None
    rows = [
        [InlineKeyboardButton(text=button.label, callback_data=button.payload) for button in row]
        for row in message.buttons
    ]
    return InlineKeyboardMarkup(inline_keyboard=rows)


class TelegramChannel:
    """The outbox's view of Telegram. ``send`` raises only ``SendError`` subclasses."""

    name = "telegram"

    def __init__(self, bot: Bot) -> None:
        self._bot = bot

    async def send(self, message: OutgoingMessage) -> SendResult:
        try:
            sent = await self._send(message)
        except SendError:
            raise
        except Exception as exc:  # every other failure is mapped in errors.py, in one place
            raise map_error(exc, self._bot.token) from None
        return SendResult(external_message_id=str(sent))

    async def _send(self, message: OutgoingMessage) -> int:
        chat_id = _chat_id(message.chat_id)
        if message.edit_message_id is not None:
            return await self._edit(chat_id, message)
        if message.file_path is not None:
            return await self._send_file(chat_id, message)
        return await self._send_text(chat_id, message)

    async def _send_text(self, chat_id: int | str, message: OutgoingMessage) -> int:
        pieces = split_text(message.text or " ", MAX_TEXT)
        reply = _reply(message)
        last = 0
        for index, piece in enumerate(pieces):
            final = index == len(pieces) - 1
            sent = await self._bot.send_message(
                chat_id=chat_id,
                text=piece,
                reply_markup=keyboard(message) if final else None,
                reply_parameters=reply if index == 0 else None,
            )
            last = sent.message_id
        return last

    async def _edit(self, chat_id: int | str, message: OutgoingMessage) -> int:
        edit_id = int(message.edit_message_id or 0)
        try:
            await self._bot.edit_message_text(
                chat_id=chat_id,
                message_id=edit_id,
                text=message.text[:MAX_TEXT] or " ",
                reply_markup=keyboard(message),
            )
        except Exception as exc:
            if not is_not_modified(exc):
                raise
        return edit_id

    async def _send_file(self, chat_id: int | str, message: OutgoingMessage) -> int:
        path = Path(message.file_path or "")
        if not await asyncio.to_thread(path.is_file):
            raise PermanentFailure(f"file to send not found: {path.name}")
        upload = FSInputFile(path, filename=message.file_name or path.name)
        fits = len(message.text) <= MAX_CAPTION
        caption = message.text if fits and message.text else None
        sent: Message
        if path.suffix.lower() in PHOTO_SUFFIXES:
            sent = await self._bot.send_photo(
                chat_id=chat_id, photo=upload, caption=caption, reply_parameters=_reply(message)
            )
        else:
            sent = await self._bot.send_document(
                chat_id=chat_id, document=upload, caption=caption, reply_parameters=_reply(message)
            )
        if fits:
            return sent.message_id
        # A caption holds 1024 characters: a longer text follows the file as a message.
        return await self._send_text(chat_id, _without_reply(message))


def _chat_id(value: str) -> int | str:
    try:
        return int(value)
    except ValueError:
        return value  # "@channelname"


def _reply(message: OutgoingMessage) -> ReplyParameters | None:
    if message.reply_to_message_id is None:
        return None
    return ReplyParameters(
        message_id=int(message.reply_to_message_id), allow_sending_without_reply=True
    )


def _without_reply(message: OutgoingMessage) -> OutgoingMessage:
    return OutgoingMessage(chat_id=message.chat_id, text=message.text, buttons=message.buttons)
