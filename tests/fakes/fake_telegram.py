"""A fake Telegram Bot API server (aiohttp on 127.0.0.1, random port) for tests and benchmarks.

It speaks the Bot API's wire format closely enough for aiogram's real HTTP session:
``POST /bot<token>/<method>`` with form-encoded, multipart or JSON bodies (``reply_markup``
arrives as a JSON string), answers ``{"ok": true, "result": ...}`` or
``{"ok": false, "error_code", "description", "parameters"}``.

The test drives it from Python (``inject_message``, ``press_button``, ``sent_to``, ``fail_next``)
or over HTTP (``POST /_test/message``, ``/_test/button``, ``GET /_test/sent``) when the bot runs
in another process. Long polling is real: ``getUpdates`` waits until an update arrives or the
timeout ends, and drops every update below ``offset`` (that is how Telegram confirms them).
"""

from __future__ import annotations

import asyncio
import json
import time
from collections import defaultdict
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from aiohttp import ClientSession, ClientTimeout, web

SEND_METHODS = frozenset({"sendMessage", "editMessageText", "sendDocument", "sendPhoto"})
BOT_USER = {"id": 1000, "is_bot": True, "first_name": "PAPI bot", "username": "papi_test_bot"}


@dataclass
class SentMessage:
    """What the bot sent (or edited), as the fake recorded it."""

    method: str
    chat_id: str
    message_id: int
    text: str | None
    reply_markup: dict[str, Any] | None = None
    reply_to_message_id: int | None = None
    file_name: str | None = None
    file_size: int | None = None
    at: float = 0.0

    @property
    def buttons(self) -> list[list[dict[str, Any]]]:
        if not self.reply_markup:
            return []
        rows: list[list[dict[str, Any]]] = self.reply_markup.get("inline_keyboard", [])
        return rows


@dataclass
class _Fault:
    method: str
    status: int | str  # 429, 500, 400, 403 or "timeout"
    chat_id: str | None
    retry_after: int


@dataclass
class _Bucket:
    """A token bucket: ``rate`` per second, bursts of ``rate`` (as aiolimiter allows)."""

    rate: float
    tokens: float = 0.0
    stamp: float = field(default_factory=time.monotonic)

    def __post_init__(self) -> None:
        self.tokens = max(self.rate, 1.0)

    def take(self) -> bool:
        now = time.monotonic()
        self.tokens = min(max(self.rate, 1.0), self.tokens + (now - self.stamp) * self.rate)
        self.stamp = now
        # A little slack for network jitter; debt carries over, so the long-run rate is exact.
        if self.tokens >= 0.8:
            self.tokens -= 1.0
            return True
        return False


async def read_params(request: web.Request) -> dict[str, Any]:
    """A Bot API call's parameters from a query, form, multipart or JSON body."""
    if request.content_type == "application/json":
        data = await request.json()
        return dict(data) if isinstance(data, dict) else {}
    params: dict[str, Any] = dict(request.query)
    if request.can_read_body:
        form = await request.post()
        for key, value in form.items():
            if isinstance(value, web.FileField):
                content = value.file.read()
                params[key] = {"file_name": value.filename, "size": len(content)}
            else:
                params[key] = value
    for key in ("reply_markup", "reply_parameters", "allowed_updates"):
        if isinstance(params.get(key), str):
            params[key] = json.loads(params[key])
    for key, value in list(params.items()):  # aiogram uploads as "document=attach://<field>"
        if isinstance(value, str) and value.startswith("attach://"):
            params[key] = params.pop(value.removeprefix("attach://"), value)
    return params


def _error(status: int, description: str, retry_after: int | None = None) -> web.Response:
    body: dict[str, Any] = {"ok": False, "error_code": status, "description": description}
    if retry_after is not None:
        body["parameters"] = {"retry_after": retry_after}
    return web.json_response(body, status=status)


def _ok(result: Any) -> web.Response:
    return web.json_response({"ok": True, "result": result})


class FakeTelegram:
    """The fake server. ``await start()``, use ``base_url`` as ``telegram.api_base``."""

    def __init__(self, token: str, *, hang_seconds: float = 3.0) -> None:
        self.token = token
        self.hang_seconds = hang_seconds  # how long an injected "timeout" keeps the request
        self.updates: list[dict[str, Any]] = []
        self.delivered: list[dict[str, Any]] = []  # every update ever pushed, for redelivery
        self.confirmed_offset = 0
        self.sent: list[SentMessage] = []
        self.calls: list[tuple[str, dict[str, Any]]] = []
        self.callback_answers: list[str] = []
        self.webhook: dict[str, Any] | None = None
        self.too_many_requests = 0  # 429s answered because a rate limit was exceeded
        self.faults: list[_Fault] = []
        self._next_update_id = 1
        self._message_ids: dict[str, int] = defaultdict(int)
        self._messages: dict[tuple[str, int], dict[str, Any]] = {}
        self._files: dict[str, dict[str, Any]] = {}
        self._blocked: set[str] = set()
        self._changed = asyncio.Condition()
        self._global: _Bucket | None = None
        self._per_chat_rate: float | None = None
        self._per_chat: dict[str, _Bucket] = {}
        self._strict_per_chat = False
        self._last_per_chat: dict[str, float] = {}  # strict: when each chat last got one
        self._runner: web.AppRunner | None = None
        self.port = 0
        self.on_sent: Callable[[SentMessage], None] | None = None  # e.g. a benchmark's clock

    # --- lifecycle ------------------------------------------------------------------------

    async def start(self) -> None:
        app = web.Application(client_max_size=64 * 1024 * 1024)
        app.router.add_route("*", "/bot{token}/{method}", self._api)
        app.router.add_get("/file/bot{token}/{path:.*}", self._download)
        app.router.add_post("/_test/message", self._test_message)
        app.router.add_post("/_test/button", self._test_button)
        app.router.add_get("/_test/sent", self._test_sent)
        app.router.add_get("/_test/state", self._test_state)
        self._runner = web.AppRunner(app, access_log=None, handler_cancellation=True)
        await self._runner.setup()
        site = web.TCPSite(self._runner, "127.0.0.1", 0)
        await site.start()
        server = site._server
        assert server is not None
        sockets = getattr(server, "sockets", None) or []
        self.port = int(sockets[0].getsockname()[1])

    async def stop(self) -> None:
        if self._runner is not None:
            await self._runner.cleanup()
            self._runner = None

    @property
    def base_url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    # --- what the test controls ----------------------------------------------------------

    def limit(
        self,
        *,
        global_per_second: float | None,
        per_chat_per_second: float | None,
        strict_per_chat: bool = False,
    ) -> None:
        """Enforce Telegram's limits: past them, 429 with retry_after. ``strict_per_chat``:
        two sends to one chat closer than 1/rate apart (as they arrive here) are too many,
        with none of the bucket's slack for jitter (a cautious reading of "about one a
        second"; a sender pacing at exactly 1/rate gets some of these)."""
        self._global = _Bucket(global_per_second) if global_per_second else None
        self._per_chat_rate = per_chat_per_second
        self._per_chat = {}
        self._strict_per_chat = strict_per_chat
        self._last_per_chat = {}

    def fail_next(
        self,
        method: str,
        status: int | str,
        *,
        times: int = 1,
        chat_id: str | None = None,
        retry_after: int = 1,
    ) -> None:
        """The next ``times`` calls of ``method`` (for ``chat_id``, if given) fail so."""
        for _ in range(times):
            self.faults.append(_Fault(method, status, chat_id, retry_after))

    def block(self, chat_id: str | int) -> None:
        """The user blocked the bot: sending to them answers 403."""
        self._blocked.add(str(chat_id))

    def _user(self, user_id: int, name: str) -> dict[str, Any]:
        return {"id": user_id, "is_bot": False, "first_name": name, "language_code": "vi"}

    def _new_message_id(self, chat_id: str) -> int:
        self._message_ids[chat_id] += 1
        return self._message_ids[chat_id]

    async def _push(self, update: dict[str, Any]) -> int:
        update["update_id"] = self._next_update_id
        self._next_update_id += 1
        self.updates.append(update)
        self.delivered.append(update)
        async with self._changed:
            self._changed.notify_all()
        if self.webhook is not None:
            await self._deliver_webhook(update)
        return int(update["update_id"])

    async def inject_message(
        self,
        user_id: int,
        text: str | None = None,
        *,
        name: str = "Cán bộ",
        reply_to: int | None = None,
        photo: bool = False,
        document: str | None = None,
        caption: str | None = None,
        group: int | None = None,
    ) -> int:
        """A user writes to the bot (private chat: chat id = user id; or in the group chat
        ``group``, a supergroup); the update id."""
        chat_id = str(user_id if group is None else group)
        chat: dict[str, Any] = {"id": user_id, "type": "private", "first_name": name}
        if group is not None:
            chat = {"id": group, "type": "supergroup", "title": "Tổ công tác PAPI"}
        message: dict[str, Any] = {
            "message_id": self._new_message_id(chat_id),
            "date": int(time.time()),
            "chat": chat,
            "from": self._user(user_id, name),
        }
        if text is not None:
            message["text"] = text
        if caption is not None:
            message["caption"] = caption
        if reply_to is not None and (chat_id, reply_to) in self._messages:
            message["reply_to_message"] = self._messages[(chat_id, reply_to)]
        if photo:
            uid = f"ph{len(self._files) + 1}"
            sizes = [
                {
                    "file_id": f"{uid}-s",
                    "file_unique_id": f"{uid}s",
                    "width": 90,
                    "height": 90,
                    "file_size": 1200,
                },
                {
                    "file_id": f"{uid}-m",
                    "file_unique_id": f"{uid}m",
                    "width": 800,
                    "height": 600,
                    "file_size": 54000,
                },
            ]
            message["photo"] = sizes
            self._files[f"{uid}-m"] = {"file_unique_id": f"{uid}m", "file_size": 54000}
        if document is not None:
            uid = f"doc{len(self._files) + 1}"
            message["document"] = {
                "file_id": uid,
                "file_unique_id": f"u{uid}",
                "file_name": document,
                "mime_type": "application/pdf",
                "file_size": 20480,
            }
            self._files[uid] = {"file_unique_id": f"u{uid}", "file_size": 20480}
        self._messages[(chat_id, message["message_id"])] = message
        return await self._push({"message": message})

    async def inject_raw(self, update: dict[str, Any]) -> int:
        """An update exactly as given (malformed ones too), with the next update id."""
        return await self._push(json.loads(json.dumps(update)))

    async def redeliver(self, update_id: int) -> None:
        """Telegram sends an update again (the bot did not confirm it before it stopped)."""
        original = next(u for u in self.delivered if u["update_id"] == update_id)
        self.updates.append(json.loads(json.dumps(original)))
        async with self._changed:
            self._changed.notify_all()

    def restart_update_ids(self) -> None:
        """Update ids start again from 1 (a new token on the same database, or the Bot API's
        sequence restarting after a quiet week); message ids per chat go on."""
        self._next_update_id = 1
        self.confirmed_offset = 0

    async def press_button(
        self, user_id: int, message_id: int, data: str, *, name: str = "Cán bộ"
    ) -> int:
        """The user presses an inline button on the bot's message ``message_id``."""
        chat_id = str(user_id)
        message = self._messages.get((chat_id, message_id)) or {
            "message_id": message_id,
            "date": 0,
            "chat": {"id": user_id, "type": "private"},
        }
        query = {
            "id": f"cb{len(self.delivered) + 1}",  # unique for ever, as Telegram's are
            "from": self._user(user_id, name),
            "chat_instance": f"ci{user_id}",
            "data": data,
            "message": message,
        }
        return await self._push({"callback_query": query})

    def sent_to(self, chat_id: str | int) -> list[SentMessage]:
        return [item for item in self.sent if item.chat_id == str(chat_id)]

    async def wait_sent(
        self, count: int, *, chat_id: str | int | None = None, wait_seconds: float = 20.0
    ) -> list[SentMessage]:
        """Wait until at least ``count`` messages were sent (to ``chat_id``, if given)."""

        async def enough() -> list[SentMessage]:
            async with self._changed:
                while True:
                    found = self.sent if chat_id is None else self.sent_to(chat_id)
                    if len(found) >= count:
                        return list(found)
                    await self._changed.wait()

        return await asyncio.wait_for(enough(), wait_seconds)

    async def wait_confirmed(self, offset: int, *, wait_seconds: float = 20.0) -> None:
        """Wait until the bot confirmed every update below ``offset``."""

        async def done() -> None:
            async with self._changed:
                while self.confirmed_offset < offset:
                    await self._changed.wait()

        await asyncio.wait_for(done(), wait_seconds)

    # --- the Bot API -----------------------------------------------------------------------

    async def _params(self, request: web.Request) -> dict[str, Any]:
        return await read_params(request)

    async def _api(self, request: web.Request) -> web.StreamResponse:
        if request.match_info["token"] != self.token:
            return _error(401, "Unauthorized")
        method = request.match_info["method"]
        params = await self._params(request)
        self.calls.append((method, params))
        fault = self._take_fault(method, params)
        if fault is not None:
            if fault.status == "timeout":
                await asyncio.sleep(self.hang_seconds)  # nothing done: the client gave up
                raise web.HTTPGatewayTimeout()
            status = int(fault.status)
            return _error(
                status,
                {
                    429: f"Too Many Requests: retry after {fault.retry_after}",
                    403: "Forbidden: bot was blocked by the user",
                    400: "Bad Request: injected",
                }.get(status, "Internal Server Error"),
                fault.retry_after if status == 429 else None,
            )
        if method in SEND_METHODS:
            refused = self._check_send(params)
            if refused is not None:
                return refused
        handler = getattr(self, f"_m_{method}", None)
        if handler is None:
            return _error(404, "Not Found: method not found")
        result: web.StreamResponse = await handler(params)
        return result

    def _take_fault(self, method: str, params: dict[str, Any]) -> _Fault | None:
        for index, fault in enumerate(self.faults):
            if fault.method == method and fault.chat_id in (None, str(params.get("chat_id"))):
                return self.faults.pop(index)
        return None

    def _check_send(self, params: dict[str, Any]) -> web.Response | None:
        chat_id = str(params.get("chat_id", ""))
        if chat_id in self._blocked:
            return _error(403, "Forbidden: bot was blocked by the user")
        if self._per_chat_rate and self._strict_per_chat:
            now, last = time.monotonic(), self._last_per_chat.get(chat_id)
            if last is not None and now - last < 1.0 / self._per_chat_rate:
                self.too_many_requests += 1
                return _error(429, "Too Many Requests: retry after 1", 1)
        elif self._per_chat_rate:
            bucket = self._per_chat.setdefault(chat_id, _Bucket(self._per_chat_rate))
            if not bucket.take():
                self.too_many_requests += 1
                return _error(429, "Too Many Requests: retry after 1", 1)
        if self._global is not None and not self._global.take():
            self.too_many_requests += 1
            return _error(429, "Too Many Requests: retry after 1", 1)
        if self._strict_per_chat:
            self._last_per_chat[chat_id] = time.monotonic()
        return None

    async def _record(self, item: SentMessage, message: dict[str, Any]) -> None:
        self._messages[(item.chat_id, item.message_id)] = message
        self.sent.append(item)
        if self.on_sent is not None:
            self.on_sent(item)
        async with self._changed:
            self._changed.notify_all()

    def _bot_message(self, chat_id: str, message_id: int, **extra: Any) -> dict[str, Any]:
        return {
            "message_id": message_id,
            "date": int(time.time()),
            "chat": {"id": int(chat_id), "type": "private"},
            "from": BOT_USER,
            **extra,
        }

    @staticmethod
    def _reply_to(params: dict[str, Any]) -> int | None:
        reply = params.get("reply_parameters")
        if isinstance(reply, dict) and "message_id" in reply:
            return int(reply["message_id"])
        if params.get("reply_to_message_id"):
            return int(params["reply_to_message_id"])
        return None

    async def _m_getMe(self, params: dict[str, Any]) -> web.Response:
        return _ok(BOT_USER)

    async def _m_getUpdates(self, params: dict[str, Any]) -> web.Response:
        offset = int(params.get("offset") or 0)
        limit = int(params.get("limit") or 100)
        wait = float(params.get("timeout") or 0)
        if offset:
            self.confirmed_offset = max(self.confirmed_offset, offset)
            self.updates = [u for u in self.updates if u["update_id"] >= offset]
            async with self._changed:
                self._changed.notify_all()
        deadline = time.monotonic() + wait
        async with self._changed:
            while not self.updates and time.monotonic() < deadline:
                try:
                    await asyncio.wait_for(self._changed.wait(), deadline - time.monotonic())
                except TimeoutError:
                    break
        return _ok(self.updates[:limit])

    async def _m_sendMessage(self, params: dict[str, Any]) -> web.Response:
        chat_id = str(params["chat_id"])
        text = str(params.get("text", ""))
        if not 1 <= len(text) <= 4096:
            return _error(400, "Bad Request: message text is empty or too long")
        markup = params.get("reply_markup")
        error = _check_markup(markup)
        if error:
            return _error(400, error)
        message_id = self._new_message_id(chat_id)
        message = self._bot_message(chat_id, message_id, text=text)
        if markup:
            message["reply_markup"] = markup
        item = SentMessage(
            "sendMessage",
            chat_id,
            message_id,
            text,
            markup,
            self._reply_to(params),
            at=time.monotonic(),
        )
        await self._record(item, message)
        return _ok(message)

    async def _m_editMessageText(self, params: dict[str, Any]) -> web.Response:
        chat_id = str(params["chat_id"])
        message_id = int(params["message_id"])
        old = self._messages.get((chat_id, message_id))
        if old is None:
            return _error(400, "Bad Request: message to edit not found")
        text = str(params.get("text", ""))
        markup = params.get("reply_markup")
        if old.get("text") == text and old.get("reply_markup") == markup:
            return _error(400, "Bad Request: message is not modified")
        message = {**old, "text": text, "reply_markup": markup, "edit_date": int(time.time())}
        item = SentMessage(
            "editMessageText", chat_id, message_id, text, markup, at=time.monotonic()
        )
        await self._record(item, message)
        return _ok(message)

    async def _send_file(
        self, method: str, field_name: str, params: dict[str, Any]
    ) -> web.Response:
        chat_id = str(params["chat_id"])
        upload = params.get(field_name)
        if not isinstance(upload, dict):
            return _error(400, f"Bad Request: there is no {field_name} in the request")
        message_id = self._new_message_id(chat_id)
        file_id = f"sent-{method}-{message_id}"
        self._files[file_id] = {"file_unique_id": f"u{file_id}", "file_size": upload["size"]}
        extra: dict[str, Any] = {}
        if params.get("caption"):
            extra["caption"] = params["caption"]
        if field_name == "photo":
            extra["photo"] = [
                {
                    "file_id": file_id,
                    "file_unique_id": f"u{file_id}",
                    "width": 1,
                    "height": 1,
                    "file_size": upload["size"],
                }
            ]
        else:
            extra["document"] = {
                "file_id": file_id,
                "file_unique_id": f"u{file_id}",
                "file_name": upload["file_name"],
                "file_size": upload["size"],
            }
        message = self._bot_message(chat_id, message_id, **extra)
        item = SentMessage(
            method,
            chat_id,
            message_id,
            params.get("caption"),
            reply_to_message_id=self._reply_to(params),
            file_name=upload["file_name"],
            file_size=upload["size"],
            at=time.monotonic(),
        )
        await self._record(item, message)
        return _ok(message)

    async def _m_sendDocument(self, params: dict[str, Any]) -> web.Response:
        return await self._send_file("sendDocument", "document", params)

    async def _m_sendPhoto(self, params: dict[str, Any]) -> web.Response:
        return await self._send_file("sendPhoto", "photo", params)

    async def _m_answerCallbackQuery(self, params: dict[str, Any]) -> web.Response:
        self.callback_answers.append(str(params.get("callback_query_id")))
        return _ok(True)

    async def _m_getFile(self, params: dict[str, Any]) -> web.Response:
        file_id = str(params.get("file_id"))
        info = self._files.get(file_id)
        if info is None:
            return _error(400, "Bad Request: invalid file_id")
        return _ok({"file_id": file_id, **info, "file_path": f"files/{file_id}.bin"})

    async def _m_setWebhook(self, params: dict[str, Any]) -> web.Response:
        self.webhook = {"url": params["url"], "secret_token": params.get("secret_token")}
        return _ok(True)

    async def _m_deleteWebhook(self, params: dict[str, Any]) -> web.Response:
        self.webhook = None
        return _ok(True)

    async def _m_getWebhookInfo(self, params: dict[str, Any]) -> web.Response:
        url = self.webhook["url"] if self.webhook else ""
        return _ok(
            {"url": url, "has_custom_certificate": False, "pending_update_count": len(self.updates)}
        )

    async def _download(self, request: web.Request) -> web.Response:
        if request.match_info["token"] != self.token:
            return web.Response(status=401)
        return web.Response(body=b"fake file content")

    async def _deliver_webhook(self, update: dict[str, Any]) -> None:
        """POST the update to the registered webhook, as Telegram does (it retries on error)."""
        assert self.webhook is not None
        headers = {}
        if self.webhook.get("secret_token"):
            headers["X-Telegram-Bot-Api-Secret-Token"] = str(self.webhook["secret_token"])
        async with (
            ClientSession(timeout=ClientTimeout(total=30)) as client,
            client.post(self.webhook["url"], json=update, headers=headers) as response,
        ):
            if response.status == 200:
                self.updates.remove(update)

    # --- the test endpoints (for a bot or benchmark in another process) ----------------

    async def _test_message(self, request: web.Request) -> web.Response:
        body = await request.json()
        update_id = await self.inject_message(
            int(body["user_id"]),
            body.get("text"),
            name=body.get("name", "Cán bộ"),
            reply_to=body.get("reply_to"),
            photo=bool(body.get("photo")),
            document=body.get("document"),
            caption=body.get("caption"),
        )
        return web.json_response({"update_id": update_id})

    async def _test_button(self, request: web.Request) -> web.Response:
        body = await request.json()
        update_id = await self.press_button(
            int(body["user_id"]), int(body["message_id"]), str(body["data"])
        )
        return web.json_response({"update_id": update_id})

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
                    "buttons": i.buttons,
                    "file_name": i.file_name,
                }
                for i in items
            ]
        )

    async def _test_state(self, request: web.Request) -> web.Response:
        return web.json_response(
            {
                "pending_updates": len(self.updates),
                "confirmed_offset": self.confirmed_offset,
                "sent": len(self.sent),
                "too_many_requests": self.too_many_requests,
            }
        )


def _check_markup(markup: Any) -> str | None:
    """Telegram's checks on an inline keyboard: callback_data 1..64 bytes."""
    if not markup:
        return None
    for row in markup.get("inline_keyboard", []):
        for button in row:
            data = button.get("callback_data")
            if data is not None and not 1 <= len(str(data).encode()) <= 64:
                return "Bad Request: BUTTON_DATA_INVALID"
    return None
