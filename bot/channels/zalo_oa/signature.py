"""The OA webhook signature: ``X-ZEvent-Signature`` = lowercase hex SHA-256 (plain, not HMAC)
of ``app_id + raw body + timestamp + OA secret key``, sometimes prefixed ``mac=``.

The secret key is the OA's (from the webhook settings), not the app secret. Retries carry
the original timestamp, so a timestamp is accepted within ``slack_seconds`` (about 2 h).
"""

from __future__ import annotations

import hashlib
import hmac
from datetime import UTC, datetime

SIGNATURE_HEADER = "X-ZEvent-Signature"
DEFAULT_SLACK_SECONDS = 7200


def expected_signature(app_id: str, raw_body: bytes, timestamp: str, secret_key: str) -> str:
    digest = hashlib.sha256(app_id.encode() + raw_body + timestamp.encode() + secret_key.encode())
    return digest.hexdigest()


def signature_matches(
    header: str | None, *, app_id: str, raw_body: bytes, timestamp: str, secret_key: str
) -> bool:
    """Constant-time check of the header, with or without ``mac=``, in any letter case."""
    if not header or not secret_key or not app_id:
        return False
    given = header.strip()
    if given[:4].lower() == "mac=":
        given = given[4:]
    want = expected_signature(app_id, raw_body, timestamp, secret_key)
    return hmac.compare_digest(given.lower().encode(), want.encode())


def event_time(timestamp: str | int | None) -> datetime | None:
    """The event's time from its 13-digit millisecond timestamp (a string in OA events)."""
    if timestamp is None or isinstance(timestamp, bool):
        return None
    try:
        millis = int(str(timestamp).strip())
        return datetime.fromtimestamp(millis / 1000, UTC)
    except (ValueError, OverflowError, OSError):
        return None


def timestamp_fresh(timestamp: str | int | None, now: datetime, slack_seconds: int) -> bool:
    moment = event_time(timestamp)
    return moment is not None and abs((now - moment).total_seconds()) <= slack_seconds
