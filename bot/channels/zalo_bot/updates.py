"""Zalo Bot updates (webhook bodies and ``getUpdates`` results) → the neutral ``Inbound``.

Both body shapes seen in the wild are accepted: the documented ``{"ok":true,"result":{…}}``
and the flat ``{"event_name","message"}`` a production bot logged. The sender's name is
``from.display_name`` or ``from.first_name``; ``date`` is in milliseconds by the docs and in
seconds in some samples (``date_unit`` "auto": above 10^12 means milliseconds); an image is
``photo_url`` or ``photo``. ``message.unsupported.received`` (protected accounts, contact
cards; it may carry no ``message`` at all) becomes ``AskForText``: the caller answers with
``ask_for_text_message()`` where there is a chat to answer, and never crashes.

The dedupe key is the message's own ``message_id`` (there is no update_id on this platform);
``update_key`` exposes it so the caller can record it in the database.
"""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any, Literal

from handlers.types import Attachment, Inbound
from kernel.i18n import _
from kernel.textnorm import nfc

CHANNEL = "zalo"
MS_THRESHOLD = 10**12  # a date above this is in milliseconds (2001-09-09 in seconds)
UNSUPPORTED = "message.unsupported.received"
DateUnit = Literal["auto", "ms", "s"]


@dataclass(frozen=True, slots=True)
class AskForText:
    """Zalo delivered something papi-bot cannot read; answer "please type text" if possible."""

    update_key: str
    chat_id: str | None = None
    external_user_id: str | None = None

    @property
    def can_answer(self) -> bool:
        return self.chat_id is not None


Parsed = Inbound | AskForText | None


def ask_for_text_message() -> str:
    return _("Sorry, I can only read text and photos here. Please type your message.")


def unwrap(body: Any) -> dict[str, Any] | None:
    """The event ``{event_name, message}`` of either body shape, or None if it is neither."""
    if not isinstance(body, dict):
        return None
    if isinstance(body.get("result"), dict) and "event_name" not in body:
        body = body["result"]
    return body if isinstance(body.get("event_name"), str) else None


def update_key(event: dict[str, Any], prefix: str = "") -> str:
    """The dedupe key of an event: its message's ``message_id`` (with ``prefix``, e.g. the
    bot id when several bots share a database), else a digest of the whole event."""
    message = event.get("message")
    if isinstance(message, dict) and message.get("message_id") not in (None, ""):
        return f"{prefix}{message['message_id']}"
    canonical = json.dumps(event, sort_keys=True, ensure_ascii=False).encode()
    return f"{prefix}sha:{hashlib.sha256(canonical).hexdigest()[:40]}"


def parse_date(value: Any, unit: DateUnit = "auto") -> datetime | None:
    """An aware UTC datetime from Zalo's ``date``; None if missing or implausible."""
    if isinstance(value, bool) or not isinstance(value, int | float | str):
        return None
    try:
        number = float(value)
    except ValueError:
        return None
    if unit == "ms" or (unit == "auto" and number > MS_THRESHOLD):
        number /= 1000
    try:
        moment = datetime.fromtimestamp(number, UTC)
    except (OverflowError, OSError, ValueError):
        return None
    return moment if 2000 <= moment.year <= 2200 else None


def _id(value: Any) -> str | None:
    if value is None or isinstance(value, bool) or value == "":
        return None
    return str(value)


def _name(sender: dict[str, Any]) -> str | None:
    for key in ("display_name", "first_name", "name"):
        value = sender.get(key)
        if isinstance(value, str) and nfc(value):
            return nfc(value)
    return None


def _photo_url(message: dict[str, Any]) -> str | None:
    for key in ("photo_url", "photo", "image_url", "url"):
        value = message.get(key)
        if isinstance(value, str) and value:
            return value
        if isinstance(value, list) and value:  # defensive: a list of sizes, largest last
            last = value[-1]
            if isinstance(last, dict) and isinstance(last.get("url"), str):
                return str(last["url"])
            if isinstance(last, str):
                return last
    return None


def _attachments(event_name: str, message: dict[str, Any]) -> tuple[Attachment, ...]:
    if event_name == "message.image.received":
        url = _photo_url(message)
        return (Attachment(kind="photo", file_id=url),) if url else ()
    if event_name == "message.sticker.received":
        sticker = message.get("sticker") or message.get("sticker_id") or message.get("url")
        return (Attachment(kind="sticker", file_id=str(sticker)),) if sticker else ()
    if event_name == "message.voice.received":
        url = message.get("voice_url") or message.get("url")
        return (Attachment(kind="voice", file_id=str(url)),) if url else ()
    return ()


def _text(event_name: str, message: dict[str, Any]) -> str | None:
    for key in ("text", "caption"):
        value = message.get(key)
        if isinstance(value, str) and nfc(value):
            return nfc(value)
    if event_name == "message.link.received" and isinstance(message.get("url"), str):
        return nfc(str(message["url"]))
    return None


def parse_update(
    body: Any,
    now: datetime,
    *,
    date_unit: DateUnit = "auto",
    accept_groups: bool = False,
    key_prefix: str = "",
    channel: str = CHANNEL,
) -> Parsed:
    """The ``Inbound`` of a webhook body or ``getUpdates`` result; ``AskForText`` for what
    cannot be read; None for what needs no answer (bots, groups, unknown shapes).
    ``channel``: "zalo", or "zalo:<name>" for a bot of ``[[zalo.bots]]``."""
    event = unwrap(body)
    if event is None:
        return None
    event_name = str(event["event_name"])
    key = update_key(event, key_prefix)
    message = event.get("message")
    if not isinstance(message, dict):
        return AskForText(key) if event_name == UNSUPPORTED else None
    sender = message.get("from") if isinstance(message.get("from"), dict) else {}
    chat = message.get("chat") if isinstance(message.get("chat"), dict) else {}
    assert isinstance(sender, dict) and isinstance(chat, dict)
    user_id = _id(sender.get("id"))
    chat_id = _id(chat.get("id")) or user_id
    if sender.get("is_bot") is True or user_id is None or chat_id is None:
        return None
    if str(chat.get("chat_type", "PRIVATE")).upper() != "PRIVATE" and not accept_groups:
        return None
    text = _text(event_name, message)
    attachments = _attachments(event_name, message)
    if event_name == UNSUPPORTED or (text is None and not attachments):
        return AskForText(key, chat_id=chat_id, external_user_id=user_id)
    return Inbound(
        channel=channel,
        external_user_id=user_id,
        chat_id=chat_id,
        update_key=key,
        received_at=parse_date(message.get("date"), date_unit) or now,
        message_id=_id(message.get("message_id")),
        text=text,
        attachments=attachments,
        display_name=_name(sender),
    )
