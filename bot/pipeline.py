"""One inbound message, applied exactly once: dedupe → identify → converse → outbox, in ONE
transaction.

The ``ProcessedUpdate`` row is the first statement of the transaction, so on SQLite it takes
the write lock at once (two processes on one file queue behind each other instead of failing
on a lock upgrade) and a redelivered update hits the unique constraint before anything else
happens. Every reply becomes an ``OutboxMessage`` row in the same transaction; the outbox
worker sends it after the commit.
"""

from __future__ import annotations

import dataclasses
import hashlib
import logging
from collections.abc import Callable, Sequence
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any, TypeVar

from sqlalchemy.exc import IntegrityError
from sqlmodel import Session

from bot import flood
from bot.config import Settings
from bot.reports.requests import render_request, request_data
from bot.routing import Routing
from handlers.context import ConversationSettings, HandlerContext
from handlers.types import Inbound, Outbound, Reply, ReportKind, ReportRequest
from kernel.i18n import _, use_locale
from kernel.textnorm import clean
from storage import bind
from storage.bind import Bind
from storage.identities import (
    Link,
    find_sender,
    mark_processed,
    note_chat,
)
from storage.lockout import LockoutPolicy
from storage.models import (
    OUTBOX_PRIORITY_BROADCAST,
    OUTBOX_PRIORITY_REPLY,
    OutboxStatus,
)
from storage.person import Person
from storage.queue import ClaimTerms, QueuedRow, add_outbox_rows, first_in_chats
from storage.report_jobs import add_report_job

log = logging.getLogger(__name__)


def outbox_values(
    outbound: Outbound,
    channel: str,
    chat_id: str,
    official_id: int | None,
    now: datetime,
    *,
    same_chat: bool,
) -> dict[str, Any]:
    """The column values of one outbox row for ``outbound`` sent to (channel, chat_id).
    Reply/edit message ids only make sense in the chat they came from (``same_chat``); a
    row back to that chat is a reply and goes before broadcasts."""
    buttons = [[{"label": b.label, "payload": b.payload} for b in row] for row in outbound.buttons]
    return {
        "channel": channel,
        "chat_id": chat_id,
        "official_id": official_id,
        "kind": outbound.kind,
        "text": outbound.text,
        "buttons": buttons or None,
        "file_path": outbound.file.path if outbound.file else None,
        "file_name": outbound.file.file_name if outbound.file else None,
        "reply_to_message_id": outbound.reply_to_message_id if same_chat else None,
        "edit_message_id": outbound.edit_message_id if same_chat else None,
        "assignment_id": outbound.assignment_id,
        "status": OutboxStatus.PENDING,
        "attempts": 0,
        "priority": OUTBOX_PRIORITY_REPLY if same_chat else OUTBOX_PRIORITY_BROADCAST,
        "next_attempt_at": now,
        "created_at": now,
    }


def enqueue(
    session: Session,
    outbounds: Sequence[Outbound],
    now: datetime,
    *,
    reply_channel: str | None = None,
    reply_chat_id: str | None = None,
    reply_official_id: int | None = None,
    routing: Routing | None = None,
) -> list[QueuedRow]:
    """Outbox rows for ``outbounds`` (written, with their ids); the caller commits.

    An Outbound addressed to an official is ONE row, in the chat ``routing`` picks (the
    channel they chose with /kenh, else the one they last wrote from, with fallbacks: see
    ``bot.routing``; none reachable: no row, the digest shows them as unreachable). One
    without goes back to the reply chat. ``routing`` None: no channel's free window counts.
    """
    if now.tzinfo is None:
        raise ValueError("naive datetime: pass an aware 'now'")
    routing = routing or Routing()
    recipients = routing.recipients(
        session, (o.official_id for o in outbounds if o.official_id is not None), now
    )
    rows: list[dict[str, Any]] = []
    for outbound in outbounds:
        if outbound.official_id is None:
            if reply_channel is None or reply_chat_id is None:
                raise ValueError("an Outbound without official_id needs reply_channel and chat_id")
            channel, chat_id = reply_channel, reply_chat_id
        else:
            identity = recipients.get(outbound.official_id)
            if identity is None:
                continue
            channel, chat_id = identity.channel, identity.chat_id
        same_chat = (channel, chat_id) == (reply_channel, reply_chat_id)
        official_id = outbound.official_id or reply_official_id
        rows.append(
            outbox_values(outbound, channel, chat_id, official_id, now, same_chat=same_chat)
        )
    return add_outbox_rows(session, rows)


def _identify(
    session: Session, inbound: Inbound, now: datetime
) -> tuple[Link | None, Person | None]:
    found = find_sender(session, inbound.channel, inbound.external_user_id)
    if found is None:
        return None, None
    link, person = found
    if not person.active:
        return None, None  # a deactivated official is treated as a stranger
    # Reachable again, may have moved, and now the channel last written from: when the
    # message was written (a reply window counts from it), never later than now.
    written = inbound.received_at if inbound.received_at.tzinfo is not None else now
    note_chat(session, link, inbound.chat_id, min(written, now))
    return link, person


T = TypeVar("T")


def _once_per_settings(
    cache: list[tuple[Settings, T]], settings: Settings, build: Callable[[Settings], T]
) -> T:
    """``build(settings)``, built once per ``Settings`` object (settings do not change while
    the bot runs); only the latest is kept (tests make many)."""
    for known, built in cache:
        if known is settings:
            return built
    made = build(settings)
    cache[:] = [(settings, made)]
    return made


_CONVERSATION_SETTINGS: list[tuple[Settings, ConversationSettings]] = []


def conversation_settings(settings: Settings) -> ConversationSettings:
    """The part of the configuration the conversation reads (no secrets)."""
    return _once_per_settings(_CONVERSATION_SETTINGS, settings, _build_conversation_settings)


def _build_conversation_settings(settings: Settings) -> ConversationSettings:
    from bot.channels.seats import channel_seats  # the registry imports this module (menus)

    return ConversationSettings(
        default_locale=settings.app.default_locale,
        timezone=settings.app.timezone,
        silence_days=settings.reminders.silence_days,
        report_deadlines=tuple(settings.report_calendar.deadlines),
        seats=channel_seats(settings),  # the Zalo bots: who belongs on which, how many fit
        invite_lockout=LockoutPolicy(
            max_failures=settings.invites.max_wrong_codes,
            window=timedelta(minutes=settings.invites.wrong_code_window_minutes),
            lockout=timedelta(minutes=settings.invites.lockout_minutes),
        ),
    )


def _rendered(
    ctx: HandlerContext, replies: Sequence[Reply], settings: Settings, jobs: list[int]
) -> list[Outbound]:
    """The handler's messages, each report request replaced by the messages carrying it. Report
    files become a ``ReportJob`` rendered after the commit (``bot.reports.jobs``), answered at
    once with "preparing the report…": openpyxl, python-docx and matplotlib must not run while
    this transaction holds the database's write lock."""
    outbounds: list[Outbound] = []
    for reply in replies:
        if isinstance(reply, ReportRequest) and reply.kind == ReportKind.FILES:
            job = add_report_job(
                ctx.session,
                channel=ctx.inbound.channel,
                chat_id=ctx.inbound.chat_id,
                official_id=ctx.official.id if ctx.official else None,
                request=request_data(reply),
                now=ctx.now,
            )
            jobs.append(job.id or 0)
            with use_locale(reply.locale):
                outbounds.append(Outbound(_("Preparing the report… The files follow shortly.")))
        elif isinstance(reply, ReportRequest):  # a summary is one query: answered in line
            outbounds += render_request(
                ctx.session,
                reply,
                data_dir=Path(settings.app.data_dir),
                silence_days=settings.reminders.silence_days,
                now=ctx.now,
            )
        else:
            outbounds.append(reply)
    return outbounds


def _context(
    session: Session,
    inbound: Inbound,
    settings: Settings,
    now: datetime,
    text_limit: int | None,
    conversation: ConversationSettings,
) -> HandlerContext:
    identity, official = _identify(session, inbound, now)
    return HandlerContext(
        session=session,
        settings=conversation,
        now=now,
        inbound=inbound,
        identity=identity,
        official=official,
        text_limit=text_limit,
    )


def _answer(
    ctx: HandlerContext, outbounds: Sequence[Outbound], routing: Routing
) -> list[QueuedRow]:
    """The outbox rows of the answer (one flush writes them with the handler's changes)."""
    inbound = ctx.inbound
    return enqueue(
        ctx.session,
        outbounds,
        ctx.now,
        reply_channel=inbound.channel,
        reply_chat_id=inbound.chat_id,
        reply_official_id=ctx.official.id if ctx.official else None,
        routing=routing,
    )


_ROUTINGS: list[tuple[Settings, Routing]] = []


def _routing(settings: Settings) -> Routing:
    """Where messages to officials go (building it reads every channel's declaration)."""
    return _once_per_settings(_ROUTINGS, settings, Routing.from_settings)


def _apology(ctx: HandlerContext) -> list[Outbound]:
    locale = ctx.official.locale if ctx.official else ctx.settings.default_locale
    with use_locale(locale):
        return [Outbound(_("Sorry, something went wrong. Please try again later."))]


def key_digest(update_key: str) -> str:
    """A dedupe key as a log line may show it: a key can hold a chat id, which is personal."""
    return hashlib.sha256(update_key.encode()).hexdigest()[:12]


def _skipped(inbound: Inbound, why: str) -> None:
    log.info(
        "%s: duplicate update skipped (%s; key %s)",
        inbound.channel,
        why,
        key_digest(inbound.update_key),
    )


def _cleaned(inbound: Inbound) -> Inbound:
    """Whatever the channel did: no lone surrogate or control character is stored or echoed
    (a database refuses the one, and a commit that fails makes the update come back for
    ever)."""
    return dataclasses.replace(
        inbound,
        text=clean(inbound.text) if inbound.text is not None else None,
        payload=clean(inbound.payload) if inbound.payload is not None else None,
        display_name=clean(inbound.display_name) if inbound.display_name else None,
    )


def record_unreadable(engine: Bind, channel: str, update_key: str, now: datetime) -> bool:
    """Record an update the channel could not read as processed, so it is never applied and
    a redelivery of it is recognised; False if it already was."""
    with bind.session(engine) as session:
        try:
            mark_processed(session, channel, update_key, now)
        except IntegrityError:
            session.rollback()
            log.info("%s: unreadable update seen again (key %s)", channel, key_digest(update_key))
            return False
        session.commit()
    return True


def _addressed(inbound: Inbound) -> bool:
    """A command or a button press: meant for the bot (chatter in a group is not)."""
    return inbound.payload is not None or (inbound.text or "").startswith("/")


def _refuse_group(
    session: Session, inbound: Inbound, settings: Settings, now: datetime
) -> list[int]:
    """A group chat: one polite answer to a command, nothing else changes (no identity moves
    to the group, no conversation state, nothing recorded as anyone's words)."""
    if not _addressed(inbound):
        return []
    found = find_sender(session, inbound.channel, inbound.external_user_id)
    with use_locale(found[1].locale if found is not None else settings.app.default_locale):
        text = _(
            "papi-bot works in private chats only, so nothing was done here. "
            "Please write to the bot directly, in a private chat with it."
        )
    rows = enqueue(
        session, [Outbound(text)], now, reply_channel=inbound.channel, reply_chat_id=inbound.chat_id
    )
    return [row.id for row in rows if row.id is not None]


def apply_inbound(
    engine: Bind,
    inbound: Inbound,
    settings: Settings,
    now: datetime,
    *,
    text_limit: int | None = None,
    on_report: Callable[[], None] | None = None,
    routing: Routing | None = None,
    handover: Callable[[list[QueuedRow]], None] | None = None,
    conversation: ConversationSettings | None = None,
    claim: ClaimTerms | None = None,
) -> list[int] | None:
    """Apply one inbound update; the new outbox ids, or None if it was already applied.
    ``text_limit``: what the inbound's channel declares, for the conversation's paging;
    ``on_report``: called after the commit when a report job was recorded (wakes the
    report worker); ``routing``: where messages to officials go (default: built from
    ``settings``' channel declarations); ``handover``: called after the commit with the new
    rows that are the first pending ones of their chats (``first_in_chats``), which the
    outbox worker may send without reading them back, each chat's first one claimed for it
    in this same transaction when ``claim`` gives its terms; ``conversation``: what the
    conversation reads of the settings (default: ``conversation_settings(settings)``).

    A handler that crashes has none of its changes kept: the transaction is rolled back and
    done again with only the processed mark and an apology, so a bad message is still
    recorded as processed and is not redelivered for ever. (A savepoint around the handler
    would cost two more statements on every message, for the rare crash.)"""
    from handlers.router import handle  # the router imports every handler module

    if now.tzinfo is None:
        raise ValueError("naive datetime: pass an aware 'now'")
    inbound = _cleaned(inbound)
    routing = routing or _routing(settings)
    conversation = conversation or conversation_settings(settings)
    jobs: list[int] = []
    with bind.session(engine, expire_on_commit=False) as session:
        try:
            if not _mark(session, inbound, now):
                return None  # redelivered (or applied by another process meanwhile)
            if inbound.group_chat:
                ids = _refuse_group(session, inbound, settings, now)
                session.commit()
                return ids
            ctx = _context(session, inbound, settings, now, text_limit, conversation)
            try:
                held = flood.hold(ctx, settings.flood)  # None: not flooding, answer as usual
                outbounds = _rendered(ctx, handle(ctx), settings, jobs) if held is None else held
                rows = _answer(ctx, outbounds, routing)
            except Exception:
                log.exception("handler failed on %s update %s", inbound.channel, inbound.update_key)
                session.rollback()
                jobs.clear()  # rolled back with the rest
                if not _mark(session, inbound, now):
                    return None
                ctx = _context(session, inbound, settings, now, text_limit, conversation)
                rows = _answer(ctx, _apology(ctx), routing)
            ids = [row.id for row in rows if row.id is not None]
            first = first_in_chats(session, rows, claim, now) if handover and rows else []
            session.commit()
        except BaseException:
            session.rollback()
            raise
    if jobs and on_report is not None:
        on_report()
    if handover is not None:
        handover(first)
    return ids


def _mark(session: Session, inbound: Inbound, now: datetime) -> bool:
    """The transaction's first statement: False if the update was already applied (under
    its key, or under the key an earlier version recorded for it), logged as skipped."""
    earlier = inbound.earlier_key
    try:
        marked = mark_processed(
            session,
            inbound.channel,
            inbound.update_key,
            now,
            (earlier.key, earlier.since) if earlier is not None else None,
        )
    except IntegrityError:
        session.rollback()
        _skipped(inbound, "already applied")  # redelivered, or applied by another process
        return False
    if not marked:
        session.rollback()
        _skipped(inbound, "applied under its earlier key")
    return marked
