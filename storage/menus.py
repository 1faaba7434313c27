"""The numbered menu last shown in each chat (``ChatMenu``), with the one before it.

``bot.channels.menu`` decides what a typed "2" means; this module is where the menus are
kept, so a restart or another process reads the same menu the user saw.
"""

from __future__ import annotations

from datetime import datetime

from sqlmodel import Session, select

from storage.models import ChatMenu

MenuItems = list[dict[str, str]]  # [{"label": "Hoàn thành", "payload": "a:12:done"}, ...]


def find_menu(session: Session, channel: str, chat_id: str) -> ChatMenu | None:
    return session.exec(
        select(ChatMenu).where(ChatMenu.channel == channel).where(ChatMenu.chat_id == chat_id)
    ).first()


def save_menu(
    session: Session,
    channel: str,
    chat_id: str,
    items: MenuItems,
    message_id: str | None,
    now: datetime,
) -> None:
    """The chat's menu is now ``items`` (empty: closed); the one shown before is kept beside
    it to recognise stale choices. The caller commits."""
    menu = find_menu(session, channel, chat_id)
    if menu is None:
        menu = ChatMenu(channel=channel, chat_id=chat_id)
    else:
        menu.previous_items, menu.previous_message_id = menu.items, menu.message_id
    menu.items, menu.message_id, menu.shown_at = items, message_id, now
    session.add(menu)
