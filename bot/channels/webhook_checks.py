"""Checks every webhook handler makes before it trusts a request: the shared secret, compared
in constant time on bytes, and a body read up to a limit.

Why bytes: aiohttp hands a header value over as text (UTF-8, an undecodable byte kept as a
lone surrogate), and ``hmac.compare_digest`` refuses text that is not ASCII with a
``TypeError`` — a 500 for anyone who sends ``é`` in the header. Encoded back with
``surrogateescape`` every header compares, and none but the right one matches.
"""

from __future__ import annotations

import hmac

from aiohttp import web


def header_bytes(value: str) -> bytes:
    """A header value as the bytes that came over the wire."""
    return value.encode("utf-8", "surrogateescape")


def is_ascii_header(value: str) -> bool:
    """Every secret the platforms issue is ASCII; anything else cannot be one."""
    return value.isascii()


def secret_matches(given: str | None, secret: str) -> bool:
    """Constant-time comparison on bytes (no early exit, no error on any header value)."""
    if given is None:
        return False
    return hmac.compare_digest(header_bytes(given), secret.encode("utf-8"))


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
