"""The ONE place where Telegram's answers become the neutral send errors of ``base.py``.

aiogram already turns status codes into typed exceptions (``client/session/base.py``
``check_response``); this maps those types, so the outbox never sees a status code.
"""

from __future__ import annotations

import asyncio

from aiogram.exceptions import (
    ClientDecodeError,
    RestartingTelegram,
    TelegramAPIError,
    TelegramBadRequest,
    TelegramConflictError,
    TelegramEntityTooLarge,
    TelegramForbiddenError,
    TelegramMigrateToChat,
    TelegramNetworkError,
    TelegramNotFound,
    TelegramRetryAfter,
    TelegramServerError,
    TelegramUnauthorizedError,
)
from aiohttp import ClientError

from bot.channels.base import (
    ContactStopped,
    PermanentFailure,
    SendError,
    TemporaryFailure,
    Throttled,
)

_PERMANENT = (
    TelegramBadRequest,
    TelegramNotFound,
    TelegramEntityTooLarge,
    TelegramConflictError,
    TelegramUnauthorizedError,
    TelegramMigrateToChat,
)
_TEMPORARY = (
    TelegramServerError,
    RestartingTelegram,
    TelegramNetworkError,
    ClientDecodeError,
    ClientError,
    asyncio.TimeoutError,
    TimeoutError,
    OSError,
)


def redact(text: str, token: str) -> str:
    """``text`` without the bot token (it is part of every Bot API URL)."""
    return text.replace(token, "<token>") if token else text


def map_error(exc: BaseException, token: str = "") -> SendError:
    """The neutral error for an exception raised while calling the Bot API."""
    reason = redact(f"{type(exc).__name__}: {exc}", token)
    if isinstance(exc, TelegramRetryAfter):
        return Throttled(float(exc.retry_after), reason)
    if isinstance(exc, TelegramForbiddenError):
        return ContactStopped(reason)
    if isinstance(exc, _PERMANENT):
        return PermanentFailure(reason)
    if isinstance(exc, _TEMPORARY):
        return TemporaryFailure(reason)
    if isinstance(exc, TelegramAPIError):  # an unexpected status: retrying is the safe side
        return TemporaryFailure(reason)
    return TemporaryFailure(reason)


def is_not_modified(exc: BaseException) -> bool:
    """An edit that changes nothing: Telegram says 400, but the message is as wanted."""
    return isinstance(exc, TelegramBadRequest) and "message is not modified" in str(exc).lower()
