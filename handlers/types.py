"""What a channel hands the conversation, and what the conversation hands back.

A channel adapter turns a platform payload into an ``Inbound``; the conversation returns
``Outbound``s, which the pipeline writes to the outbox, and ``ReportRequest``s: slow work
(report files) the edge renders, so the conversation never imports a renderer. Buttons are
data: a channel without buttons (Zalo Bot) renders them as a numbered menu and maps "1", "2"
back to payloads.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from enum import StrEnum

from storage.periods import Period

# The conversation's own budget for a button payload ("a:12345:progress" is 16 bytes). Every
# channel with buttons declares a payload limit at least this large
# (tests/channels/test_registry.py); channels without buttons carry no payload at all.
MAX_PAYLOAD_BYTES = 32


@dataclass(frozen=True, slots=True)
class Attachment:
    kind: str  # "photo" | "document" | "voice" | "sticker" | "other"
    file_id: str  # the channel's own file id, or a URL where the channel gives one
    file_unique_id: str | None = None
    file_name: str | None = None
    mime_type: str | None = None
    file_size: int | None = None
    # A channel whose links expire (Zalo) keeps a copy: its path relative to data_dir, or,
    # if the copy could not be made, why ("too_big" | "not_image" | "unreachable" |
    # "write_failed").
    stored_path: str | None = None
    fetch_error: str | None = None


@dataclass(frozen=True, slots=True)
class EarlierKey:
    """The key an earlier version recorded for this same update (a platform's bare update id,
    before issue 12). A row with it written at ``since`` or later is this update applied
    already; an older one belongs to another update that happened to get the same id."""

    key: str
    since: datetime


@dataclass(frozen=True, slots=True)
class Inbound:
    channel: str  # a name in bot.channels.registry
    external_user_id: str
    chat_id: str
    update_key: str  # unique per channel: the dedupe key (an update id, or a message id)
    received_at: datetime
    message_id: str | None = None
    text: str | None = None  # NFC-normalised by the adapter
    payload: str | None = None  # a pressed button's payload
    attachments: tuple[Attachment, ...] = ()
    reply_to_message_id: str | None = None  # the bot message this replies to, if any
    display_name: str | None = None
    # Forwarded from another chat: someone else's words, never the sender's own report.
    is_forwarded: bool = False
    # Written in a group (several people in one chat): refused, the bot works one to one.
    group_chat: bool = False
    earlier_key: EarlierKey | None = None


@dataclass(frozen=True, slots=True)
class Button:
    label: str
    payload: str

    def __post_init__(self) -> None:
        if not 1 <= len(self.payload.encode()) <= MAX_PAYLOAD_BYTES:
            raise ValueError(f"button payload must be 1..{MAX_PAYLOAD_BYTES} bytes")


@dataclass(frozen=True, slots=True)
class OutFile:
    path: str  # a file the bot wrote under data_dir
    file_name: str


@dataclass(frozen=True, slots=True)
class Outbound:
    """A message to send. ``official_id`` None means: back to the chat the inbound came from."""

    text: str
    buttons: tuple[tuple[Button, ...], ...] = ()
    file: OutFile | None = None
    official_id: int | None = None
    kind: str = "reply"
    assignment_id: int | None = None  # a reply to this message applies to this assignment
    reply_to_message_id: str | None = None
    # Where the channel declares edits, the message a button was pressed on is edited
    # (paging); elsewhere the outbox sends a new message.
    edit_message_id: str | None = None
    extra: dict[str, str] = field(default_factory=dict)


class ReportKind(StrEnum):
    SUMMARY = "summary"  # /tonghop: one text message
    FILES = "files"  # /baocao: the XLSX and DOCX files, the first with a caption


@dataclass(frozen=True, slots=True)
class ReportRequest:
    """A report the official may have, to be rendered by the edge (``bot.reports``) and sent
    back to the chat the inbound came from: the roll-up of ``unit_id``'s subtree for
    ``period``, worded in ``locale``. The handler has checked who may have it."""

    kind: ReportKind
    unit_id: int
    period: Period
    locale: str
    formats: tuple[str, ...] = ()  # for FILES: "xlsx", "docx" in the order to send


# What a handler answers with.
Reply = Outbound | ReportRequest
