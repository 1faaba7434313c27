"""A fake Zalo Bot Platform server (aiohttp on 127.0.0.1, random port), after fake_telegram.

``POST /bot<token>/<method>`` with JSON, form or query parameters, answering
``{"ok": true, "result": …}`` or ``{"ok": false, "error_code", "description"}`` as Zalo does.
``getUpdates`` is Zalo's, not Telegram's: ONE update per call, no offset, 408 when idle after
``timeout`` seconds; ``replay_returned()`` puts already-returned updates back (as a client
measured live), and ``replay_each=True`` returns every update a second time later.

The test drives it from Python (``inject_message``, ``inject_image``, ``inject_unsupported``,
``fail_next``, ``set_quota``, ``sent_to``) or over HTTP (``POST /_test/message``,
``GET /_test/sent``, ``GET /_test/state``) when the bot runs in another process. With a
webhook set, injected updates are POSTed to it with ``X-Bot-Api-Secret-Token``, in the
``webhook_shape`` chosen: "wrapped" (the docs) or "flat" (what production sent).

Zalo serves every bot at one address, by token: ``add_bot(token)`` is another bot on the same
server (its own updates, sends, webhook and quota), for papi-bot's several bound bots.
"""

from __future__ import annotations

import asyncio
import itertools
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, Literal

from aiohttp import ClientSession, ClientTimeout, web

from tests.fakes.fake_telegram import read_params

BOT_INFO = {"id": "1000", "account_name": "papi_test_bot", "account_type": "BASIC"}
TEXT_LIMIT = 2000
Shape = Literal["wrapped", "flat"]


JPEG = b"\xff\xd8\xff\xe0\x00\x10JFIF\x00" + b"\x00" * 200 + b"\xff\xd9"


@dataclass
class ZaloSent:
    method: str
    chat_id: str
    message_id: str
    text: str | None = None
    photo: str | None = None
    at: float = 0.0


@dataclass
class _Fault:
    method: str
    status: int
    description: str


def _error(status: int, description: str) -> web.Response:
    return web.json_response(
        {"ok": False, "error_code": status, "description": description}, status=status
    )


def _ok(result: Any) -> web.Response:
    return web.json_response({"ok": True, "result": result})


class FakeZaloBot:
    """The fake server. ``await start()``, then use ``base_url`` as ``zalo.api_base``."""

    def __init__(self, token: str, *, replay_each: bool = False, date_in_ms: bool = True) -> None:
        self.token = token
        self.replay_each = replay_each
        self.date_in_ms = date_in_ms  # the docs say ms; some samples show seconds
        self.webhook_shape: Shape = "wrapped"
        self.pending: list[dict[str, Any]] = []
        self.returned: list[dict[str, Any]] = []
        self.sent: list[ZaloSent] = []
        self.actions: list[tuple[str, str]] = []
        self.calls: list[tuple[str, dict[str, Any], float]] = []  # method, params, monotonic
        self.deliveries: list[int] = []  # HTTP status of each webhook POST
        self.webhook: dict[str, Any] | None = None
        self.faults: list[_Fault] = []
        self.quota_left: int | None = None  # sends left this month; None = unlimited
        self._ids = itertools.count(1)
        self._changed = asyncio.Condition()
        self.cdn_files: dict[str, bytes] = {}  # name → content; others get a small JPEG
        self.cdn_expired = False  # Zalo's CDN links expire: then 403
        self.on_sent: Callable[[ZaloSent], None] | None = None  # e.g. a benchmark's clock
        self._runner: web.AppRunner | None = None
        self.port = 0
        self._host: FakeZaloBot | None = None  # the server this bot shares (add_bot)
        self._bots: dict[str, FakeZaloBot] = {token: self}

    # --- lifecycle ------------------------------------------------------------------------

    async def start(self) -> None:
        app = web.Application()
        app.router.add_route("*", "/bot{token}/{method}", self._api)
        app.router.add_get("/cdn/{name}", self._cdn)
        app.router.add_post("/_test/message", self._test_message)
        app.router.add_get("/_test/sent", self._test_sent)
        app.router.add_get("/_test/state", self._test_state)
        self._runner = web.AppRunner(app, access_log=None, handler_cancellation=True)
        await self._runner.setup()
        site = web.TCPSite(self._runner, "127.0.0.1", 0)
        await site.start()
        server = site._server
        assert server is not None
        self.port = int((getattr(server, "sockets", None) or [])[0].getsockname()[1])

    async def stop(self) -> None:
        if self._runner is not None:
            await self._runner.cleanup()
            self._runner = None

    @property
    def base_url(self) -> str:
        port = self._host.port if self._host is not None else self.port
        return f"http://127.0.0.1:{port}"

    def add_bot(self, token: str, *, account_name: str = "") -> FakeZaloBot:
        """Another bot on this server, answering to ``token`` (and getMe as ``account_name``)."""
        other = FakeZaloBot(token, date_in_ms=self.date_in_ms)
        other._host = self
        other.account_name = account_name or f"papi_bot_{token.split(':', 1)[0]}"
        self._bots[token] = other
        return other

    account_name = BOT_INFO["account_name"]

    # --- what the test controls ----------------------------------------------------------

    def fail_next(self, method: str, status: int, *, times: int = 1, description: str = "") -> None:
        """The next ``times`` calls of ``method`` answer ``status`` (400, 401, 403, 429, …)."""
        text = description or {
            400: "Bad request",
            401: "Unauthorized",
            403: "Internal server error",
            404: "Not found",
            429: "Quota exceeded",
        }.get(status, "Error")
        self.faults.extend(_Fault(method, status, text) for _ in range(times))

    def set_quota(self, messages_left: int | None) -> None:
        """After ``messages_left`` more sends, every send answers 429 "Quota exceeded"."""
        self.quota_left = messages_left

    def _date(self) -> int:
        return int(time.time() * 1000) if self.date_in_ms else int(time.time())

    def _message(
        self, user_id: str, *, name: str, name_key: str, chat_type: str = "PRIVATE"
    ) -> dict[str, Any]:
        return {
            "from": {"id": user_id, name_key: name, "is_bot": False},
            "chat": {"id": user_id, "chat_type": chat_type},
            "message_id": f"m{next(self._ids):08x}",
            "date": self._date(),
        }

    async def inject(self, event: dict[str, Any]) -> dict[str, Any]:
        """Queue a raw event ``{event_name, message}`` (and deliver it to the webhook)."""
        self.pending.append(event)
        async with self._changed:
            self._changed.notify_all()
        if self.webhook is not None:
            await self._deliver(event)
        return event

    async def inject_message(
        self,
        user_id: str,
        text: str,
        *,
        name: str = "Cán bộ",
        name_key: str = "display_name",
        chat_type: str = "PRIVATE",
    ) -> str:
        """A user writes text to the bot; the message_id (the dedupe key)."""
        message = self._message(user_id, name=name, name_key=name_key, chat_type=chat_type)
        message["text"] = text
        await self.inject({"event_name": "message.text.received", "message": message})
        return str(message["message_id"])

    async def inject_image(
        self,
        user_id: str,
        *,
        caption: str | None = None,
        photo_key: str = "photo_url",
        content: bytes | None = None,
    ) -> str:
        """A user sends a photo; the URL is under ``photo_url`` or (the docs) ``photo``; the
        CDN serves ``content`` there (default: a small JPEG)."""
        message = self._message(user_id, name="Cán bộ", name_key="display_name")
        message[photo_key] = f"{self.base_url}/cdn/{message['message_id']}.jpg"
        if content is not None:
            self.cdn_files[f"{message['message_id']}.jpg"] = content
        if caption is not None:
            message["caption"] = caption
        await self.inject({"event_name": "message.image.received", "message": message})
        return str(message["message_id"])

    async def inject_unsupported(self, user_id: str | None = None) -> None:
        """A contact card or a protected account: maybe no ``message`` at all."""
        event: dict[str, Any] = {"event_name": "message.unsupported.received"}
        if user_id is not None:
            event["message"] = self._message(user_id, name="Cán bộ", name_key="display_name")
        await self.inject(event)

    def replay_returned(self) -> None:
        """Already-returned updates come back on later polls (reported from the live API)."""
        self.pending.extend(self.returned)
        self.returned = []

    def sent_to(self, chat_id: str) -> list[ZaloSent]:
        return [item for item in self.sent if item.chat_id == chat_id]

    def call_times(self, method: str) -> list[float]:
        return [at for name, _params, at in self.calls if name == method]

    async def wait_sent(self, count: int, *, wait_seconds: float = 10.0) -> list[ZaloSent]:
        async def enough() -> list[ZaloSent]:
            async with self._changed:
                while len(self.sent) < count:
                    await self._changed.wait()
                return list(self.sent)

        return await asyncio.wait_for(enough(), wait_seconds)

    # --- the Bot API -----------------------------------------------------------------------

    async def _api(self, request: web.Request) -> web.StreamResponse:
        method = request.match_info["method"]
        params = await read_params(request)
        bot = self._bots.get(request.match_info["token"])
        if bot is None:
            self.calls.append((method, params, time.monotonic()))
            return _error(401, "Unauthorized")
        return await bot._answer(method, params)

    async def _answer(self, method: str, params: dict[str, Any]) -> web.StreamResponse:
        self.calls.append((method, params, time.monotonic()))
        for index, fault in enumerate(self.faults):
            if fault.method == method:
                self.faults.pop(index)
                return _error(fault.status, fault.description)
        handler = getattr(self, f"_m_{method}", None)
        if handler is None:  # method names are case-sensitive
            return _error(404, "Not found")
        result: web.StreamResponse = await handler(params)
        return result

    async def _m_getMe(self, params: dict[str, Any]) -> web.Response:
        if self._host is None:
            return _ok(BOT_INFO)
        bot_id = self.token.split(":", 1)[0]
        return _ok({**BOT_INFO, "id": bot_id, "account_name": self.account_name})

    async def _m_getUpdates(self, params: dict[str, Any]) -> web.Response:
        if self.webhook is not None:
            return _error(400, "Webhook is active")
        deadline = time.monotonic() + float(params.get("timeout") or 0)
        async with self._changed:
            while not self.pending and time.monotonic() < deadline:
                try:
                    await asyncio.wait_for(self._changed.wait(), deadline - time.monotonic())
                except TimeoutError:
                    break
        if not self.pending:
            return _error(408, "Request timeout")
        update = self.pending.pop(0)
        if self.replay_each and update not in self.returned:
            self.pending.append(update)  # it comes back once, after the rest
        self.returned.append(update)
        return _ok(update)

    def _quota_refused(self) -> web.Response | None:
        if self.quota_left is None:
            return None
        if self.quota_left <= 0:
            return _error(429, "Quota exceeded")
        self.quota_left -= 1
        return None

    async def _record(self, item: ZaloSent) -> web.Response:
        self.sent.append(item)
        if self.on_sent is not None:
            self.on_sent(item)
        async with self._changed:
            self._changed.notify_all()
        return _ok({"message_id": item.message_id, "date": self._date()})

    async def _m_sendMessage(self, params: dict[str, Any]) -> web.Response:
        text = str(params.get("text") or "")
        if not params.get("chat_id") or not 1 <= len(text) <= TEXT_LIMIT:
            return _error(400, "Bad request: text must be 1-2000 characters")
        refused = self._quota_refused()
        if refused is not None:
            return refused
        chat_id = str(params["chat_id"])
        return await self._record(
            ZaloSent("sendMessage", chat_id, f"s{next(self._ids):08x}", text, at=time.monotonic())
        )

    async def _m_sendPhoto(self, params: dict[str, Any]) -> web.Response:
        photo = params.get("photo")
        if not params.get("chat_id") or not isinstance(photo, str) or "://" not in photo:
            return _error(400, "Bad request: photo must be a URL")
        refused = self._quota_refused()
        if refused is not None:
            return refused
        item = ZaloSent(
            "sendPhoto",
            str(params["chat_id"]),
            f"s{next(self._ids):08x}",
            params.get("caption"),
            photo=photo,
            at=time.monotonic(),
        )
        return await self._record(item)

    async def _m_sendChatAction(self, params: dict[str, Any]) -> web.Response:
        self.actions.append((str(params.get("chat_id")), str(params.get("action"))))
        return _ok(True)

    async def _m_setWebhook(self, params: dict[str, Any]) -> web.Response:
        secret = str(params.get("secret_token") or "")
        if not params.get("url") or not 8 <= len(secret) <= 256:
            return _error(400, "Bad request: url and secret_token (8-256) are required")
        self.webhook = {"url": str(params["url"]), "secret_token": secret}
        return _ok({"url": params["url"], "updated_at": self._date()})

    async def _m_deleteWebhook(self, params: dict[str, Any]) -> web.Response:
        self.webhook = None
        return _ok({"url": "", "updated_at": self._date()})

    async def _m_getWebhookInfo(self, params: dict[str, Any]) -> web.Response:
        if self.webhook is None:
            return _error(404, "Not found")
        return _ok({"url": self.webhook["url"], "updated_at": self._date()})

    async def _deliver(self, event: dict[str, Any], *, secret: str | None = None) -> int:
        """POST the event to the webhook, in the chosen shape; 200 takes it off the queue."""
        assert self.webhook is not None
        body = {"ok": True, "result": event} if self.webhook_shape == "wrapped" else event
        headers = {"X-Bot-Api-Secret-Token": secret or str(self.webhook["secret_token"])}
        async with (
            ClientSession(timeout=ClientTimeout(total=10)) as client,
            client.post(self.webhook["url"], json=body, headers=headers) as response,
        ):
            self.deliveries.append(response.status)
            if response.status == 200 and event in self.pending:
                self.pending.remove(event)
            return response.status

    async def _cdn(self, request: web.Request) -> web.Response:
        """The CDN an image URL points at (a small JPEG unless ``cdn_files`` says otherwise)."""
        if self.cdn_expired:
            return web.Response(status=403, text="expired")
        content = self.cdn_files.get(request.match_info["name"], JPEG)
        return web.Response(body=content, content_type="image/jpeg")

    # --- the test endpoints (for a bot in another process) ------------------------------

    async def _test_message(self, request: web.Request) -> web.Response:
        body = await request.json()
        message_id = await self.inject_message(
            str(body["user_id"]), str(body["text"]), name=body.get("name", "Cán bộ")
        )
        return web.json_response({"message_id": message_id})

    async def _test_sent(self, request: web.Request) -> web.Response:
        chat_id = request.query.get("chat_id")
        items = self.sent if chat_id is None else self.sent_to(chat_id)
        return web.json_response(
            [
                {
                    "method": i.method,
                    "chat_id": i.chat_id,
                    "message_id": i.message_id,
                    "text": i.text,
                    "photo": i.photo,
                }
                for i in items
            ]
        )

    async def _test_state(self, request: web.Request) -> web.Response:
        return web.json_response(
            {
                "pending_updates": len(self.pending),
                "sent": len(self.sent),
                "quota_left": self.quota_left,
                "webhook": self.webhook["url"] if self.webhook else None,
            }
        )
