"""The outbox's view of a Zalo bot: ``send(OutgoingMessage)`` as the ``Channel`` protocol of
``base.py`` has it today, raising only the neutral send errors.

The platform has no buttons, no edits and no documents: a menu goes out as numbered text, an
edit is a new message, a photo goes by URL and any other file as a link. Both need
``file_url(path, file_name)`` — the short-lived signed HTTPS link papi-bot serves
(``bot.web.file_links``: 24 h, served by the web console at ``[web] public_url``); without
it a file message is a permanent failure with a clear reason rather than a silent drop.
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

from bot.channels.base import OutgoingMessage, PermanentFailure, SendResult
from bot.channels.zalo_bot.client import ZaloBotClient
from bot.channels.zalo_bot.errors import ZaloBotError
from bot.channels.zalo_bot.neutral import to_send_error
from bot.channels.zalo_bot.text import MAX_TEXT, numbered_menu

PHOTO_SUFFIXES = frozenset({".png", ".jpg", ".jpeg"})
FileUrl = Callable[[str, str], str]


class ZaloBotChannel:
    name = "zalo"
    max_text_length = MAX_TEXT
    supports_buttons = False

    def __init__(
        self, client: ZaloBotClient, *, file_url: FileUrl | None = None, name: str = "zalo"
    ) -> None:
        self.name = name  # "zalo", or "zalo:<bot>" for a bot of [[zalo.bots]]
        self._client = client
        self._file_url = file_url

    async def send(self, message: OutgoingMessage) -> SendResult:
        try:
            ids = await self._send(message)
        except ZaloBotError as exc:  # mapped in one place: neutral.py
            raise to_send_error(exc) from None
        return SendResult(external_message_id=ids[-1] if ids else "")

    async def _send(self, message: OutgoingMessage) -> list[str]:
        menu = [button for row in message.buttons for button in row]
        text = numbered_menu(message.text, menu)
        if message.file_path is None:
            return await self._client.send_text(message.chat_id, text)
        if self._file_url is None:
            raise PermanentFailure(
                "Zalo Bot cannot upload files: file links need PAPI_BOT_CONSOLE_SECRET, "
                "the web console and its [web] public_url"
            )
        name = message.file_name or Path(message.file_path).name
        try:
            url = self._file_url(message.file_path, name)
        except ValueError:  # not a report file: never linked
            raise PermanentFailure("Zalo Bot links only report files") from None
        if Path(name).suffix.lower() in PHOTO_SUFFIXES:
            photo_id = await self._client.send_photo(message.chat_id, url)
            if not text.strip():
                return [photo_id]
            return [photo_id, *await self._client.send_text(message.chat_id, text)]
        return await self._client.send_text(message.chat_id, f"{text}\n\n{name}: {url}")
