"""Zalo Bot exceptions → the channel-neutral send errors the outbox reacts to.

The only module of this package that imports ``bot.channels.base``: if the registry renames
its errors, this is the one place to follow. A 401 is not the message's fault: it stays
pending (temporary) while ``ZaloConfigError`` stops the channel and alerts the admin.
"""

from __future__ import annotations

from bot.channels.base import PermanentFailure, SendError, TemporaryFailure, Throttled
from bot.channels.zalo_bot.errors import (
    ZaloBotError,
    ZaloConfigError,
    ZaloPermanentError,
    ZaloQuotaExceeded,
)


def to_send_error(exc: ZaloBotError) -> SendError:
    reason = f"{type(exc).__name__}: {exc}"
    if isinstance(exc, ZaloQuotaExceeded):
        return Throttled(exc.backoff_seconds, reason)
    if isinstance(exc, ZaloConfigError):
        return TemporaryFailure(reason)
    if isinstance(exc, ZaloPermanentError) or not exc.retryable:
        return PermanentFailure(reason)
    return TemporaryFailure(reason)  # 403 (a server error here), 408, 5xx, network
