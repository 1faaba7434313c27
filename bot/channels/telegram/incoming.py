"""Telegram's messages and button presses as ``Inbound``s, and the key each is deduped by.

The dedupe key names what cannot repeat: ``<bot id>:m:<chat id>:<message id>`` for a message
(message ids go on per chat, whatever happens to update ids) and ``<bot id>:c:<callback query
id>`` for a button press. Update ids are no key: they start again after a quiet week or for
another bot on the same database, and a remembered id then swallowed a new message. The bare
update id the version before recorded is still honoured for a redelivery of that same update
(``EarlierKey``): a row with it counts only if written after the message was (and within the
day Telegram keeps an unconfirmed update).

Every text that comes in is cleaned (``kernel.textnorm.clean``: no lone surrogate, no control
character) before it can be stored or echoed, then NFC-normalised.
"""

from __future__ import annotations

from datetime import datetime, timedelta

from aiogram.types import CallbackQuery, Chat, Message, User

from handlers.types import Attachment, EarlierKey, Inbound
from kernel.textnorm import clean, nfc

# Telegram keeps an unconfirmed update for 24 hours: an older row is no redelivery of it.
REDELIVERY_WINDOW = timedelta(hours=24)
# Telegram's clock and ours may differ a little; a redelivered message was processed after it
# was written, give or take this.
CLOCK_SLACK = timedelta(minutes=2)
MAX_KEY_PART = 64


def text_of(value: str | None) -> str | None:
    """Platform text as the bot keeps it: cleaned, NFC, trimmed."""
    return nfc(clean(value)) if value is not None else None


def _display_name(user: User | None) -> str | None:
    if user is None:
        return None
    return text_of(user.full_name) or None


def message_key(bot_id: int, chat_id: int, message_id: int) -> str:
    return f"{bot_id}:m:{chat_id}:{message_id}"


def callback_key(bot_id: int, query_id: str) -> str:
    return f"{bot_id}:c:{clean(query_id)[:MAX_KEY_PART]}"


def is_group(chat: Chat | None) -> bool:
    """A group, supergroup or channel: papi-bot talks to one official at a time."""
    return chat is not None and chat.type != "private"


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
                file_name=text_of(doc.file_name) if doc.file_name else None,
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


def message_inbound(
    message: Message, update_id: int, now: datetime, *, bot_id: int
) -> Inbound | None:
    """The ``Inbound`` of a user's message; None for what has no sender (channel posts)."""
    user = message.from_user
    if user is None or user.is_bot:
        return None
    text = message.text if message.text is not None else message.caption
    reply = message.reply_to_message
    since = max(now - REDELIVERY_WINDOW, message.date - CLOCK_SLACK)
    return Inbound(
        channel="telegram",
        external_user_id=str(user.id),
        chat_id=str(message.chat.id),
        update_key=message_key(bot_id, message.chat.id, message.message_id),
        received_at=now,
        message_id=str(message.message_id),
        text=text_of(text),
        attachments=attachments_of(message),
        reply_to_message_id=str(reply.message_id) if reply is not None else None,
        display_name=_display_name(user),
        is_forwarded=message.forward_origin is not None,
        group_chat=is_group(message.chat),
        earlier_key=EarlierKey(str(update_id), since),
    )


def callback_inbound(
    query: CallbackQuery, update_id: int, now: datetime, *, bot_id: int
) -> Inbound:
    """The ``Inbound`` of a button press; ``message_id`` is the message the button is on."""
    chat = query.message.chat if query.message is not None else None
    return Inbound(
        channel="telegram",
        external_user_id=str(query.from_user.id),
        chat_id=str(chat.id if chat is not None else query.from_user.id),
        update_key=callback_key(bot_id, query.id),
        received_at=now,
        message_id=str(query.message.message_id) if query.message is not None else None,
        payload=clean(query.data) if query.data is not None else None,
        display_name=_display_name(query.from_user),
        group_chat=is_group(chat),
        earlier_key=EarlierKey(str(update_id), now - REDELIVERY_WINDOW),
    )
