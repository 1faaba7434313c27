"""One inbound message, applied exactly once: dedupe → identify → converse → outbox, in ONE
transaction.

The ``ProcessedUpdate`` row is the first statement of the transaction, so on SQLite it takes
the write lock at once (two processes on one file queue behind each other instead of failing
on a lock upgrade) and a redelivered update hits the unique constraint before anything else
happens. Every reply becomes an ``OutboxMessage`` row in the same transaction; the outbox
worker sends it after the commit.
"""

from __future__ import annotations

import logging
from collections import defaultdict
from collections.abc import Callable, Iterable, Sequence
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

from sqlalchemy.engine import Engine
from sqlalchemy.exc import IntegrityError
from sqlmodel import Session, col, select

from bot.config import Settings
from bot.reports.requests import render_request, request_data
from handlers.context import ConversationSettings, HandlerContext
from handlers.types import Inbound, Outbound, Reply, ReportKind, ReportRequest
from kernel.i18n import _, use_locale
from storage.identities import find_identity_and_official, mark_processed, note_chat
from storage.lockout import LockoutPolicy
from storage.models import (
    OUTBOX_PRIORITY_BROADCAST,
    OUTBOX_PRIORITY_REPLY,
    ChannelIdentity,
    Official,
    OutboxMessage,
    OutboxStatus,
)
from storage.queue import add_outbox_rows
from storage.report_jobs import add_report_job

log = logging.getLogger(__name__)


def reachable_identities(
    session: Session, official_ids: Iterable[int]
) -> dict[int, list[ChannelIdentity]]:
    """The chats each official can be written to (not marked unreachable), oldest link first;
    one query per 500 officials, so a sweep of 10,000 reminders stays cheap."""
    wanted = sorted(set(official_ids))
    found: dict[int, list[ChannelIdentity]] = defaultdict(list)
    for start in range(0, len(wanted), 500):
        for identity in session.exec(
            select(ChannelIdentity)
            .where(col(ChannelIdentity.official_id).in_(wanted[start : start + 500]))
            .where(col(ChannelIdentity.unreachable_at).is_(None))
            .order_by(col(ChannelIdentity.id))
        ):
            found[identity.official_id].append(identity)
    return found


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
) -> list[OutboxMessage]:
    """Outbox rows for ``outbounds`` (flushed, so they have ids); the caller commits.

    An Outbound addressed to an official goes to each of their reachable chats (none: no
    row, the digest shows them as unreachable); one without goes back to the reply chat.
    """
    if now.tzinfo is None:
        raise ValueError("naive datetime: pass an aware 'now'")
    identities = reachable_identities(
        session, (o.official_id for o in outbounds if o.official_id is not None)
    )
    rows: list[dict[str, Any]] = []
    for outbound in outbounds:
        if outbound.official_id is None:
            if reply_channel is None or reply_chat_id is None:
                raise ValueError("an Outbound without official_id needs reply_channel and chat_id")
            targets = [(reply_channel, reply_chat_id)]
        else:
            targets = [(i.channel, i.chat_id) for i in identities.get(outbound.official_id, [])]
        for channel, chat_id in targets:
            same_chat = (channel, chat_id) == (reply_channel, reply_chat_id)
            official_id = outbound.official_id or reply_official_id
            values = outbox_values(
                outbound, channel, chat_id, official_id, now, same_chat=same_chat
            )
            rows.append(values)
    return add_outbox_rows(session, rows)


def _identify(session: Session, inbound: Inbound) -> tuple[ChannelIdentity | None, Official | None]:
    found = find_identity_and_official(session, inbound.channel, inbound.external_user_id)
    if found is None:
        return None, None
    identity, official = found
    if not official.active:
        return None, None  # a deactivated official is treated as a stranger
    note_chat(session, identity, inbound.chat_id)  # reachable again, and may have moved
    return identity, official


_CONVERSATION_SETTINGS: list[tuple[Settings, ConversationSettings]] = []


def conversation_settings(settings: Settings) -> ConversationSettings:
    """The part of the configuration the conversation reads (no secrets); built once per
    ``Settings`` object (settings do not change while the bot runs)."""
    for known, built in _CONVERSATION_SETTINGS:
        if known is settings:
            return built
    built = ConversationSettings(
        default_locale=settings.app.default_locale,
        timezone=settings.app.timezone,
        silence_days=settings.reminders.silence_days,
        report_deadlines=tuple(settings.report_calendar.deadlines),
        invite_lockout=LockoutPolicy(
            max_failures=settings.invites.max_wrong_codes,
            window=timedelta(minutes=settings.invites.wrong_code_window_minutes),
            lockout=timedelta(minutes=settings.invites.lockout_minutes),
        ),
    )
    _CONVERSATION_SETTINGS[:] = [(settings, built)]  # the latest one (tests make many)
    return built


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
) -> HandlerContext:
    identity, official = _identify(session, inbound)
    return HandlerContext(
        session=session,
        settings=conversation_settings(settings),
        now=now,
        inbound=inbound,
        identity=identity,
        official=official,
        text_limit=text_limit,
    )


def _answer(ctx: HandlerContext, outbounds: Sequence[Outbound]) -> list[OutboxMessage]:
    """The outbox rows of the answer (one flush writes them with the handler's changes)."""
    inbound = ctx.inbound
    return enqueue(
        ctx.session,
        outbounds,
        ctx.now,
        reply_channel=inbound.channel,
        reply_chat_id=inbound.chat_id,
        reply_official_id=ctx.official.id if ctx.official else None,
    )


def _apology(ctx: HandlerContext) -> list[Outbound]:
    locale = ctx.official.locale if ctx.official else ctx.settings.default_locale
    with use_locale(locale):
        return [Outbound(_("Sorry, something went wrong. Please try again later."))]


def apply_inbound(
    engine: Engine,
    inbound: Inbound,
    settings: Settings,
    now: datetime,
    *,
    text_limit: int | None = None,
    on_report: Callable[[], None] | None = None,
) -> list[int] | None:
    """Apply one inbound update; the new outbox ids, or None if it was already applied.
    ``text_limit``: what the inbound's channel declares, for the conversation's paging;
    ``on_report``: called after the commit when a report job was recorded (wakes the
    report worker).

    A handler that crashes has none of its changes kept: the transaction is rolled back and
    done again with only the processed mark and an apology, so a bad message is still
    recorded as processed and is not redelivered for ever. (A savepoint around the handler
    would cost two more statements on every message, for the rare crash.)"""
    from handlers.router import handle  # the router imports every handler module

    if now.tzinfo is None:
        raise ValueError("naive datetime: pass an aware 'now'")
    jobs: list[int] = []
    with Session(engine, expire_on_commit=False) as session:
        try:
            if not _mark(session, inbound, now):
                return None  # redelivered (or applied by another process meanwhile)
            ctx = _context(session, inbound, settings, now, text_limit)
            try:
                rows = _answer(ctx, _rendered(ctx, handle(ctx), settings, jobs))
            except Exception:
                log.exception("handler failed on %s update %s", inbound.channel, inbound.update_key)
                session.rollback()
                jobs.clear()  # rolled back with the rest
                if not _mark(session, inbound, now):
                    return None
                ctx = _context(session, inbound, settings, now, text_limit)
                rows = _answer(ctx, _apology(ctx))
            ids = [row.id for row in rows if row.id is not None]
            session.commit()
        except BaseException:
            session.rollback()
            raise
    if jobs and on_report is not None:
        on_report()
    return ids


def _mark(session: Session, inbound: Inbound, now: datetime) -> bool:
    """The transaction's first statement: False if the update was already applied."""
    try:
        mark_processed(session, inbound.channel, inbound.update_key, now)
    except IntegrityError:
        session.rollback()
        return False
    return True
