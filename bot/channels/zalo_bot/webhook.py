"""Checking a Zalo Bot webhook request, and a small aiohttp handler around the check.

Zalo sends the secret given to ``setWebhook`` in ``X-Bot-Api-Secret-Token``; it is compared in
constant time, on bytes. A missing secret, or one that is not ASCII (no secret Zalo accepts
is), answers 401, a wrong one 403, and nothing is stored. The body
must be JSON of a known shape and at most ``max_body_bytes``. Whether Zalo redelivers after an
error is undocumented, so the handler awaits ``store(update)`` (a durable write, deduped by
``message_id``) *before* answering 200, and processing happens after, from the store.
"""

from __future__ import annotations

import json
import logging
from collections.abc import Awaitable, Callable, Mapping
from typing import Any

from aiohttp import web

from bot.channels.webhook_checks import is_ascii_header, read_limited, secret_matches
from bot.channels.zalo_bot.client import validate_secret
from bot.channels.zalo_bot.updates import unwrap

log = logging.getLogger(__name__)

SECRET_HEADER = "X-Bot-Api-Secret-Token"
DEFAULT_MAX_BODY = 256 * 1024

StoreFn = Callable[[dict[str, Any]], Awaitable[object]]


def _secret_status(given: str | None, secret: str) -> int:
    """200 for the right secret, 401 for none (or one that cannot be a secret), 403 wrong."""
    if given is None or not is_ascii_header(given):
        return 401
    return 200 if secret_matches(given, secret) else 403


def check_request(
    headers: Mapping[str, str],
    body: bytes,
    *,
    secret: str,
    max_body_bytes: int = DEFAULT_MAX_BODY,
) -> tuple[int, dict[str, Any] | None]:
    """(HTTP status, the event to store | None). Only a 200 with an event changes anything."""
    status = _secret_status(headers.get(SECRET_HEADER), secret)
    if status != 200:
        return status, None
    if len(body) > max_body_bytes:
        return 413, None
    try:
        parsed = json.loads(body)
    except (ValueError, RecursionError):  # not JSON, not UTF-8, or nested too deep
        return 400, None
    if not isinstance(parsed, dict):
        return 400, None
    event = unwrap(parsed)
    if event is None:  # valid JSON, but not an update: nothing to do, nothing to retry
        log.info("zalo webhook: ignoring a body with keys %s", sorted(parsed)[:8])
        return 200, None
    return 200, event


def make_handler(
    store: StoreFn, *, secret: str, max_body_bytes: int = DEFAULT_MAX_BODY
) -> Callable[[web.Request], Awaitable[web.Response]]:
    """An aiohttp handler: check, ``await store(event)``, then 200. A store failure → 500."""
    validate_secret(secret)  # at start-up, not at the first request

    async def handle(request: web.Request) -> web.Response:
        refused = _secret_status(request.headers.get(SECRET_HEADER), secret)
        if refused != 200:
            return web.json_response({"ok": False}, status=refused)
        body = await read_limited(request, max_body_bytes)
        if body is None:
            return web.json_response({"ok": False}, status=413)
        status, event = check_request(
            request.headers, body, secret=secret, max_body_bytes=max_body_bytes
        )
        if status == 200 and event is not None:
            try:
                await store(event)
            except Exception:
                log.exception("zalo webhook: storing the update failed")
                return web.json_response({"ok": False}, status=500)
        return web.json_response({"ok": status == 200}, status=status)

    return handle
