"""The ONE place where the Zalo Bot Platform's answers become exceptions.

The docs' error table (REFERENCE.md): 400 bad request, 401 token invalid, 403 "Internal server
error" (a *server* error, not "the user blocked the bot"), 404 not found, 408 timeout (what
``getUpdates`` answers when there is nothing new), 429 "Quota exceeded" (the monthly message
quota, not a per-second throttle; no ``retry_after``). Every other status is treated as a
temporary server failure: retrying later is the safe side.
"""

from __future__ import annotations


class ZaloBotError(Exception):
    """Base of every Zalo Bot Platform failure; the text never contains the token."""

    retryable: bool = False

    def __init__(self, description: str, status: int | None = None) -> None:
        super().__init__(description)
        self.description = description
        self.status = status


class ZaloConfigError(ZaloBotError):
    """401: the token is wrong or was reset. Stop the channel and tell the admin."""


class ZaloIdle(ZaloBotError):
    """408: nothing to deliver yet (``getUpdates``), or the request timed out."""

    retryable = True


class ZaloQuotaExceeded(ZaloBotError):
    """429: the monthly quota is used up. Back off for ``backoff_seconds`` and alert."""

    retryable = True

    def __init__(
        self, description: str, status: int | None = 429, *, backoff_seconds: float
    ) -> None:
        super().__init__(description, status)
        self.backoff_seconds = backoff_seconds


class ZaloServerError(ZaloBotError):
    """403 (documented as an internal server error), 5xx, network trouble: retry later."""

    retryable = True


class ZaloPermanentError(ZaloBotError):
    """400/404 and other request errors: this request will never succeed as it is."""


class ZaloWebhookActive(ZaloBotError):
    """Polling was asked for while a webhook is set: the two exclude each other."""


def error_for(status: int, description: str, *, quota_backoff_seconds: float) -> ZaloBotError:
    """The exception for a failed call; ``status`` is the body's error_code or the HTTP one."""
    text = description or f"HTTP {status}"
    if status == 401:
        return ZaloConfigError(f"the Zalo bot token was refused ({text})", status)
    if status == 408:
        return ZaloIdle(text, status)
    if status == 429:
        return ZaloQuotaExceeded(
            f"Zalo quota exceeded ({text})", status, backoff_seconds=quota_backoff_seconds
        )
    if status in (400, 404):
        return ZaloPermanentError(text, status)
    if 400 < status < 500 and status != 403:
        return ZaloPermanentError(text, status)
    return ZaloServerError(text, status)  # 403 and 5xx: Zalo's own trouble, temporary


def redact(text: str, token: str) -> str:
    """``text`` without the bot token (it is part of every request URL)."""
    return text.replace(token, "<token>") if token else text
