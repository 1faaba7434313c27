"""Telegram (aiogram 3): the only package that imports aiogram.

``TelegramChannel`` sends (the ``Channel`` protocol); ``TelegramReceiver`` turns updates from
long polling or a webhook into ``Inbound``s; ``errors.map_error`` is the one place where
Telegram's answers become the neutral send errors.

aiogram is first imported here, by ``lazy_models.import_aiogram``: its type models are then
built when first used instead of all at import (≈ 2 s of a ``papi-bot run`` start).
"""

from __future__ import annotations

from bot.channels.telegram.lazy_models import import_aiogram

import_aiogram()  # before any module below imports aiogram

from bot.channels.telegram.errors import map_error, redact  # noqa: E402
from bot.channels.telegram.incoming import callback_inbound, message_inbound  # noqa: E402
from bot.channels.telegram.outgoing import TelegramChannel, make_bot  # noqa: E402
from bot.channels.telegram.receiver import TelegramReceiver  # noqa: E402
from bot.channels.textsplit import split_text  # noqa: E402

__all__ = [
    "TelegramChannel",
    "TelegramReceiver",
    "callback_inbound",
    "make_bot",
    "map_error",
    "message_inbound",
    "redact",
    "split_text",
]
