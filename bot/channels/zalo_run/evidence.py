"""Evidence photos from Zalo kept on receipt: Zalo's CDN links expire within days, so a
photo an official sends is downloaded while the stored update is processed (never in the
webhook handler, which must answer within Zalo's 2 s) into ``data_dir/evidence``.

A photo that cannot be kept (too big, not an image, the link already dead) does not stop the
update: the attachment carries ``fetch_error``, the evidence is recorded with it and the
official is told to send the photo again. The official's message is never lost.
"""

from __future__ import annotations

import dataclasses
import logging
from pathlib import Path

import httpx

from bot.channels.zalo_bot.media import UNREACHABLE, MediaRejected, download_image
from bot.config import Settings
from handlers.types import Attachment, Inbound

log = logging.getLogger("papi_bot")

EVIDENCE_FOLDER = "evidence"
WRITE_FAILED = "write_failed"  # the copy could not be written here (disk full, permissions)


async def _keep(
    attachment: Attachment, http: httpx.AsyncClient, data_dir: Path, max_bytes: int, channel: str
) -> Attachment:
    if attachment.kind != "photo" or attachment.stored_path or attachment.fetch_error:
        return attachment
    try:
        saved = await download_image(
            http, attachment.file_id, data_dir / EVIDENCE_FOLDER, max_bytes=max_bytes
        )
    except MediaRejected as exc:  # the URL is not logged: it is the official's photo
        log.warning("%s: an evidence photo was not kept: %s", channel, exc)
        return dataclasses.replace(attachment, fetch_error=exc.reason)
    except OSError as exc:  # writing the copy (a full disk): the message is recorded anyway
        log.error("%s: an evidence photo could not be written: %s", channel, exc.strerror)
        return dataclasses.replace(attachment, fetch_error=WRITE_FAILED)
    except Exception:  # whatever the download did, the official's message must be recorded
        log.exception("%s: downloading an evidence photo failed", channel)
        return dataclasses.replace(attachment, fetch_error=UNREACHABLE)
    return dataclasses.replace(
        attachment,
        stored_path=f"{EVIDENCE_FOLDER}/{saved.path.name}",
        mime_type=saved.mime_type,
        file_size=saved.size,
        file_unique_id=attachment.file_unique_id or saved.sha256[:64],
    )


async def keep_photos(
    inbound: Inbound, http: httpx.AsyncClient, data_dir: Path, *, max_bytes: int
) -> Inbound:
    """``inbound`` with each photo downloaded (``stored_path``) or marked (``fetch_error``)."""
    if not inbound.attachments:
        return inbound
    kept = [await _keep(a, http, data_dir, max_bytes, inbound.channel) for a in inbound.attachments]
    return dataclasses.replace(inbound, attachments=tuple(kept))


async def keep_evidence(inbound: Inbound, http: httpx.AsyncClient, settings: Settings) -> Inbound:
    """``keep_photos`` with the deployment's folder and ``[zalo] evidence_max_mb``: what both
    Zalo inbox workers call before applying an update."""
    max_bytes = int(settings.zalo.evidence_max_mb * 1024 * 1024)
    return await keep_photos(inbound, http, settings.app.data_dir, max_bytes=max_bytes)
