"""The OA API v3 client: customer-service messages with real buttons, a numbered text
fallback, and images by upload.

``POST {api_base}/v3.0/oa/message/cs`` with header ``access_token``; the answer is
``{"error": 0, "data": {"message_id", "user_id"}}`` or a negative ``error`` (``errors``).
A refused token (−216/−220) is refreshed once through the token manager and the call retried.
Buttons are ``template_type: "button"`` with ``oa.query.hide`` buttons whose payload carries
``button_payload_prefix``; when buttons are off (``zalo.oa.buttons_enabled``, *unconfirmed*
how a press comes back), too many, or refused by the OA, the same menu goes out as numbered
text (the registry's shared numbered menu maps "1", "2" back to the payloads).
"""

from __future__ import annotations

import asyncio
import json
from collections.abc import Sequence
from pathlib import Path
from typing import Any, Protocol

import httpx

from bot.channels.zalo_bot.media import image_type
from bot.channels.zalo_bot.text import numbered_menu, split_text
from bot.channels.zalo_oa.errors import (
    OAPermanentError,
    OAServerError,
    OATokenInvalid,
    error_for,
)
from bot.channels.zalo_oa.events import DEFAULT_PAYLOAD_PREFIX
from handlers.types import Button

DEFAULT_API_BASE = "https://openapi.zalo.me"
MESSAGE_PATH = "/v3.0/oa/message/cs"
UPLOAD_IMAGE_PATH = "/v2.0/oa/upload/image"
USER_DETAIL_PATH = "/v3.0/oa/user/detail"
MAX_IMAGE_BYTES = 1024 * 1024
OA_IMAGE_TYPES = frozenset(
    {"image/jpeg", "image/png", "image/gif"}
)  # the docs' upload limit for images (unconfirmed)


class AccessTokens(Protocol):
    async def access_token(self) -> str: ...

    async def refresh(self, generation: int | None = None) -> object: ...


class ZaloOAClient:
    def __init__(
        self,
        *,
        http: httpx.AsyncClient,
        tokens: AccessTokens,
        api_base: str = DEFAULT_API_BASE,
        text_limit: int = 2000,
        buttons_enabled: bool = True,
        max_buttons: int = 5,
        payload_prefix: str = DEFAULT_PAYLOAD_PREFIX,
    ) -> None:
        self._http = http
        self._tokens = tokens
        self._base = api_base.rstrip("/")
        self.text_limit = text_limit
        self.buttons_enabled = buttons_enabled
        self.max_buttons = max_buttons
        self._prefix = payload_prefix

    # --- transport -------------------------------------------------------------------------

    async def _request(self, method: str, path: str, **kwargs: Any) -> dict[str, Any]:
        """``data`` of one call; a refused token is refreshed and the call retried once."""
        for attempt in (1, 2):
            token = await self._tokens.access_token()
            try:
                return await self._once(method, path, token, **kwargs)
            except OATokenInvalid:
                if attempt == 2:
                    raise
                await self._tokens.refresh()
        raise AssertionError("unreachable")

    async def _once(self, method: str, path: str, token: str, **kwargs: Any) -> dict[str, Any]:
        try:
            response = await self._http.request(
                method, f"{self._base}{path}", headers={"access_token": token}, **kwargs
            )
        except httpx.HTTPError as exc:
            raise OAServerError(f"OA request failed: {type(exc).__name__}") from None
        if response.status_code >= 500:
            raise OAServerError(f"OA answered HTTP {response.status_code}")
        try:
            body = response.json()
        except (json.JSONDecodeError, UnicodeDecodeError):
            raise OAServerError(f"OA answered HTTP {response.status_code}, not JSON") from None
        if not isinstance(body, dict):
            raise OAServerError("OA answered something that is not an object")
        code = body.get("error", 0)
        if isinstance(code, int) and code != 0:
            raise error_for(code, str(body.get("message") or "")[:200])
        if response.status_code != 200:
            raise OAPermanentError(f"OA answered HTTP {response.status_code}")
        data = body.get("data")
        return data if isinstance(data, dict) else {}

    async def _send(self, user_id: str, message: dict[str, Any]) -> str:
        data = await self._request(
            "POST", MESSAGE_PATH, json={"recipient": {"user_id": user_id}, "message": message}
        )
        return str(data.get("message_id") or "")

    # --- sending ---------------------------------------------------------------------------

    async def send_text(self, user_id: str, text: str) -> list[str]:
        """Text of any length, split at line boundaries; the message ids."""
        return [
            await self._send(user_id, {"text": piece})
            for piece in split_text(text, self.text_limit)
        ]

    async def send_buttons(self, user_id: str, text: str, buttons: Sequence[Button]) -> str:
        """One button template (``oa.query.hide`` buttons carrying the prefixed payload)."""
        if not 1 <= len(buttons) <= self.max_buttons or len(text) > self.text_limit:
            raise OAPermanentError("the menu does not fit a button template")
        template = {
            "template_type": "button",
            "text": text,
            "buttons": [
                {"title": b.label, "type": "oa.query.hide", "payload": f"{self._prefix}{b.payload}"}
                for b in buttons
            ],
        }
        return await self._send(user_id, {"attachment": {"type": "template", "payload": template}})

    async def send(
        self, user_id: str, text: str, buttons: Sequence[Sequence[Button]] = ()
    ) -> list[str]:
        """Text with an optional menu: real buttons where they fit, else numbered text."""
        flat = [button for row in buttons for button in row]
        if not flat:
            return await self.send_text(user_id, text)
        fits = len(flat) <= self.max_buttons and len(text) <= self.text_limit
        if self.buttons_enabled and fits:
            try:
                return [await self.send_buttons(user_id, text, flat)]
            except OAPermanentError:
                pass  # this OA or this menu cannot have buttons: the numbered fallback
        return await self.send_text(user_id, numbered_menu(text, flat))

    async def upload_image(self, path: Path) -> str:
        """Upload a JPEG/PNG/GIF (≤ 1 MB, type sniffed from the bytes, not the name); the
        attachment id to send it with."""
        content = await asyncio.to_thread(path.read_bytes)
        if not 0 < len(content) <= MAX_IMAGE_BYTES:
            raise OAPermanentError(f"image must be 1 byte to {MAX_IMAGE_BYTES} bytes")
        mime = image_type(content)
        if mime is None or mime not in OA_IMAGE_TYPES:
            raise OAPermanentError(f"not an image the OA accepts: {path.suffix or path.name}")
        data = await self._request(
            "POST", UPLOAD_IMAGE_PATH, files={"file": (path.name, content, mime)}
        )
        attachment_id = data.get("attachment_id")
        if not attachment_id:
            raise OAServerError("the upload returned no attachment_id")
        return str(attachment_id)

    async def send_image(self, user_id: str, attachment_id: str, caption: str = "") -> str:
        element = {"media_type": "image", "attachment_id": attachment_id}
        message: dict[str, Any] = {
            "attachment": {
                "type": "template",
                "payload": {"template_type": "media", "elements": [element]},
            }
        }
        if caption:
            message["text"] = caption[: self.text_limit]
        return await self._send(user_id, message)

    async def user_name(self, user_id: str) -> str | None:
        """The user's display name (events carry none)."""
        data = await self._request(
            "GET", USER_DETAIL_PATH, params={"data": json.dumps({"user_id": user_id})}
        )
        name = data.get("display_name")
        return str(name) if name else None
