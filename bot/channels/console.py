"""The console channel: the bot in a terminal, on demo data — the embedded default.

It has no buttons: the outbox shows them as the shared numbered menu (``bot.channels.menu``,
"1 — Hoàn thành"), kept in the database; typing "1" or the label presses that button. A task
number that would clash with a menu number is typed with a hash: "#5". ``/file PATH
[caption]`` sends a file as evidence.
"""

from __future__ import annotations

import asyncio
import itertools
import uuid
from collections.abc import Awaitable, Callable, Sequence
from datetime import datetime, timedelta
from pathlib import Path
from typing import TextIO

from sqlalchemy.engine import Engine
from sqlmodel import Session

from bot.channels import menu
from bot.channels.base import Capabilities, OutgoingMessage, SendResult
from bot.channels.kind import ChannelKind, Receiving
from bot.config import Settings
from bot.pipeline import apply_inbound
from bot.reports.jobs import render_pending
from handlers.types import Attachment, Button, Inbound
from kernel.clock import Clock
from kernel.i18n import _, use_locale
from kernel.textnorm import nfc
from storage.db import session_scope
from storage.identities import Account, find_identity, link_identity
from storage.models import Official, Unit

CHANNEL = "console"
QUIT_WORDS = ("/quit", "/exit", "/thoat")
TEXT_LIMIT = 4096  # a terminal has none; long texts are split like a phone's would be


def capabilities(settings: Settings) -> Capabilities:
    return Capabilities(
        text_limit=TEXT_LIMIT,
        buttons=False,
        edits=False,
        documents=True,  # shown as name and path
        photo_upload=True,
        payload_bytes=None,
        rates=None,
    )


def _receiving(settings: Settings) -> tuple[Receiving, ...]:
    return ("terminal",)


def _never(settings: Settings) -> bool:
    return False  # not a platform: it runs when no platform channel is enabled


CONSOLE = ChannelKind(name=CHANNEL, capabilities=capabilities, receiving=_receiving, enabled=_never)


def render(message: OutgoingMessage) -> str:
    """The text as the terminal shows it, with the numbered menu."""
    text = message.text
    if message.file_path:
        shown = message.file_name or Path(message.file_path).name
        text = f"{text}\n[{shown}: {message.file_path}]"
    return menu.render(text, message.buttons)


class ConsoleChannel:
    """Writes messages to a text stream."""

    name = CHANNEL

    def __init__(self, stream: TextIO) -> None:
        self._stream = stream
        self._ids = itertools.count(1)

    async def send(self, message: OutgoingMessage) -> SendResult:
        self._stream.write(render(message) + "\n\n")
        self._stream.flush()
        return SendResult(external_message_id=f"c{next(self._ids)}")


def menu_payload(items: Sequence[Button], text: str) -> str | None:
    """The payload of menu item ``text`` ("2", or its label) in ``items``."""
    return menu.pick([{"label": b.label, "payload": b.payload} for b in items], text)


def _hashed(text: str) -> bool:
    return text.startswith("#") and text[1:].split(" ", 1)[0].isdigit()


def console_inbound(
    line: str, user_id: str, update_key: str, now: datetime, items: Sequence[Button] = ()
) -> Inbound:
    """A typed line as an Inbound: a number of ``items`` becomes a button press, ``/file`` a
    file, "#5" the text "5" (the task, not the menu item)."""
    text = nfc(line)
    payload = None if _hashed(text) else menu_payload(items, text)
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
    if _hashed(text):
        text = text[1:]
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
    from bot.demo import demo_people  # the demo (and its plan reader) only in console mode

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
    if find_identity(session, CHANNEL, user_id) is None:
        link_identity(
            session, Account(CHANNEL, user_id, user_id, official.name), official.id or 0, now
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
    from bot.demo import ensure_demo_data  # loads the plan reader: not at a platform's start

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
        key = f"{user_id}:{run_id}:{counter}"
        inbound: Inbound | None = console_inbound(line, user_id, key, clock.now())
        if inbound is not None and not _hashed(nfc(line)):
            # None: a stale choice, answered with the current menu
            inbound = menu.resolve(engine, inbound, clock.now(), grace=timedelta(0))
        report = asyncio.Event()  # set when the line recorded a /baocao job
        if inbound is not None:
            limit = capabilities(settings).text_limit
            now = clock.now()
            apply_inbound(engine, inbound, settings, now, text_limit=limit, on_report=report.set)
        await deliver()  # the answer first ("preparing the report…"), then the files
        if report.is_set():
            queued = await asyncio.to_thread(render_pending, engine, settings, clock.now)
            if queued:
                await deliver()
