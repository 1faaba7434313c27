"""What every channel adapter provides, and the short list of channel-neutral send errors.

The outbox reacts to these errors, never to a platform's status code (as courier's
``core/channels/errors.go`` does): each adapter maps its platform's answers in one place.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Protocol

from handlers.types import Button


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
    """A platform the bot talks on. ``send`` raises only ``SendError`` subclasses."""

    name: str
    max_text_length: int
    supports_buttons: bool

    async def send(self, message: OutgoingMessage) -> SendResult: ...
