"""OA webhook events → the neutral ``Inbound`` (messages) or ``OAFollow`` (follow/unfollow).

Ids are strings everywhere (they exceed 2^53). Events carry no user name (``GET
/v3.0/oa/user/detail`` has it). A pressed query button is believed to arrive as a
``user_send_text`` whose text is the button's payload (*unconfirmed*): papi-bot prefixes its
payloads (``button_payload_prefix``), so such a text becomes ``Inbound.payload`` and nothing
else can be mistaken for one. The dedupe key is the message's ``msg_id``.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

from bot.channels.zalo_oa.signature import event_time
from handlers.types import Attachment, Inbound
from kernel.textnorm import nfc

CHANNEL = "zalo_oa"
DEFAULT_PAYLOAD_PREFIX = "#papi:"
MESSAGE_EVENTS = frozenset(
    {"user_send_text", "user_send_image", "user_send_file", "user_send_sticker", "user_send_gif"}
)


@dataclass(frozen=True, slots=True)
class OAFollow:
    """A user followed (or unfollowed) the OA: a reason to link or to mark unreachable."""

    user_id: str
    followed: bool
    update_key: str
    at: datetime


def _id(value: Any) -> str | None:
    if value is None or isinstance(value, bool) or value == "":
        return None
    return str(value)


def _attachment(item: dict[str, Any]) -> Attachment | None:
    kind = str(item.get("type") or "")
    payload = item.get("payload") if isinstance(item.get("payload"), dict) else {}
    assert isinstance(payload, dict)
    url = payload.get("url")
    if not isinstance(url, str) or not url:
        return None
    size = payload.get("size")
    try:
        file_size = int(size) if size not in (None, "") else None
    except (TypeError, ValueError):
        file_size = None
    name = payload.get("name")
    mapped = {"image": "photo", "file": "document", "sticker": "sticker", "gif": "other"}
    return Attachment(
        kind=mapped.get(kind, "other"),
        file_id=url,
        file_name=nfc(name) if isinstance(name, str) and name else None,
        file_size=file_size,
    )


def _attachments(message: dict[str, Any]) -> tuple[Attachment, ...]:
    items = message.get("attachments")
    if not isinstance(items, list):
        return ()
    found = (_attachment(item) for item in items if isinstance(item, dict))
    return tuple(item for item in found if item is not None)


def parse_event(
    event: Any, now: datetime, *, payload_prefix: str = DEFAULT_PAYLOAD_PREFIX
) -> Inbound | OAFollow | None:
    """What a (signature-checked) event means; None for events papi-bot does not act on."""
    if not isinstance(event, dict):
        return None
    name = str(event.get("event_name") or "")
    at = event_time(event.get("timestamp")) or now
    if name in ("follow", "unfollow"):
        follower = event.get("follower") if isinstance(event.get("follower"), dict) else {}
        assert isinstance(follower, dict)
        user_id = _id(follower.get("id")) or _id(event.get("user_id_by_app"))
        if user_id is None:
            return None
        key = f"{name}:{user_id}:{event.get('timestamp')}"
        return OAFollow(user_id=user_id, followed=name == "follow", update_key=key, at=at)
    if name not in MESSAGE_EVENTS:
        return None
    sender = event.get("sender") if isinstance(event.get("sender"), dict) else {}
    message = event.get("message") if isinstance(event.get("message"), dict) else {}
    assert isinstance(sender, dict) and isinstance(message, dict)
    user_id = _id(sender.get("id"))
    msg_id = _id(message.get("msg_id"))
    if user_id is None or msg_id is None:
        return None
    raw_text = message.get("text")
    text = nfc(raw_text) if isinstance(raw_text, str) and nfc(raw_text) else None
    payload = None
    if text is not None and payload_prefix and text.startswith(payload_prefix):
        payload, text = text[len(payload_prefix) :].strip() or None, None
    return Inbound(
        channel=CHANNEL,
        external_user_id=user_id,
        chat_id=user_id,  # the OA writes to a user by their id
        update_key=msg_id,
        received_at=at,
        message_id=msg_id,
        text=text,
        payload=payload,
        attachments=_attachments(message),
        reply_to_message_id=_id(message.get("quote_msg_id")),
    )
