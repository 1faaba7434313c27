"""What every channel adapter provides: its declared capabilities, ``send``, and the short
list of channel-neutral send errors.

The outbox reacts to these errors, never to a platform's status code (as courier's
``core/channels/errors.go`` does): each adapter maps its platform's answers in one place.
The outbox, text splitting, paging and the numbered menu read ``Capabilities``; no core
module knows a platform's limits (see ``bot.channels.registry``).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import timedelta
from typing import Protocol

from handlers.types import Button


class StartupError(Exception):
    """A channel cannot start or go on (wrong or revoked token, unreachable API, incomplete
    webhook configuration); the message says which, without the token."""


@dataclass(frozen=True, slots=True)
class RateLimits:
    """Messages per second the platform accepts, overall and per chat."""

    global_per_second: float
    per_chat_per_second: float


@dataclass(frozen=True, slots=True)
class Capabilities:
    """What a channel can carry. ``payload_bytes`` None: buttons are shown as a numbered
    menu, so a payload never travels (any length fits); ``rates`` None: no limit."""

    text_limit: int  # characters per message
    buttons: bool  # inline buttons; False: the shared numbered menu (bot.channels.menu)
    edits: bool  # a sent message can be edited (paging in place)
    documents: bool  # files such as XLSX/DOCX can be sent
    photo_upload: bool  # a local image can be uploaded (else only by URL, or not at all)
    payload_bytes: int | None
    rates: RateLimits | None
    monthly_quota: int | None = None  # messages a month the platform allows (Zalo Bot's plan)
    quota_warn_percent: int = 80  # the coordinator's digest warns from this share on
    # Messages are free only this long after the user last wrote (Zalo OA: then billed, then
    # refused): a message to someone outside it goes to another linked channel if there is
    # one (bot.routing). None: no such window.
    free_window: timedelta | None = None
    max_users: int | None = None  # people one bot may serve (Zalo Bot's plan); None: any
    # Buttons, but a menu that does not fit them goes out as numbered text (Zalo OA): the
    # chat's menu is kept like on a channel without buttons, so a typed "2" means its item.
    numbered_fallback: bool = False

    @property
    def numbered_menus(self) -> bool:
        """A typed number may mean an item of the chat's last menu (bot.channels.menu)."""
        return not self.buttons or self.numbered_fallback

    def fits_payload(self, payload: str) -> bool:
        return self.payload_bytes is None or len(payload.encode()) <= self.payload_bytes


class SendError(Exception):
    """Base of the neutral send errors."""


class ContactStopped(SendError):
    """The user blocked the bot or left (Telegram 403): never retry, mark unreachable."""


class Throttled(SendError):
    """The platform asked us to slow down (429): retry after ``retry_after`` seconds."""

    def __init__(self, retry_after: float, message: str = "throttled") -> None:
        super().__init__(message)
        self.retry_after = retry_after


class TemporaryFailure(SendError):
    """5xx, timeout, connection error: retry with backoff."""


class PermanentFailure(SendError):
    """The request itself is wrong (400): retrying will not help."""


@dataclass(frozen=True, slots=True)
class OutgoingMessage:
    chat_id: str
    text: str
    buttons: tuple[tuple[Button, ...], ...] = ()
    file_path: str | None = None
    file_name: str | None = None
    reply_to_message_id: str | None = None
    edit_message_id: str | None = None


@dataclass(frozen=True, slots=True)
class SendResult:
    external_message_id: str


class Channel(Protocol):
    """A platform the bot talks on. ``send`` raises only ``SendError`` subclasses; what it
    can carry is declared once, in its ``ChannelKind`` (``bot.channels.registry``)."""

    @property
    def name(self) -> str: ...

    async def send(self, message: OutgoingMessage) -> SendResult: ...
