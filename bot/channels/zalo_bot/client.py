"""A thin httpx client of the Zalo Bot Platform (no SDK: the PyPI one is a young fork of
python-telegram-bot and still defaults to the old ``bot-api.zapps.me`` host).

Every call is ``POST {api_base}/bot{token}/{method}`` with a JSON body; answers are
``{ok, result, description, error_code}``. Failures go through ``errors.error_for`` (the one
error map). A 429 is the monthly quota: the client remembers it (``quota_exceeded_until``) and
refuses further sends until the backoff has passed, so a burst does not hammer a spent quota.
"""

from __future__ import annotations

import json
import logging
from datetime import datetime, timedelta
from typing import Any

import httpx

from bot.channels.zalo_bot.errors import (
    ZaloBotError,
    ZaloIdle,
    ZaloPermanentError,
    ZaloQuotaExceeded,
    ZaloServerError,
    error_for,
    redact,
)
from bot.channels.zalo_bot.text import MAX_TEXT, split_text
from kernel.clock import Clock, SystemClock

DEFAULT_API_BASE = "https://bot-api.zaloplatforms.com"
MIN_SECRET, MAX_SECRET = 8, 256
CHAT_ACTIONS = frozenset({"typing"})


class _RedactTokens(logging.Filter):
    """httpx logs every request URL at INFO, and the bot token is part of the URL path: the
    token is taken out of those records at the source, whatever formatter prints them."""

    def __init__(self) -> None:
        super().__init__()
        self.tokens: set[str] = set()

    def filter(self, record: logging.LogRecord) -> bool:
        if not self.tokens:
            return True
        text = record.getMessage()
        if any(token in text for token in self.tokens):
            for token in self.tokens:
                text = text.replace(token, "<token>")
            record.msg, record.args = text, None
        return True


_REDACT = _RedactTokens()
logging.getLogger("httpx").addFilter(_REDACT)


def validate_secret(secret: str, variable: str = "ZALO_WEBHOOK_SECRET") -> str:
    """The webhook secret as Zalo accepts it (8–256 characters); the message never shows it."""
    if not MIN_SECRET <= len(secret) <= MAX_SECRET:
        raise ValueError(
            f"the Zalo webhook secret must be {MIN_SECRET}-{MAX_SECRET} characters "
            f"({variable} has {len(secret)})"
        )
    return secret


class ZaloBotClient:
    """One bot token's client. ``http`` may be shared; the client does not close it."""

    def __init__(
        self,
        *,
        token: str,
        http: httpx.AsyncClient,
        api_base: str = DEFAULT_API_BASE,
        text_limit: int = MAX_TEXT,
        quota_backoff_seconds: float = 6 * 3600,
        clock: Clock | None = None,
    ) -> None:
        if not token:
            raise ValueError("a Zalo bot needs a token (ZALO_BOT_TOKEN)")
        self._token = token
        _REDACT.tokens.add(token)
        self._http = http
        self._base = api_base.rstrip("/")
        self.text_limit = text_limit
        self._quota_backoff = quota_backoff_seconds
        self._clock = clock or SystemClock()
        self.quota_exceeded_until: datetime | None = None  # the flag the digest reads

    @property
    def bot_id(self) -> str:
        """The part of the token before ':' — safe to log and to key things by."""
        return self._token.split(":", 1)[0]

    def redact(self, text: str) -> str:
        return redact(text, self._token)

    # --- transport -------------------------------------------------------------------------

    async def call(
        self,
        method: str,
        params: dict[str, Any] | None = None,
        *,
        http_timeout: float | None = None,
    ) -> Any:
        """``result`` of one API call; raises a ``ZaloBotError`` subclass (token redacted)."""
        url = f"{self._base}/bot{self._token}/{method}"
        try:
            response = await self._http.post(
                url,
                json=params or {},
                timeout=http_timeout if http_timeout else httpx.USE_CLIENT_DEFAULT,
            )
        except httpx.TimeoutException as exc:
            raise ZaloIdle(self.redact(f"timeout: {type(exc).__name__}")) from None
        except httpx.HTTPError as exc:
            raise ZaloServerError(self.redact(f"{type(exc).__name__}: {exc}")) from None
        body = _json_body(response)
        if response.status_code == 200 and body.get("ok") is True:
            return body.get("result")
        status = _status_of(response.status_code, body)
        error = error_for(
            status,
            self.redact(str(body.get("description") or "")),
            quota_backoff_seconds=self._quota_backoff,
        )
        if isinstance(error, ZaloQuotaExceeded):
            self.quota_exceeded_until = self._clock.now() + timedelta(seconds=self._quota_backoff)
        raise error

    def _check_quota(self) -> None:
        until = self.quota_exceeded_until
        if until is None:
            return
        remaining = (until - self._clock.now()).total_seconds()
        if remaining > 0:
            raise ZaloQuotaExceeded(
                "Zalo quota exceeded (waiting before trying again)", backoff_seconds=remaining
            )
        self.quota_exceeded_until = None

    # --- the methods -----------------------------------------------------------------------

    async def get_me(self) -> dict[str, Any]:
        return _as_dict(await self.call("getMe"))

    async def set_webhook(self, url: str, secret_token: str) -> None:
        await self.call("setWebhook", {"url": url, "secret_token": validate_secret(secret_token)})

    async def delete_webhook(self) -> None:
        await self.call("deleteWebhook")

    async def get_webhook_info(self) -> dict[str, Any] | None:
        """The webhook as Zalo has it, or None when none is set (Zalo answers 404 then)."""
        try:
            info = _as_dict(await self.call("getWebhookInfo"))
        except ZaloPermanentError as exc:
            if exc.status == 404:
                return None
            raise
        return info if info.get("url") else None

    async def get_updates(self, wait_seconds: int = 30) -> list[dict[str, Any]]:
        """What one ``getUpdates`` call returns (one update, by the docs); [] when idle (408)."""
        try:
            result = await self.call(
                "getUpdates", {"timeout": wait_seconds}, http_timeout=wait_seconds + 10
            )
        except ZaloIdle:
            return []
        if isinstance(result, list):  # not documented, but harmless to accept
            return [item for item in result if isinstance(item, dict)]
        return [result] if isinstance(result, dict) and result else []

    async def send_message(self, chat_id: str, text: str) -> str:
        """One message of 1..``text_limit`` characters; its ``message_id``."""
        if not 1 <= len(text) <= self.text_limit:
            raise ZaloPermanentError(f"text must be 1-{self.text_limit} characters")
        self._check_quota()
        result = await self.call("sendMessage", {"chat_id": chat_id, "text": text})
        return _message_id(result)

    async def send_text(self, chat_id: str, text: str) -> list[str]:
        """Any text, split at line boundaries into messages Zalo accepts; their ids."""
        pieces = split_text(text, self.text_limit)
        return [await self.send_message(chat_id, piece) for piece in pieces]

    async def send_photo(self, chat_id: str, photo_url: str, caption: str | None = None) -> str:
        """A photo by URL (Zalo fetches it; there is no upload)."""
        if not photo_url.startswith(("https://", "http://")):
            raise ZaloPermanentError("sendPhoto needs the photo's URL")
        self._check_quota()
        params: dict[str, Any] = {"chat_id": chat_id, "photo": photo_url}
        if caption:
            params["caption"] = caption[: self.text_limit]
        return _message_id(await self.call("sendPhoto", params))

    async def send_chat_action(self, chat_id: str, action: str = "typing") -> None:
        if action not in CHAT_ACTIONS:
            raise ValueError(f"unknown chat action {action!r}")
        await self.call("sendChatAction", {"chat_id": chat_id, "action": action})


def _json_body(response: httpx.Response) -> dict[str, Any]:
    try:
        body = response.json()
    except (json.JSONDecodeError, UnicodeDecodeError):
        return {}
    return body if isinstance(body, dict) else {}


def _status_of(http_status: int, body: dict[str, Any]) -> int:
    """The error code the body states, else the HTTP status (an ok:false 200 is a 400)."""
    code = body.get("error_code")
    if isinstance(code, int) and not isinstance(code, bool) and 100 <= code <= 599:
        return code
    return http_status if http_status != 200 else 400


def _as_dict(result: Any) -> dict[str, Any]:
    return result if isinstance(result, dict) else {}


def _message_id(result: Any) -> str:
    """The sent message's id; "" when Zalo said ok without one (sent: never resend it)."""
    if isinstance(result, dict) and result.get("message_id") is not None:
        return str(result["message_id"])
    return ""


__all__ = ["DEFAULT_API_BASE", "ZaloBotClient", "ZaloBotError", "validate_secret"]
