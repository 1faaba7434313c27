"""Checking a Zalo Bot webhook request, and a small aiohttp handler around the check.

Zalo sends the secret given to ``setWebhook`` in ``X-Bot-Api-Secret-Token``; it is compared in
constant time. A missing secret answers 401, a wrong one 403, and nothing is stored. The body
must be JSON of a known shape and at most ``max_body_bytes``. Whether Zalo redelivers after an
error is undocumented, so the handler awaits ``store(update)`` (a durable write, deduped by
``message_id``) *before* answering 200, and processing happens after, from the store.
"""

from __future__ import annotations

import hmac
import json
import logging
from collections.abc import Awaitable, Callable, Mapping
from typing import Any

from aiohttp import web

from bot.channels.zalo_bot.client import validate_secret
from bot.channels.zalo_bot.updates import unwrap

log = logging.getLogger(__name__)

SECRET_HEADER = "X-Bot-Api-Secret-Token"
DEFAULT_MAX_BODY = 256 * 1024

StoreFn = Callable[[dict[str, Any]], Awaitable[object]]


def secret_matches(given: str | None, secret: str) -> bool:
    """Constant-time comparison (no early exit on the first differing byte)."""
    if given is None:
        return False
    return hmac.compare_digest(given.encode(), secret.encode())


def check_request(
    headers: Mapping[str, str],
    body: bytes,
    *,
    secret: str,
    max_body_bytes: int = DEFAULT_MAX_BODY,
) -> tuple[int, dict[str, Any] | None]:
    """(HTTP status, the event to store | None). Only a 200 with an event changes anything."""
    given = headers.get(SECRET_HEADER)
    if given is None:
        return 401, None
    if not secret_matches(given, secret):
        return 403, None
    if len(body) > max_body_bytes:
        return 413, None
    try:
        parsed = json.loads(body)
    except (json.JSONDecodeError, UnicodeDecodeError):
        return 400, None
    if not isinstance(parsed, dict):
        return 400, None
    event = unwrap(parsed)
    if event is None:  # valid JSON, but not an update: nothing to do, nothing to retry
        log.info("zalo webhook: ignoring a body with keys %s", sorted(parsed)[:8])
        return 200, None
    return 200, event


async def read_limited(request: web.Request, limit: int) -> bytes | None:
    """The body, or None as soon as it exceeds ``limit`` (never read whole into memory)."""
    if request.content_length is not None and request.content_length > limit:
        return None
    chunks: list[bytes] = []
    size = 0
    async for chunk in request.content.iter_chunked(64 * 1024):
        size += len(chunk)
        if size > limit:
            return None
        chunks.append(chunk)
    return b"".join(chunks)


def make_handler(
    store: StoreFn, *, secret: str, max_body_bytes: int = DEFAULT_MAX_BODY
) -> Callable[[web.Request], Awaitable[web.Response]]:
    """An aiohttp handler: check, ``await store(event)``, then 200. A store failure → 500."""
    validate_secret(secret)  # at start-up, not at the first request

    async def handle(request: web.Request) -> web.Response:
        if SECRET_HEADER not in request.headers:
            return web.json_response({"ok": False}, status=401)
        if not secret_matches(request.headers.get(SECRET_HEADER), secret):
            return web.json_response({"ok": False}, status=403)
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
