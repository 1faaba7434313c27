"""The console channel: the bot in a terminal, on demo data — the embedded default.

Buttons are shown as a numbered menu under the message ("1. Hoàn thành"); typing "1" presses
the first button of the last message that had buttons in this chat (a message without
buttons closes the menu). A task number that would clash with a menu number is typed with a
hash: "#5". ``/file PATH [caption]`` sends a file as evidence.
"""

from __future__ import annotations

import asyncio
import itertools
import uuid
from collections.abc import Awaitable, Callable, Sequence
from datetime import datetime
from pathlib import Path
from typing import TextIO

from sqlalchemy.engine import Engine
from sqlmodel import Session, col, select

from bot.channels.base import OutgoingMessage, SendResult
from bot.config import Settings
from bot.demo import demo_people, ensure_demo_data
from bot.pipeline import apply_inbound
from handlers.types import Attachment, Button, Inbound
from kernel.clock import Clock
from kernel.i18n import _, use_locale
from kernel.textnorm import nfc
from storage.db import session_scope
from storage.models import ChannelIdentity, Official, OutboxMessage, Unit

CHANNEL = "console"
QUIT_WORDS = ("/quit", "/exit", "/thoat")


def flat_buttons(buttons: Sequence[Sequence[Button]]) -> list[Button]:
    return [button for row in buttons for button in row]


def render(message: OutgoingMessage) -> str:
    """The text as the terminal shows it, with the numbered menu."""
    lines = [message.text]
    if message.file_path:
        lines.append(f"[{message.file_name or Path(message.file_path).name}: {message.file_path}]")
    menu = flat_buttons(message.buttons)
    if menu:
        lines.append("")
        lines.extend(f"{n}. {button.label}" for n, button in enumerate(menu, 1))
    return "\n".join(lines)


class ConsoleChannel:
    """Writes messages to a text stream; remembers each chat's menu."""

    name = CHANNEL
    max_text_length = 4096
    supports_buttons = False

    def __init__(self, stream: TextIO) -> None:
        self._stream = stream
        self._menus: dict[str, list[Button]] = {}
        self._ids = itertools.count(1)

    async def send(self, message: OutgoingMessage) -> SendResult:
        self._stream.write(render(message) + "\n\n")
        self._stream.flush()
        self._menus[message.chat_id] = flat_buttons(message.buttons)
        return SendResult(external_message_id=f"c{next(self._ids)}")

    def payload_for(self, chat_id: str, text: str) -> str | None:
        """The payload of menu item ``text`` ("2") in this chat, if there is one."""
        return menu_payload(self._menus.get(chat_id, []), text)


def menu_payload(menu: Sequence[Button], text: str) -> str | None:
    choice = text.strip()
    if choice.isdigit() and 1 <= int(choice) <= len(menu):
        return menu[int(choice) - 1].payload
    return None


def last_menu(session: Session, chat_id: str) -> list[Button]:
    """The buttons of the last message sent to this console chat (empty: no menu open).

    Read from the outbox rather than from a channel object, so the menu survives restarts
    and does not depend on which ``ConsoleChannel`` instance printed it.
    """
    row = session.exec(
        select(OutboxMessage)
        .where(OutboxMessage.channel == CHANNEL)
        .where(OutboxMessage.chat_id == chat_id)
        .where(OutboxMessage.status == "sent")
        .order_by(col(OutboxMessage.id).desc())
    ).first()
    if row is None or not row.buttons:
        return []
    return [Button(item["label"], item["payload"]) for line in row.buttons for item in line]


def console_inbound(
    line: str, user_id: str, update_key: str, now: datetime, menu: Sequence[Button] = ()
) -> Inbound:
    """A typed line as an Inbound: a menu number becomes a button press, ``/file`` a file."""
    text = nfc(line)
    payload = menu_payload(menu, text)
    if payload is not None:
        return Inbound(CHANNEL, user_id, user_id, update_key, now, update_key, payload=payload)
    if text.startswith("/file "):
        path, _sep, caption = text[len("/file ") :].strip().partition(" ")
        attachment = Attachment(kind="document", file_id=path, file_name=Path(path).name)
        return Inbound(
            CHANNEL,
            user_id,
            user_id,
            update_key,
            now,
            update_key,
            text=caption.strip() or None,
            attachments=(attachment,),
        )
    if text.startswith("#") and text[1:].split(" ", 1)[0].isdigit():
        text = text[1:]  # "#5": the task number, not menu item 5
    return Inbound(CHANNEL, user_id, user_id, update_key, now, update_key, text=text)


def _role_name(role: str) -> str:
    names = {
        "chair": _("Commune chair"),
        "official": _("Official"),
        "coordinator": _("Coordinator"),
        "admin": _("Administrator"),
    }
    return names.get(role, role)


def _choose_official(session: Session, stdout: TextIO) -> list[Official]:
    people = demo_people(session)
    stdout.write(_("Who are you? Type a number:") + "\n")
    for n, official in enumerate(people, 1):
        unit = session.get(Unit, official.unit_id)
        where = unit.name if unit else ""
        stdout.write(f"{n}. {official.name} — {_role_name(official.role)}, {where}\n")
    stdout.flush()
    return people


def _link(session: Session, official: Official, now: datetime) -> str:
    """The console identity of this official (created on first use)."""
    user_id = f"console-{official.id}"
    found = session.exec(
        select(ChannelIdentity)
        .where(ChannelIdentity.channel == CHANNEL)
        .where(ChannelIdentity.external_user_id == user_id)
    ).first()
    if found is None:
        session.add(
            ChannelIdentity(
                official_id=official.id or 0,
                channel=CHANNEL,
                external_user_id=user_id,
                chat_id=user_id,
                display_name=official.name,
                linked_at=now,
            )
        )
    return user_id


async def _read(stdin: TextIO) -> str | None:
    line = await asyncio.to_thread(stdin.readline)
    return None if line == "" else line.rstrip("\n")


async def _pick(engine: Engine, stdin: TextIO, stdout: TextIO, now: datetime) -> str | None:
    """Ask who the user is until a valid number; their console chat id, or None at EOF."""
    with Session(engine) as session:
        people = _choose_official(session, stdout)
    while True:
        line = await _read(stdin)
        if line is None or line.strip() in QUIT_WORDS:
            return None
        choice = line.strip()
        if choice.isdigit() and 1 <= int(choice) <= len(people):
            with session_scope(engine) as session:
                return _link(session, people[int(choice) - 1], now)
        stdout.write(_("Type a number from 1 to %(n)d.") % {"n": len(people)} + "\n")
        stdout.flush()


async def run_console(
    engine: Engine,
    settings: Settings,
    clock: Clock,
    stdin: TextIO,
    stdout: TextIO,
    deliver: Callable[[], Awaitable[object]],
) -> None:
    """The interactive loop: demo data, choose who you are, then talk until EOF or /quit."""
    with use_locale(settings.app.default_locale):
        with session_scope(engine) as session:
            if ensure_demo_data(session, settings, clock.now()):
                stdout.write(_("Demo data created: a fictional province with its plan.") + "\n")
        user_id = await _pick(engine, stdin, stdout, clock.now())
        if user_id is None:
            return
        stdout.write(
            _('Type /help, /nhiemvu, or a reply such as "12 xong". /quit to leave.') + "\n\n"
        )
        stdout.flush()
    run_id = uuid.uuid4().hex[:12]  # update keys must not repeat across runs
    for counter in itertools.count(1):
        line = await _read(stdin)
        if line is None or line.strip() in QUIT_WORDS:
            return
        if not line.strip():
            continue
        with Session(engine) as session:
            menu = last_menu(session, user_id)
        key = f"{user_id}:{run_id}:{counter}"
        inbound = console_inbound(line, user_id, key, clock.now(), menu)
        apply_inbound(engine, inbound, settings, clock.now())
        await deliver()
