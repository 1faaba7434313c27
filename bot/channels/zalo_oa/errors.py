"""The ONE place where the OA API's answers become exceptions.

OA answers ``{"error": 0, "data": …}`` on success and a negative ``error`` otherwise
(REFERENCE.md): −230/−232 the user is outside the interaction window (no message for 7 days),
−213 not a follower, −227 banned or inactive, −244 the user restricted this message type (all
"cannot reach": *unreachable*); −216/−220 the access token is invalid or expired (refresh and
retry once); −32 rate limited. Anything else is a request Zalo will not accept as it is.
"""

from __future__ import annotations

OUTSIDE_WINDOW = frozenset({-230, -232})
CANNOT_REACH = frozenset({-213, -227, -244})
TOKEN_ERRORS = frozenset({-216, -220})
RATE_LIMITED = -32


class OAError(Exception):
    """Base of every OA failure; the text never contains a token."""

    retryable: bool = False

    def __init__(self, message: str, code: int | None = None) -> None:
        super().__init__(message)
        self.code = code


class OAUnreachable(OAError):
    """The user cannot be reached on the OA now; ``outside_window`` for −230/−232 (they
    must write to the OA again), else they unfollowed, were banned or restricted us."""

    @property
    def outside_window(self) -> bool:
        return self.code in OUTSIDE_WINDOW


class OATokenInvalid(OAError):
    """−216/−220: the access token was refused; refresh, then retry once."""

    retryable = True


class OAThrottled(OAError):
    """−32: too many requests (the package allows about 100 per minute, *unconfirmed*)."""

    retryable = True

    def __init__(
        self, message: str, code: int | None = RATE_LIMITED, *, retry_after: float = 60
    ) -> None:
        super().__init__(message, code)
        self.retry_after = retry_after


class OAServerError(OAError):
    """HTTP 5xx, a body that is not JSON, network trouble: retry later."""

    retryable = True


class OAPermanentError(OAError):
    """Zalo will not accept this request as it is."""


class OAReauthorizationNeeded(OAError):
    """The refresh token was refused (or none is stored): the admin must authorise again
    (``papi-bot zalo-oa authorize``)."""


def error_for(code: int, message: str) -> OAError:
    text = f"Zalo OA error {code}: {message}" if message else f"Zalo OA error {code}"
    if code in OUTSIDE_WINDOW or code in CANNOT_REACH:
        return OAUnreachable(text, code)
    if code in TOKEN_ERRORS:
        return OATokenInvalid(text, code)
    if code == RATE_LIMITED:
        return OAThrottled(text, code)
    return OAPermanentError(text, code)
