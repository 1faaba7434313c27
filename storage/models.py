"""The tables: the truth of papi-bot. Nothing here knows about channels or conversation.

Times are aware datetimes (``UTCDateTime``); calendar dates (a task's due date) are plain
``date`` in Vietnam's calendar. Statuses, roles and levels are ``StrEnum``s
(``storage/enums.py``) stored as their short string values, read back as members; a value
outside the enumeration is refused. Their columns are annotated ``str`` (a member is a
``str``), so rows may still be built from plain strings. PostgreSQL and SQLite store every
enumeration the same way, and Alembic has nothing to migrate when a value is added. Other
enumerations are short strings, listed in the ``*S`` tuples.
"""

from __future__ import annotations

import copy
from datetime import UTC, date, datetime
from typing import Any

from sqlalchemy import JSON, Column, Index, UniqueConstraint, text
from sqlmodel import Field, SQLModel

from storage.enums import AssignmentRole as AssignmentRole  # re-exported: the tables' values
from storage.enums import AssignmentRoleText, AssignmentStatusText, RoleText, UnitLevelText
from storage.enums import AssignmentStatus as AssignmentStatus
from storage.enums import OutboxStatus as OutboxStatus
from storage.enums import Role as Role
from storage.enums import UnitLevel as UnitLevel
from storage.types import UTCDateTime

UNIT_LEVELS = tuple(UnitLevel)
ROLES = tuple(Role)
ASSIGNMENT_STATUSES = tuple(AssignmentStatus)
ASSIGNMENT_ROLES = tuple(AssignmentRole)
DEADLINE_KINDS = ("date", "recurring", "term", "unknown")
OUTBOX_STATUSES = tuple(OutboxStatus)
# Replies to an inbound message go before broadcasts (reminders, digests); same order per chat.
OUTBOX_PRIORITY_BROADCAST = 0
OUTBOX_PRIORITY_REPLY = 10
# The partial indexes' conditions. A query that wants one writes its condition as this literal,
# not as a bound parameter: then SQLite and PostgreSQL's generic plans can both use it.
OUTBOX_PENDING_SQL = f"status = '{OutboxStatus.PENDING.value}'"
OUTBOX_EXTERNAL_SQL = "external_message_id IS NOT NULL"


def utcnow() -> datetime:
    return datetime.now(UTC)


def _when(**kwargs: Any) -> Any:
    return Field(sa_type=UTCDateTime, **kwargs)


def _json(default: Any = None) -> Any:
    def factory() -> Any:
        return copy.deepcopy(default)  # a fresh list/dict per row, never a shared one

    return Field(default_factory=factory, sa_column=Column(JSON, nullable=default is None))


class Unit(SQLModel, table=True):
    """A node of the administrative tree (any depth: province → district → commune, or
    province → commune since 2025), or a department (Sở) under its province."""

    # PostgreSQL serves `LIKE 'prefix%'` from an index only with text_pattern_ops.
    __table_args__ = (Index("ix_unit_path", "path", postgresql_ops={"path": "text_pattern_ops"}),)

    id: int | None = Field(default=None, primary_key=True)
    code: str = Field(unique=True, index=True, max_length=32)
    name: str = Field(max_length=255)
    name_folded: str = Field(index=True, max_length=255)  # textnorm.fold(name), for matching
    level: str = Field(sa_type=UnitLevelText)  # UnitLevel
    parent_id: int | None = Field(default=None, foreign_key="unit.id", index=True)
    # Materialised path "/1/7/42/": a subtree is `path LIKE '/1/7/%'`, one indexed range scan.
    path: str = Field(default="", max_length=255)


class Official(SQLModel, table=True):
    id: int | None = Field(default=None, primary_key=True)
    name: str = Field(max_length=255)
    phone: str = Field(unique=True, index=True, max_length=20)  # E.164: +84912345678
    unit_id: int = Field(foreign_key="unit.id", index=True)
    role: str = Field(default=Role.OFFICIAL, sa_type=RoleText)  # Role
    locale: str = Field(default="vi", max_length=8)
    active: bool = True
    created_at: datetime = _when(default_factory=utcnow)
    # The channel reminders and notices go to (/kenh); None: the one they last wrote from.
    preferred_channel: str | None = Field(default=None, max_length=16)


class ChannelIdentity(SQLModel, table=True):
    """One official's account on one channel; chat_id is where the bot writes to them."""

    __table_args__ = (UniqueConstraint("channel", "external_user_id"),)

    id: int | None = Field(default=None, primary_key=True)
    official_id: int = Field(foreign_key="official.id", index=True)
    channel: str = Field(max_length=16)  # a name in bot.channels.registry
    external_user_id: str = Field(max_length=64)
    chat_id: str = Field(max_length=64)
    display_name: str | None = Field(default=None, max_length=255)
    linked_at: datetime = _when(default_factory=utcnow)
    # Set when the platform says the user blocked the bot (403): stop sending, show in digest.
    unreachable_at: datetime | None = _when(default=None, nullable=True)
    # When the official last wrote from this account: messages to them go to the channel
    # written from last (bot.routing), and a channel's free reply window counts from it.
    last_inbound_at: datetime | None = _when(default=None, nullable=True)


class Invite(SQLModel, table=True):
    id: int | None = Field(default=None, primary_key=True)
    code_hash: str = Field(unique=True, index=True, max_length=64)  # storage.invites.hash_code
    official_id: int = Field(foreign_key="official.id", index=True)
    created_at: datetime = _when(default_factory=utcnow)
    expires_at: datetime = _when()
    used_at: datetime | None = _when(default=None, nullable=True)
    used_by_identity_id: int | None = Field(default=None, foreign_key="channelidentity.id")


class TaxonomyItem(SQLModel, table=True):
    """A PAPI dimension ("3") or sub-dimension ("3.2"), a PAR Index field, ...: data, not code."""

    __table_args__ = (UniqueConstraint("index_name", "code"),)

    id: int | None = Field(default=None, primary_key=True)
    index_name: str = Field(max_length=16)  # PAPI, PAR_INDEX, SIPAS
    code: str = Field(max_length=8)
    parent_code: str | None = Field(default=None, max_length=8)
    name_vi: str = Field(max_length=255)
    name_en: str = Field(max_length=255)
    max_score: float | None = None


class Plan(SQLModel, table=True):
    id: int | None = Field(default=None, primary_key=True)
    province_id: int | None = Field(default=None, foreign_key="unit.id", index=True)
    year: int
    title: str
    number: str | None = Field(default=None, max_length=64)  # "99/KH-UBND"
    issued_on: date | None = None
    source_file: str | None = None
    source_sha256: str | None = Field(default=None, index=True, max_length=64)
    report_deadlines: list[str] = _json(default=[])  # ["03-20", "06-20", "11-30"]
    reminder_policy: dict[str, Any] | None = _json()  # overrides of [reminders] for this plan
    created_at: datetime = _when(default_factory=utcnow)
    retired_at: datetime | None = _when(default=None, nullable=True)  # no more reminders


class Task(SQLModel, table=True):
    __table_args__ = (Index("ix_task_plan_order", "plan_id", "order"),)

    id: int | None = Field(default=None, primary_key=True)
    plan_id: int = Field(foreign_key="plan.id", index=True)
    order: int  # position in the appendix, 1-based
    stt: str = Field(default="", max_length=16)  # as printed: "1.", "12", "" for a follow-on row
    section: str | None = None  # the Roman-numeral section row it sits under, if any
    text: str
    lead_raw: str = ""
    coordinating_raw: str = ""
    deadline_raw: str = ""
    deadline_kind: str = Field(default="unknown", max_length=16)  # DEADLINE_KINDS
    due_date: date | None = Field(default=None, index=True)
    deadline_note: str | None = None
    dimension: int | None = Field(default=None, index=True)  # PAPI 1..8
    subdimension: str | None = Field(default=None, max_length=8)  # "1.2"
    dimension_confidence: float | None = None  # 1.0 when the table says so
    flags: list[str] = _json(default=[])  # for review: "unknown_deadline", "unresolved_agency"


class TaskAgency(SQLModel, table=True):
    """An agency named in a task's lead or coordinating cell, resolved to a unit where one
    matches (a group name such as "UBND cấp xã" yields one row per commune)."""

    id: int | None = Field(default=None, primary_key=True)
    task_id: int = Field(foreign_key="task.id", index=True)
    role: str = Field(sa_type=AssignmentRoleText)  # AssignmentRole
    raw_name: str
    unit_id: int | None = Field(default=None, foreign_key="unit.id", index=True)


class Assignment(SQLModel, table=True):
    """A task as one unit must carry it out: the thing officials report on."""

    __table_args__ = (
        UniqueConstraint("task_id", "unit_id"),
        Index("ix_assignment_unit_status", "unit_id", "status"),
    )

    id: int | None = Field(default=None, primary_key=True)
    task_id: int = Field(foreign_key="task.id", index=True)
    unit_id: int = Field(foreign_key="unit.id")
    role: str = Field(default=AssignmentRole.LEAD, sa_type=AssignmentRoleText)  # AssignmentRole
    status: str = Field(default=AssignmentStatus.NOT_STARTED, sa_type=AssignmentStatusText)
    percent: int = 0
    note: str | None = None  # the latest note / blocking reason
    created_at: datetime = _when(default_factory=utcnow)
    last_update_at: datetime | None = _when(default=None, nullable=True)
    done_at: datetime | None = _when(default=None, nullable=True)
    # The state the update history gives, kept at each update (storage/history_state.py) so
    # that the roll-up reads it from this row instead of probing the history per assignment:
    # the latest update's status, its percent (the latest one given), its time, and since
    # when the history has said "done" without a break (None: it does not say "done").
    history_status: str | None = Field(default=None, sa_type=AssignmentStatusText, nullable=True)
    history_percent: int | None = None
    history_at: datetime | None = _when(default=None, nullable=True)
    done_since: datetime | None = _when(default=None, nullable=True)
    # The same four at the start of the week, month, quarter, half-year and year of the
    # latest update (``<kind>_mark``): the end of the previous period, which a roll-up with
    # the previous period asks for. ``<kind>_mark`` None: not known, the history is asked.
    week_mark: datetime | None = _when(default=None, nullable=True)
    week_status: str | None = Field(default=None, sa_type=AssignmentStatusText, nullable=True)
    week_percent: int | None = None
    week_at: datetime | None = _when(default=None, nullable=True)
    week_done_since: datetime | None = _when(default=None, nullable=True)
    month_mark: datetime | None = _when(default=None, nullable=True)
    month_status: str | None = Field(default=None, sa_type=AssignmentStatusText, nullable=True)
    month_percent: int | None = None
    month_at: datetime | None = _when(default=None, nullable=True)
    month_done_since: datetime | None = _when(default=None, nullable=True)
    quarter_mark: datetime | None = _when(default=None, nullable=True)
    quarter_status: str | None = Field(default=None, sa_type=AssignmentStatusText, nullable=True)
    quarter_percent: int | None = None
    quarter_at: datetime | None = _when(default=None, nullable=True)
    quarter_done_since: datetime | None = _when(default=None, nullable=True)
    half_mark: datetime | None = _when(default=None, nullable=True)
    half_status: str | None = Field(default=None, sa_type=AssignmentStatusText, nullable=True)
    half_percent: int | None = None
    half_at: datetime | None = _when(default=None, nullable=True)
    half_done_since: datetime | None = _when(default=None, nullable=True)
    year_mark: datetime | None = _when(default=None, nullable=True)
    year_status: str | None = Field(default=None, sa_type=AssignmentStatusText, nullable=True)
    year_percent: int | None = None
    year_at: datetime | None = _when(default=None, nullable=True)
    year_done_since: datetime | None = _when(default=None, nullable=True)


class AssignmentOfficial(SQLModel, table=True):
    """Who in the unit carries the assignment (set by the chair). None: the unit's chairs."""

    assignment_id: int = Field(foreign_key="assignment.id", primary_key=True)
    official_id: int = Field(foreign_key="official.id", primary_key=True, index=True)
    assigned_at: datetime = _when(default_factory=utcnow)
    assigned_by_id: int | None = Field(default=None, foreign_key="official.id")


class ProgressUpdate(SQLModel, table=True):
    __table_args__ = (Index("ix_progress_assignment_time", "assignment_id", "created_at"),)

    id: int | None = Field(default=None, primary_key=True)
    assignment_id: int = Field(foreign_key="assignment.id")
    official_id: int | None = Field(default=None, foreign_key="official.id")
    status: str = Field(sa_type=AssignmentStatusText)  # AssignmentStatus after this update
    percent: int | None = None
    note: str | None = None
    note_only: bool = False  # a note, not a status: a blocking reason stays the one before
    channel: str | None = Field(default=None, max_length=16)
    external_message_id: str | None = Field(default=None, max_length=64)
    created_at: datetime = _when(default_factory=utcnow)


class Evidence(SQLModel, table=True):
    id: int | None = Field(default=None, primary_key=True)
    assignment_id: int = Field(foreign_key="assignment.id", index=True)
    official_id: int | None = Field(default=None, foreign_key="official.id")
    channel: str = Field(max_length=16)
    file_id: str  # the channel's own file id, or a URL where the channel gives one
    file_unique_id: str | None = None
    file_name: str | None = None
    mime_type: str | None = Field(default=None, max_length=128)
    file_size: int | None = None
    caption: str | None = None
    external_message_id: str | None = Field(default=None, max_length=64)
    # Zalo's links expire: the copy kept under data_dir (relative path), or why there is none.
    stored_path: str | None = Field(default=None, max_length=255)
    fetch_error: str | None = Field(default=None, max_length=32)
    created_at: datetime = _when(default_factory=utcnow)


class Score(SQLModel, table=True):
    """A published index score of a unit, e.g. PAPI 2023 dimension 3 = 4.25."""

    __table_args__ = (UniqueConstraint("unit_id", "index_name", "year", "code"),)

    id: int | None = Field(default=None, primary_key=True)
    unit_id: int = Field(foreign_key="unit.id", index=True)
    index_name: str = Field(default="PAPI", max_length=16)
    year: int
    code: str = Field(max_length=8)  # "3" or "3.2"; "total" for the overall score
    score: float


class OutboxMessage(SQLModel, table=True):
    """Every message the bot sends is first a row here, written in the transaction that
    caused it; one worker sends them in order per chat."""

    __table_args__ = (
        # Each answer writes a row and its send rewrites it: only the indexes its queries
        # need, holding only the rows they ask for (migration 0016).
        Index("ix_outbox_status_created", "status", "created_at"),  # digests: undelivered
        Index(
            "ix_outbox_due",
            "status",  # first, as the queries ask: then their planners prefer these
            "next_attempt_at",
            sqlite_where=text(OUTBOX_PENDING_SQL),
            postgresql_where=text(OUTBOX_PENDING_SQL),
        ),
        Index(  # replies first
            "ix_outbox_priority",
            "status",
            "priority",
            "id",
            sqlite_where=text(OUTBOX_PENDING_SQL),
            postgresql_where=text(OUTBOX_PENDING_SQL),
        ),
        # A reply to a bot message finds it by its id on the platform (a sent row's).
        Index(
            "ix_outbox_external",
            "channel",
            "chat_id",
            "external_message_id",
            sqlite_where=text(OUTBOX_EXTERNAL_SQL),
            postgresql_where=text(OUTBOX_EXTERNAL_SQL),
        ),
        # A chat's pending rows (a handful) among its sent ones (thousands): is an answer
        # the first thing its chat is waiting for (storage.queue.first_in_chats).
        Index(
            "ix_outbox_pending_chat",
            "channel",
            "chat_id",
            "id",
            sqlite_where=text(OUTBOX_PENDING_SQL),
            postgresql_where=text(OUTBOX_PENDING_SQL),
        ),
    )

    id: int | None = Field(default=None, primary_key=True)
    channel: str = Field(max_length=16)
    chat_id: str = Field(max_length=64)
    official_id: int | None = Field(default=None, foreign_key="official.id")
    kind: str = Field(default="reply", max_length=16)  # reply, reminder, escalation, digest, notice
    text: str = ""
    buttons: list[list[dict[str, str]]] | None = _json()  # rows of {"label", "payload"}
    file_path: str | None = None
    file_name: str | None = None
    reply_to_message_id: str | None = Field(default=None, max_length=64)
    edit_message_id: str | None = Field(default=None, max_length=64)  # edit instead of send
    assignment_id: int | None = Field(default=None, foreign_key="assignment.id")
    status: str = Field(default="pending", max_length=16)  # OUTBOX_STATUSES
    attempts: int = 0
    priority: int = OUTBOX_PRIORITY_BROADCAST  # OUTBOX_PRIORITY_*: higher goes first
    next_attempt_at: datetime = _when(default_factory=utcnow)
    claimed_at: datetime | None = _when(default=None, nullable=True)  # a send is in flight
    claimed_by: str | None = Field(default=None, max_length=64)  # the worker holding the lease
    last_error: str | None = None
    external_message_id: str | None = Field(default=None, max_length=64)
    created_at: datetime = _when(default_factory=utcnow)
    sent_at: datetime | None = _when(default=None, nullable=True)


class ChatMenu(SQLModel, table=True):
    """The numbered menu last shown in a chat of a channel without buttons ("1 — Hoàn
    thành"), and the one before it: a number typed while the menu changed is answered with
    the current menu, never mapped to the wrong task."""

    __table_args__ = (UniqueConstraint("channel", "chat_id"),)

    id: int | None = Field(default=None, primary_key=True)
    channel: str = Field(max_length=16)
    chat_id: str = Field(max_length=64)
    items: list[dict[str, str]] = _json(default=[])  # [{"label", "payload"}], empty: closed
    message_id: str | None = Field(default=None, max_length=64)  # the message showing it
    shown_at: datetime = _when(default_factory=utcnow)
    previous_items: list[dict[str, str]] = _json(default=[])
    previous_message_id: str | None = Field(default=None, max_length=64)


class ProcessedUpdate(SQLModel, table=True):
    """Inbound dedupe: written in the transaction that applies the update."""

    __table_args__ = (UniqueConstraint("channel", "update_key"),)

    id: int | None = Field(default=None, primary_key=True)
    channel: str = Field(max_length=16)
    update_key: str = Field(max_length=128)
    processed_at: datetime = _when(default_factory=utcnow)


class ConversationState(SQLModel, table=True):
    """What the next message from a chat means ("the progress note for task 12")."""

    __table_args__ = (UniqueConstraint("channel", "chat_id"),)

    id: int | None = Field(default=None, primary_key=True)
    channel: str = Field(max_length=16)
    chat_id: str = Field(max_length=64)
    kind: str = Field(max_length=32)
    data: dict[str, Any] = _json(default={})
    updated_at: datetime = _when(default_factory=utcnow)
    expires_at: datetime | None = _when(default=None, nullable=True)


class ReminderLog(SQLModel, table=True):
    """Exactly-once: the key (assignment, kind, due moment) is unique and written with the
    outbox row it produced."""

    id: int | None = Field(default=None, primary_key=True)
    key: str = Field(unique=True, max_length=191)
    kind: str = Field(max_length=32)
    assignment_id: int | None = Field(default=None, foreign_key="assignment.id", index=True)
    official_id: int | None = Field(default=None, foreign_key="official.id")
    due_at: datetime = _when()
    created_at: datetime = _when(default_factory=utcnow)
    outbox_id: int | None = Field(default=None, foreign_key="outboxmessage.id")


class InviteLockout(SQLModel, table=True):
    """Wrong invite codes sent from one chat (storage.lockout): after a few, the chat waits."""

    __table_args__ = (UniqueConstraint("channel", "chat_id"),)

    id: int | None = Field(default=None, primary_key=True)
    channel: str = Field(max_length=16)
    chat_id: str = Field(max_length=64)
    failures: int = 0  # wrong codes since first_failure_at
    first_failure_at: datetime = _when()
    locked_until: datetime | None = _when(default=None, nullable=True)


class ConsoleLoginCode(SQLModel, table=True):
    """A one-time sign-in code for the web console, sent to the person's chat (only its
    SHA-256 is stored, so a copy of the database signs nobody in)."""

    id: int | None = Field(default=None, primary_key=True)
    official_id: int = Field(foreign_key="official.id", index=True)
    code_hash: str = Field(max_length=64, index=True)
    created_at: datetime = _when(default_factory=utcnow)
    expires_at: datetime = _when()
    used_at: datetime | None = _when(default=None, nullable=True)
    attempts: int = 0  # wrong codes typed while this one was live


class AuditEntry(SQLModel, table=True):
    """Who changed what in the web console, and when (shown on the console's audit page)."""

    __table_args__ = (Index("ix_auditentry_at", "at"),)

    id: int | None = Field(default=None, primary_key=True)
    official_id: int | None = Field(default=None, foreign_key="official.id", index=True)
    action: str = Field(max_length=64)  # "login", "official.deactivate", "plan.commit", ...
    target: str = Field(default="", max_length=255)  # "official:12", "plan:3"
    detail: dict[str, Any] | None = _json()
    unit_id: int | None = Field(default=None, foreign_key="unit.id")  # for subtree filtering
    at: datetime = _when(default_factory=utcnow)


class ReportJob(SQLModel, table=True):
    """A report an official asked for in the chat (/baocao), rendered after the inbound's
    transaction committed (``bot.reports.jobs``) and sent back to the same chat; pending rows
    are picked up again after a restart."""

    __table_args__ = (
        Index("ix_reportjob_status", "status", "id"),
        Index("ix_reportjob_official_at", "official_id", "created_at"),  # reports per hour
    )

    id: int | None = Field(default=None, primary_key=True)
    channel: str = Field(max_length=16)
    chat_id: str = Field(max_length=64)
    official_id: int | None = Field(default=None, foreign_key="official.id")
    request: dict[str, Any] = _json(default={})  # handlers.types.ReportRequest, as data
    status: str = Field(default="pending", max_length=16)  # pending, done, failed
    error: str | None = Field(default=None, max_length=255)
    created_at: datetime = _when(default_factory=utcnow)
    finished_at: datetime | None = _when(default=None, nullable=True)


class FloodWindow(SQLModel, table=True):
    """How many messages one sender sent in the current window, per kind of limit
    (``storage/flood.py``): kept in the database so several worker processes agree and a
    restart does not reset it. The sender is a hash of (channel, user id), not the id."""

    __table_args__ = (UniqueConstraint("sender", "kind"),)

    id: int | None = Field(default=None, primary_key=True)
    sender: str = Field(max_length=64)
    kind: str = Field(max_length=16)  # "message", "stranger", "full_bot"
    window_start: datetime = _when()
    count: int = 0
    notified: bool = False  # the "please slow down" of this window was sent


# The assignment rows keep the state their history gives (storage/history_state.py): the
# hook that keeps it is registered with the tables, so no writer can forget it.
import storage.history_state  # noqa: E402, F401  (registers the hook when it loads)
