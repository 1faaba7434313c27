"""Checking an OA webhook request, and a small aiohttp handler around the check.

A missing, wrong or non-ASCII signature, or a timestamp outside the slack, answers 401 and
nothing is stored. The body must be JSON (else 400) and at most ``max_body_bytes``. Zalo
wants a 200 within 2 s, so the handler only awaits ``store(event)`` (durable, deduped by
``msg_id``) before answering; processing happens after, from the store.
"""

from __future__ import annotations

import json
import logging
from collections.abc import Awaitable, Callable, Mapping
from datetime import datetime
from typing import Any

from aiohttp import web

from bot.channels.webhook_checks import is_ascii_header, read_limited
from bot.channels.zalo_oa.signature import (
    DEFAULT_SLACK_SECONDS,
    SIGNATURE_HEADER,
    signature_matches,
    timestamp_fresh,
)
from kernel.clock import Clock

log = logging.getLogger(__name__)

DEFAULT_MAX_BODY = 256 * 1024
StoreFn = Callable[[dict[str, Any]], Awaitable[object]]


def check_request(
    headers: Mapping[str, str],
    body: bytes,
    *,
    app_id: str,
    secret_key: str,
    now: datetime,
    slack_seconds: int = DEFAULT_SLACK_SECONDS,
    max_body_bytes: int = DEFAULT_MAX_BODY,
) -> tuple[int, dict[str, Any] | None]:
    """(HTTP status, the event to store | None). Only a 200 with an event changes anything."""
    if len(body) > max_body_bytes:
        return 413, None
    header = headers.get(SIGNATURE_HEADER)
    if not header or not is_ascii_header(header):  # a hex digest is ASCII
        return 401, None
    try:
        event = json.loads(body)
    except (ValueError, RecursionError):  # not JSON, not UTF-8, or nested too deep
        return 400, None
    if not isinstance(event, dict):
        return 400, None
    timestamp = event.get("timestamp")
    timestamp_text = "" if timestamp is None else str(timestamp)
    if not signature_matches(
        header, app_id=app_id, raw_body=body, timestamp=timestamp_text, secret_key=secret_key
    ):
        return 401, None
    if not timestamp_fresh(timestamp_text, now, slack_seconds):
        log.warning("zalo oa webhook: a signed event outside the clock slack was refused")
        return 401, None
    return 200, event


def make_handler(
    store: StoreFn,
    *,
    app_id: str,
    secret_key: str,
    clock: Clock,
    slack_seconds: int = DEFAULT_SLACK_SECONDS,
    max_body_bytes: int = DEFAULT_MAX_BODY,
) -> Callable[[web.Request], Awaitable[web.Response]]:
    """An aiohttp handler: check, ``await store(event)``, then 200. A store failure → 500."""
    if not app_id or not secret_key:
        raise ValueError("the OA webhook needs ZALO_OA_APP_ID and ZALO_OA_SECRET_KEY")

    async def handle(request: web.Request) -> web.Response:
        body = await read_limited(request, max_body_bytes)
        if body is None:
            return web.json_response({"error": 413}, status=413)
        status, event = check_request(
            request.headers,
            body,
            app_id=app_id,
            secret_key=secret_key,
            now=clock.now(),
            slack_seconds=slack_seconds,
            max_body_bytes=max_body_bytes,
        )
        if status == 200 and event is not None:
            try:
                await store(event)
            except Exception:
                log.exception("zalo oa webhook: storing the event failed")
                return web.json_response({"error": 500}, status=500)
        return web.json_response({"error": 0 if status == 200 else status}, status=status)

    return handle
