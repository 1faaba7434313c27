"""Telegram (aiogram 3): the only package that imports aiogram.

``TelegramChannel`` sends (the ``Channel`` protocol); ``TelegramReceiver`` turns updates from
long polling or a webhook into ``Inbound``s; ``errors.map_error`` is the one place where
Telegram's answers become the neutral send errors.
"""

from __future__ import annotations

from bot.channels.telegram.errors import map_error, redact
from bot.channels.telegram.incoming import callback_inbound, message_inbound
from bot.channels.telegram.outgoing import TelegramChannel, make_bot
from bot.channels.telegram.receiver import TelegramReceiver
from bot.channels.textsplit import split_text

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
