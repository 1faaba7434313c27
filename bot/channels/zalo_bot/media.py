"""Evidence photos from Zalo (Bot and OA): downloaded on receipt, because Zalo's CDN links
expire, with a size limit and a type check on the bytes themselves (not the URL or header).

The file is written under the given folder (``data_dir``/evidence) by its content hash, via a
temporary file and a rename, so a crash never leaves half a photo under the final name and
the same photo sent twice is stored once.
"""

from __future__ import annotations

import asyncio
import hashlib
import os
import tempfile
from dataclasses import dataclass
from pathlib import Path

import httpx

from kernel.private import private_dir

DEFAULT_MAX_BYTES = 10 * 1024 * 1024
EXTENSIONS = {"image/jpeg": ".jpg", "image/png": ".png", "image/gif": ".gif", "image/webp": ".webp"}


# Why a photo was not kept: the conversation words each for the official (handlers/evidence.py).
TOO_BIG = "too_big"
NOT_IMAGE = "not_image"
UNREACHABLE = "unreachable"


class MediaRejected(Exception):
    """The file is too big, not an image, or could not be fetched (the message says which,
    ``reason`` is one of ``TOO_BIG``, ``NOT_IMAGE``, ``UNREACHABLE``)."""

    def __init__(self, message: str, reason: str = UNREACHABLE) -> None:
        super().__init__(message)
        self.reason = reason


@dataclass(frozen=True, slots=True)
class SavedImage:
    path: Path
    mime_type: str
    size: int
    sha256: str


def image_type(content: bytes) -> str | None:
    """The MIME type of a JPEG, PNG, GIF or WebP by its first bytes; None for anything else."""
    if content.startswith(b"\xff\xd8\xff"):
        return "image/jpeg"
    if content.startswith(b"\x89PNG\r\n\x1a\n"):
        return "image/png"
    if content.startswith((b"GIF87a", b"GIF89a")):
        return "image/gif"
    if content[:4] == b"RIFF" and content[8:12] == b"WEBP":
        return "image/webp"
    return None


async def _fetch(http: httpx.AsyncClient, url: str, max_bytes: int) -> bytes:
    chunks: list[bytes] = []
    size = 0
    try:
        async with http.stream("GET", url, follow_redirects=True) as response:
            if response.status_code != 200:
                raise MediaRejected(f"the photo could not be fetched (HTTP {response.status_code})")
            declared = response.headers.get("content-length")
            if declared is not None and declared.isdigit() and int(declared) > max_bytes:
                raise MediaRejected(f"the photo is larger than {max_bytes} bytes", TOO_BIG)
            async for chunk in response.aiter_bytes():
                size += len(chunk)
                if size > max_bytes:
                    raise MediaRejected(f"the photo is larger than {max_bytes} bytes", TOO_BIG)
                chunks.append(chunk)
    except httpx.HTTPError as exc:
        raise MediaRejected(f"the photo could not be fetched ({type(exc).__name__})") from None
    return b"".join(chunks)


def _write(folder: Path, name: str, content: bytes) -> Path:
    private_dir(folder)  # officials' photos: 0700, the files 0600 (mkstemp)
    final = folder / name
    if final.exists():
        return final
    handle, temp = tempfile.mkstemp(dir=folder, prefix=".part-")
    try:
        with os.fdopen(handle, "wb") as out:
            out.write(content)
            out.flush()
            os.fsync(out.fileno())
        os.replace(temp, final)
    except BaseException:
        Path(temp).unlink(missing_ok=True)
        raise
    return final


async def download_image(
    http: httpx.AsyncClient, url: str, folder: Path, *, max_bytes: int = DEFAULT_MAX_BYTES
) -> SavedImage:
    """Fetch ``url`` into ``folder``; raises ``MediaRejected`` for anything not a photo."""
    if not url.startswith(("https://", "http://")):
        raise MediaRejected("the photo has no web address")
    content = await _fetch(http, url, max_bytes)
    mime = image_type(content)
    if mime is None:
        raise MediaRejected("the file is not a JPEG, PNG, GIF or WebP photo", NOT_IMAGE)
    digest = hashlib.sha256(content).hexdigest()
    path = await asyncio.to_thread(_write, folder, f"{digest[:40]}{EXTENSIONS[mime]}", content)
    return SavedImage(path=path, mime_type=mime, size=len(content), sha256=digest)
