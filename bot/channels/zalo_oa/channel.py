"""The outbox's view of a Zalo OA: ``send(OutgoingMessage)`` as the ``Channel`` protocol of
``base.py`` has it today, raising only the neutral send errors (−230/−232 → ContactStopped).

Buttons are real where the OA allows them (``ZaloOAClient.send`` falls back to numbered
text); an edit is a new message; an image file is uploaded; any other file goes as a link
from ``file_url(path, file_name)`` (papi-bot's signed HTTPS link), else a permanent failure.
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

from bot.channels.base import OutgoingMessage, PermanentFailure, SendResult
from bot.channels.zalo_oa.client import ZaloOAClient
from bot.channels.zalo_oa.errors import OAError
from bot.channels.zalo_oa.neutral import to_send_error

IMAGE_SUFFIXES = frozenset({".png", ".jpg", ".jpeg", ".gif"})
FileUrl = Callable[[str, str], str]


class ZaloOAChannel:
    name = "zalo_oa"
    supports_buttons = True

    def __init__(self, client: ZaloOAClient, *, file_url: FileUrl | None = None) -> None:
        self._client = client
        self._file_url = file_url
        self.max_text_length = client.text_limit

    async def send(self, message: OutgoingMessage) -> SendResult:
        try:
            ids = await self._send(message)
        except OAError as exc:  # mapped in one place: neutral.py
            raise to_send_error(exc) from None
        return SendResult(external_message_id=ids[-1] if ids else "")

    async def _send(self, message: OutgoingMessage) -> list[str]:
        user_id = message.chat_id
        if message.file_path is None:
            return await self._client.send(user_id, message.text, message.buttons)
        name = message.file_name or Path(message.file_path).name
        if Path(name).suffix.lower() in IMAGE_SUFFIXES:
            attachment_id = await self._client.upload_image(Path(message.file_path))
            image_id = await self._client.send_image(user_id, attachment_id)
            if not message.text.strip() and not message.buttons:
                return [image_id]
            return [image_id, *await self._client.send(user_id, message.text, message.buttons)]
        if self._file_url is None:
            raise PermanentFailure(
                "the OA channel sends files as links: they need PAPI_BOT_CONSOLE_SECRET, "
                "the web console and its [web] public_url"
            )
        try:
            url = self._file_url(message.file_path, name)
        except ValueError:  # not a report file: never linked
            raise PermanentFailure("the OA channel links only report files") from None
        text = f"{message.text}\n\n{name}: {url}"
        return await self._client.send(user_id, text, message.buttons)
