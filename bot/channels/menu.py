"""The numbered menu of every channel without buttons (the console, Zalo Bot).

Sending: the outbox shows ``Outbound.buttons`` under the text as "1 — Hoàn thành" lines and,
once the message is sent, stores the menu for that chat (``ChatMenu``, with the one before
it). Every message sent to the chat replaces the menu, so one without buttons closes it.

Receiving: "2", or a label typed with or without diacritics ("hoan thanh"), becomes the press
of that button. A choice that may have been meant for the menu before (the menu changed a
moment before the message came in, or the user quoted the older message) and would mean
something else there is **stale**: it is answered with the current menu, never applied to
the wrong task.
"""

from __future__ import annotations

import logging
from collections.abc import Sequence
from dataclasses import dataclass, replace
from datetime import datetime, timedelta

from sqlalchemy.exc import IntegrityError
from sqlmodel import Session

from bot.channels.base import OutgoingMessage
from bot.config import FloodConfig
from bot.pipeline import enqueue, key_digest
from handlers.types import Button, Inbound, Outbound
from kernel.i18n import _
from kernel.textnorm import fold, nfc
from storage import bind
from storage.bind import Bind
from storage.flood import MESSAGE, count_message
from storage.identities import mark_processed
from storage.menus import MenuItems, find_menu, save_menu

log = logging.getLogger(__name__)

# A choice that comes in this soon after the menu changed may have been typed under the old
# one (the new menu and the user's message crossed on the way); the console shows every
# message before it reads the next line, so it needs none.
STALE_GRACE = timedelta(seconds=5)
SEPARATOR = " — "

Items = MenuItems


def flat(buttons: Sequence[Sequence[Button]]) -> list[Button]:
    return [button for row in buttons for button in row]


def render(text: str, buttons: Sequence[Sequence[Button]]) -> str:
    """``text`` with the buttons as a numbered menu below it."""
    menu = flat(buttons)
    if not menu:
        return text
    lines = [f"{n}{SEPARATOR}{button.label}" for n, button in enumerate(menu, 1)]
    return text + "\n\n" + "\n".join(lines)


def menu_room(buttons: Sequence[Sequence[Button]]) -> int:
    """Characters the menu adds under the text."""
    return len(render("", buttons))


def with_menu(message: OutgoingMessage) -> OutgoingMessage:
    """The message as a channel without buttons sends it: the menu in the text."""
    if not message.buttons:
        return message
    return OutgoingMessage(
        chat_id=message.chat_id,
        text=render(message.text, message.buttons),
        file_path=message.file_path,
        file_name=message.file_name,
        reply_to_message_id=message.reply_to_message_id,
    )


def _items(buttons: Sequence[Sequence[Button]]) -> Items:
    return [{"label": b.label, "payload": b.payload} for b in flat(buttons)]


def _buttons(items: Items) -> tuple[tuple[Button, ...], ...]:
    return tuple((Button(item["label"], item["payload"]),) for item in items)


def remember(
    session: Session,
    channel: str,
    chat_id: str,
    buttons: Sequence[Sequence[Button]],
    message_id: str | None,
    now: datetime,
) -> None:
    """The chat's menu is now ``buttons`` (empty: closed); the caller commits."""
    save_menu(session, channel, chat_id, _items(buttons), message_id, now)


def pick(items: Items, text: str) -> str | None:
    """The payload ``text`` chooses: a number from 1, or a label (diacritics optional)."""
    choice = nfc(text).strip()
    if choice.isdigit():
        number = int(choice)
        return items[number - 1]["payload"] if 1 <= number <= len(items) else None
    folded = fold(choice)
    found = [item["payload"] for item in items if fold(item["label"]) == folded]
    return found[0] if len(found) == 1 else None


@dataclass(frozen=True, slots=True)
class Choice:
    """What a typed line means for the chat's menu: a payload, stale, or not a choice."""

    payload: str | None = None
    stale: bool = False
    current: tuple[tuple[Button, ...], ...] = ()


def choose(
    session: Session,
    inbound: Inbound,
    *,
    grace: timedelta = STALE_GRACE,
) -> Choice:
    """The meaning of ``inbound.text`` for the menu of its chat."""
    # A forwarded "2" is someone else's words, never this official's choice.
    if inbound.text is None or inbound.payload is not None or inbound.attachments:
        return Choice()
    if inbound.is_forwarded:
        return Choice()
    menu = find_menu(session, inbound.channel, inbound.chat_id)
    if menu is None:
        return Choice()
    now_payload = pick(menu.items, inbound.text)
    old_payload = pick(menu.previous_items, inbound.text)
    stale = Choice(stale=True, current=_buttons(menu.items))
    quoted = inbound.reply_to_message_id
    if quoted is not None and quoted == menu.previous_message_id and old_payload is not None:
        return stale if old_payload != now_payload else Choice(payload=now_payload)
    if quoted is not None and quoted == menu.message_id:
        return Choice(payload=now_payload)
    recent = inbound.received_at - menu.shown_at < grace
    if recent and old_payload is not None and old_payload != now_payload:
        return stale
    return Choice(payload=now_payload)


def stale_reply(current: tuple[tuple[Button, ...], ...]) -> Outbound:
    if not current:
        return Outbound(_("That menu is closed. Type /nhiemvu to see your tasks."))
    return Outbound(_("That menu has just changed. Please choose again:"), buttons=current)


def resolve(
    engine: Bind,
    inbound: Inbound,
    now: datetime,
    *,
    grace: timedelta = STALE_GRACE,
    flood: FloodConfig | None = None,
) -> Inbound | None:
    """``inbound`` with a menu choice turned into its button's payload; None when it was a
    stale choice, answered here with the current menu (recorded as processed, like any
    other update, so a redelivery does not answer twice). A stale choice counts as a message
    for the flood guard (``flood``): past ``messages_per_minute`` it is recorded and not
    answered, since every answer costs a message on the platform."""
    with bind.session(engine, expire_on_commit=False) as session:
        choice = choose(session, inbound, grace=grace)
        if choice.payload is not None:
            return _pressed(inbound, choice.payload)
        if not choice.stale:
            return inbound
        try:
            mark_processed(session, inbound.channel, inbound.update_key, now)
        except IntegrityError:
            session.rollback()
            log.info(
                "%s: duplicate update skipped (stale menu choice; key %s)",
                inbound.channel,
                key_digest(inbound.update_key),
            )
            return None
        if flood is not None and _flooding(session, inbound, now, flood):
            session.commit()
            return None
        enqueue(
            session,
            [stale_reply(choice.current)],
            now,
            reply_channel=inbound.channel,
            reply_chat_id=inbound.chat_id,
        )
        session.commit()
    return None


def _flooding(session: Session, inbound: Inbound, now: datetime, flood: FloodConfig) -> bool:
    """Count the stale choice as one of the sender's messages this minute (the flood
    guard's own count, ``bot.flood``): whether it is past the limit."""
    if not flood.enabled:
        return False
    counted = count_message(
        session,
        inbound.channel,
        inbound.external_user_id,
        MESSAGE,
        now,
        limit=flood.messages_per_minute,
        window=timedelta(minutes=1),
    )
    if counted.over:
        log.info("flood: a %s message was held back (stale menu choices)", inbound.channel)
    return counted.over


def _pressed(inbound: Inbound, payload: str) -> Inbound:
    """The typed choice as the press of its button: every other field of the update (its key,
    sender, quoted message, forwarded flag) stays as it came."""
    return replace(inbound, payload=payload, text=None, attachments=())
