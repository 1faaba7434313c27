"""OA exceptions → the channel-neutral send errors the outbox reacts to (the one bridge to
``bot.channels.base``). −230/−232 and the other "cannot reach" codes are ``ContactStopped``:
the official is unreachable on this channel until they write to the OA again, and the caller
falls back to another linked channel. A refused refresh token keeps the message pending."""

from __future__ import annotations

from bot.channels.base import (
    ContactStopped,
    PermanentFailure,
    SendError,
    TemporaryFailure,
    Throttled,
)
from bot.channels.zalo_oa.errors import (
    OAError,
    OAReauthorizationNeeded,
    OAThrottled,
    OAUnreachable,
)


def to_send_error(exc: OAError) -> SendError:
    reason = f"{type(exc).__name__}: {exc}"
    if isinstance(exc, OAUnreachable):
        return ContactStopped(reason)
    if isinstance(exc, OAThrottled):
        return Throttled(exc.retry_after, reason)
    if isinstance(exc, OAReauthorizationNeeded) or exc.retryable:
        return TemporaryFailure(reason)
    return PermanentFailure(reason)
