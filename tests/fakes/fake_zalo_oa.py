"""A fake Zalo Official Account API + OAuth server (aiohttp on 127.0.0.1, random port).

One server plays both ``openapi.zalo.me`` (``/v3.0/oa/message/cs``, ``/v2.0/oa/upload/image``,
``/v3.0/oa/user/detail``, header ``access_token``) and ``oauth.zaloapp.com``
(``/v4/oa/access_token``, header ``secret_key``): use ``base_url`` for both settings.

Tokens behave as REFERENCE.md describes: the refresh token is single-use and rotates with
every refresh (an old one is refused); access tokens expire (``expire_access``) or are
refused (−216). ``hang_refresh_seconds`` answers a refresh only after that delay, *after*
rotating — cancel the client meanwhile and you have a crash between refresh and store.
``hold_next_refresh(after_rotation=…)`` makes the next refresh wait for ``release_refresh``
(``refresh_held`` is set once it waits): before rotating (then ``release_refresh(rotate=False)``
drops it, as a request that never reached Zalo) or after rotating, with the answer not yet
sent — SIGKILL the bot meanwhile and it dies in flight. ``outside_window(user)`` answers
−230 (or −232) for that user. Events for the bot's webhook
are built and signed here (``text_event``, ``image_event``, ``file_event``, ``follow_event``,
``signed``; ``forge=True`` signs with a wrong key) and POSTed by ``deliver``. A bot in another
process is driven over HTTP: ``POST /_test/text``, ``GET /_test/sent``, ``GET /_test/state``.
"""

from __future__ import annotations

import asyncio
import base64
import hashlib
import itertools
import json
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from aiohttp import ClientSession, ClientTimeout, web

OA_ID = "579745863508352884"


JPEG = b"\xff\xd8\xff\xe0\x00\x10JFIF\x00" + b"\x00" * 200 + b"\xff\xd9"


@dataclass
class OASent:
    user_id: str
    kind: str  # "text" | "buttons" | "image"
    text: str | None
    message_id: str
    access_token: str
    buttons: list[dict[str, Any]] | None = None
    attachment_id: str | None = None


def _fail(code: int, message: str) -> web.Response:
    return web.json_response({"error": code, "message": message})


def _ok(data: dict[str, Any]) -> web.Response:
    return web.json_response({"error": 0, "message": "Success", "data": data})


def signature(app_id: str, body: bytes, timestamp: str, secret_key: str) -> str:
    return hashlib.sha256(
        app_id.encode() + body + timestamp.encode() + secret_key.encode()
    ).hexdigest()


class FakeZaloOA:
    def __init__(
        self,
        *,
        app_id: str = "4321098765432109876",
        app_secret: str = "app-secret-value",
        secret_key: str = "oa-webhook-secret-key",
        expires_in: str = "90000",
    ) -> None:
        self.app_id = app_id
        self.app_secret = app_secret
        self.secret_key = secret_key
        self.expires_in = expires_in
        self.valid_access: set[str] = set()
        self.current_refresh: str | None = None
        self.refreshes: list[str] = []  # refresh tokens presented, in order
        self.revoke_old_access = False  # unconfirmed: whether Zalo kills the old access token
        self.hang_refresh_seconds = 0.0
        self._gate: asyncio.Event | None = None  # hold_next_refresh
        self._hold_after = False
        self._rotate_on_release = True
        self.refresh_held = asyncio.Event()
        self.refresh_faults: list[int] = []
        self.faults: list[tuple[str, int]] = []  # (path, OA error code or HTTP status ≥ 500)
        self.unreachable: dict[str, int] = {}
        self.template_refused = False  # an OA whose package has no button templates
        self.sent: list[OASent] = []
        self.uploads: dict[str, int] = {}
        self.token_uses: list[str] = []
        self.on_api_call: Callable[[str], None] | None = None
        self.webhook_url: str | None = None
        self.codes: dict[str, str] = {}  # consent code → PKCE challenge
        self._seq = itertools.count(1)
        self.cdn_files: dict[str, bytes] = {}  # name → content; others get a small JPEG
        self.cdn_expired = False  # Zalo's CDN links expire: then 403
        self._runner: web.AppRunner | None = None
        self.port = 0

    # --- lifecycle ------------------------------------------------------------------------

    async def start(self) -> None:
        app = web.Application(client_max_size=8 * 1024 * 1024)
        app.router.add_post("/v3.0/oa/message/cs", self._message)
        app.router.add_post("/v2.0/oa/upload/image", self._upload)
        app.router.add_get("/v3.0/oa/user/detail", self._user_detail)
        app.router.add_post("/v4/oa/access_token", self._access_token)
        app.router.add_get("/cdn/{name}", self._cdn)
        app.router.add_post("/_test/text", self._test_text)
        app.router.add_get("/_test/sent", self._test_sent)
        app.router.add_get("/_test/state", self._test_state)
        self._runner = web.AppRunner(app, access_log=None, handler_cancellation=False)
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
        return f"http://127.0.0.1:{self.port}"

    # --- tokens -----------------------------------------------------------------------------

    def issue_pair(self) -> tuple[str, str]:
        """A fresh pair, as an authorisation would give; the previous refresh token dies."""
        n = next(self._seq)
        access, refresh = f"access-{n}-{'a' * 40}", f"refresh-{n}-{'r' * 40}"
        self.valid_access.add(access)
        self.current_refresh = refresh
        return access, refresh

    def expire_access(self, token: str | None = None) -> None:
        """``token`` (or every access token) is refused from now on (−216)."""
        if token is None:
            self.valid_access.clear()
        else:
            self.valid_access.discard(token)

    def new_code(self, challenge: str) -> str:
        code = f"code-{next(self._seq)}"
        self.codes[code] = challenge
        return code

    async def _access_token(self, request: web.Request) -> web.Response:
        form = await request.post()
        if request.headers.get("secret_key") != self.app_secret:
            return web.json_response({"error": -14002, "error_name": "Invalid secret key"})
        if str(form.get("app_id")) != self.app_id:
            return web.json_response({"error": -14001, "error_name": "Invalid app id"})
        if self.refresh_faults:
            return web.json_response({"error": self.refresh_faults.pop(0), "error_name": "fault"})
        grant = str(form.get("grant_type"))
        if grant == "authorization_code":
            challenge = self.codes.pop(str(form.get("code")), None)
            verifier = str(form.get("code_verifier", "")).encode()
            digest = base64.urlsafe_b64encode(hashlib.sha256(verifier).digest()).rstrip(b"=")
            if challenge is None or digest.decode() != challenge:
                return web.json_response({"error": -14019, "error_name": "Invalid code"})
        elif grant == "refresh_token":
            if self._gate is not None and not self._hold_after:
                await self._wait_at_gate()
                if not self._rotate_on_release:  # never reached Zalo: nothing rotated
                    return web.Response(status=503, text="dropped")
            presented = str(form.get("refresh_token"))
            self.refreshes.append(presented)
            if presented != self.current_refresh:  # single use: a spent token is refused
                return web.json_response({"error": -14014, "error_name": "Invalid refresh token"})
        else:
            return web.json_response({"error": -14003, "error_name": "Invalid grant type"})
        old = set(self.valid_access)
        access, refresh = self.issue_pair()
        if self.revoke_old_access:
            self.valid_access -= old
        if self.hang_refresh_seconds:
            await asyncio.sleep(self.hang_refresh_seconds)  # rotated, not yet answered
        if grant == "refresh_token" and self._gate is not None and self._hold_after:
            await self._wait_at_gate()  # rotated, not yet answered
        return web.json_response(
            {"access_token": access, "refresh_token": refresh, "expires_in": self.expires_in}
        )

    def hold_next_refresh(self, *, after_rotation: bool) -> None:
        """The next refresh call waits for ``release_refresh`` (``refresh_held`` is set then),
        before rotating the pair or after rotating it (the answer not yet sent)."""
        self._gate = asyncio.Event()
        self._hold_after = after_rotation
        self._rotate_on_release = True
        self.refresh_held.clear()

    def release_refresh(self, *, rotate: bool = True) -> None:
        """Let the held refresh go on; ``rotate=False`` (held before rotating): drop it."""
        if self._gate is not None:
            self._rotate_on_release = rotate
            self._gate.set()

    async def _wait_at_gate(self) -> None:
        gate = self._gate
        assert gate is not None
        self.refresh_held.set()
        await gate.wait()
        self._gate = None

    # --- the OA API -----------------------------------------------------------------------

    def fail_next(self, path: str, code: int) -> None:
        self.faults.append((path, code))

    def outside_window(self, user_id: str, code: int = -230) -> None:
        self.unreachable[user_id] = code

    def _check(self, request: web.Request) -> web.Response | str:
        token = request.headers.get("access_token", "")
        self.token_uses.append(token)
        if self.on_api_call is not None:
            self.on_api_call(token)
        for index, (path, code) in enumerate(self.faults):
            if path == request.path:
                self.faults.pop(index)
                if code >= 500:
                    return web.Response(status=code, text="server error")
                return _fail(code, "injected")
        if token not in self.valid_access:
            return _fail(-216, "Access token is invalid")
        return token

    async def _message(self, request: web.Request) -> web.Response:
        checked = self._check(request)
        if isinstance(checked, web.Response):
            return checked
        body = await request.json()
        user_id = str(body.get("recipient", {}).get("user_id") or "")
        if user_id in self.unreachable:
            return _fail(self.unreachable[user_id], "User has not interacted with the OA")
        message = body.get("message") or {}
        attachment = message.get("attachment")
        message_id = f"oa{next(self._seq):010d}"
        if attachment is None:
            text = str(message.get("text") or "")
            if not 1 <= len(text) <= 2000:
                return _fail(-201, "text is invalid")
            self.sent.append(OASent(user_id, "text", text, message_id, checked))
        else:
            payload = attachment.get("payload") or {}
            kind = payload.get("template_type")
            if kind == "button":
                if self.template_refused:
                    return _fail(-240, "this OA cannot send this template")
                self.sent.append(
                    OASent(
                        user_id,
                        "buttons",
                        payload.get("text"),
                        message_id,
                        checked,
                        buttons=payload.get("buttons"),
                    )
                )
            elif kind == "media":
                element = (payload.get("elements") or [{}])[0]
                attachment_id = str(element.get("attachment_id"))
                if attachment_id not in self.uploads:
                    return _fail(-201, "attachment_id is invalid")
                self.sent.append(
                    OASent(
                        user_id,
                        "image",
                        message.get("text"),
                        message_id,
                        checked,
                        attachment_id=attachment_id,
                    )
                )
            else:
                return _fail(-201, "unknown template")
        return _ok({"message_id": message_id, "user_id": user_id})

    async def _upload(self, request: web.Request) -> web.Response:
        checked = self._check(request)
        if isinstance(checked, web.Response):
            return checked
        form = await request.post()
        upload = form.get("file")
        if not isinstance(upload, web.FileField):
            return _fail(-201, "file is missing")
        attachment_id = f"att{next(self._seq)}"
        self.uploads[attachment_id] = len(upload.file.read())
        return _ok({"attachment_id": attachment_id})

    async def _user_detail(self, request: web.Request) -> web.Response:
        checked = self._check(request)
        if isinstance(checked, web.Response):
            return checked
        user_id = str(json.loads(request.query.get("data", "{}")).get("user_id"))
        return _ok({"user_id": user_id, "display_name": f"Người dùng {user_id[-4:]}"})

    # --- events for the bot's webhook -----------------------------------------------------

    def _event(self, name: str, user_id: str, message: dict[str, Any] | None) -> dict[str, Any]:
        event: dict[str, Any] = {
            "app_id": self.app_id,
            "user_id_by_app": f"app{user_id}",
            "event_name": name,
            "sender": {"id": user_id},
            "recipient": {"id": OA_ID},
            "timestamp": str(int(time.time() * 1000)),
        }
        if message is not None:
            event["message"] = message
        return event

    def _msg_id(self) -> str:
        return f"{next(self._seq):032x}"

    def text_event(self, user_id: str, text: str) -> dict[str, Any]:
        return self._event("user_send_text", user_id, {"text": text, "msg_id": self._msg_id()})

    def image_event(
        self, user_id: str, text: str = "", *, content: bytes | None = None
    ) -> dict[str, Any]:
        """``user_send_image``; the CDN serves ``content`` at its URL (default: a small JPEG)."""
        name = f"img{next(self._seq)}.jpg"
        if content is not None:
            self.cdn_files[name] = content
        payload = {"url": f"{self.base_url}/cdn/{name}", "thumbnail": ""}
        message = {
            "text": text,
            "msg_id": self._msg_id(),
            "attachments": [{"type": "image", "payload": payload}],
        }
        return self._event("user_send_image", user_id, message)

    def file_event(
        self, user_id: str, name: str = "bao-cao.pdf", size: int = 20480
    ) -> dict[str, Any]:
        payload = {"url": f"{self.base_url}/cdn/{name}", "name": name, "size": str(size)}
        message = {"msg_id": self._msg_id(), "attachments": [{"type": "file", "payload": payload}]}
        return self._event("user_send_file", user_id, message)

    def follow_event(self, user_id: str, *, follow: bool = True) -> dict[str, Any]:
        event = self._event("follow" if follow else "unfollow", user_id, None)
        event["follower"] = {"id": user_id}
        del event["sender"]
        return event

    def signed(
        self, event: dict[str, Any], *, forge: bool = False, mac_prefix: bool = False
    ) -> tuple[bytes, dict[str, str]]:
        """The raw body and headers Zalo would send (``forge``: signed with a wrong key)."""
        body = json.dumps(event, ensure_ascii=False).encode()
        key = self.secret_key + ("-forged" if forge else "")
        mac = signature(self.app_id, body, str(event.get("timestamp", "")), key)
        headers = {
            "X-ZEvent-Signature": f"mac={mac}" if mac_prefix else mac,
            "Content-Type": "application/json",
        }
        return body, headers

    async def deliver(self, url: str, event: dict[str, Any], **options: bool) -> int:
        body, headers = self.signed(event, **options)
        async with (
            ClientSession(timeout=ClientTimeout(total=10)) as client,
            client.post(url, data=body, headers=headers) as response,
        ):
            return response.status

    async def _cdn(self, request: web.Request) -> web.Response:
        """The CDN an image URL points at (a small JPEG unless ``cdn_files`` says otherwise)."""
        if self.cdn_expired:
            return web.Response(status=403, text="expired")
        content = self.cdn_files.get(request.match_info["name"], JPEG)
        return web.Response(body=content, content_type="image/jpeg")

    # --- the test endpoints -----------------------------------------------------------------

    async def _test_text(self, request: web.Request) -> web.Response:
        body = await request.json()
        event = self.text_event(str(body["user_id"]), str(body["text"]))
        status = await self.deliver(self.webhook_url, event) if self.webhook_url else None
        return web.json_response({"msg_id": event["message"]["msg_id"], "status": status})

    async def _test_sent(self, request: web.Request) -> web.Response:
        return web.json_response(
            [
                {"user_id": s.user_id, "kind": s.kind, "text": s.text, "message_id": s.message_id}
                for s in self.sent
            ]
        )

    async def _test_state(self, request: web.Request) -> web.Response:
        return web.json_response(
            {
                "sent": len(self.sent),
                "refreshes": len(self.refreshes),
                "current_refresh_set": self.current_refresh is not None,
            }
        )
