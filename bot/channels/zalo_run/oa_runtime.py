"""Zalo OA as a running channel: the signed webhook into the inbox, the worker, the sender.

Start: ``ZALO_OA_REFRESH_TOKEN`` seeds an empty database once; the route
``zalo.oa.webhook_path`` on the shared webhook server checks the signature (a bad one: 401,
nothing stored) and stores the event before the 200. No call is made to Zalo at start: the
token pair is refreshed on the first send that needs it (``OATokenManager``).
"""

from __future__ import annotations

import asyncio
import contextlib
import hashlib
import json
import logging
from typing import Any

import httpx
from sqlalchemy.engine import Engine

from bot.channels.base import StartupError
from bot.channels.kind import ChannelDeps
from bot.channels.zalo_bot import setup as bot_setup
from bot.channels.zalo_oa import setup, webhook
from bot.channels.zalo_oa.channel import ZaloOAChannel
from bot.channels.zalo_oa.events import OAFollow, parse_event
from bot.channels.zalo_run.evidence import keep_evidence
from bot.channels.zalo_run.inbox import Inbox
from bot.web.file_links import file_url_maker

log = logging.getLogger("papi_bot")
NAME = "zalo_oa"


def event_key(event: dict[str, Any]) -> str:
    """The dedupe key: the message's ``msg_id``; else (follow) a digest of the event."""
    message = event.get("message")
    if isinstance(message, dict) and message.get("msg_id") not in (None, ""):
        return str(message["msg_id"])
    canonical = json.dumps(event, sort_keys=True, ensure_ascii=False).encode()
    return f"sha:{hashlib.sha256(canonical).hexdigest()[:40]}"


class ZaloOARuntime:
    name = NAME

    def __init__(
        self, sender: ZaloOAChannel, http: httpx.AsyncClient, deps: ChannelDeps, engine: Engine
    ) -> None:
        self.sender = sender
        self._http = http
        self._deps = deps
        self.inbox = Inbox(engine, NAME, event_key, deps.clock)

    async def process(self, event: dict[str, Any]) -> None:
        parsed = parse_event(
            event,
            self._deps.clock.now(),
            payload_prefix=self._deps.settings.zalo.oa.button_payload_prefix,
        )
        if isinstance(parsed, OAFollow):
            log.info("zalo_oa: a user %s", "followed" if parsed.followed else "unfollowed")
            return
        if parsed is not None:  # photos first: their links expire, the event is already stored
            parsed = await keep_evidence(parsed, self._http, self._deps.settings)
            await self._deps.apply(parsed)

    async def receive(self, stop: asyncio.Event) -> None:
        worker = asyncio.create_task(self.inbox.run(self.process, stop))
        try:
            await worker
        finally:
            worker.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await worker

    async def close(self) -> None:
        await self._http.aclose()


async def start(deps: ChannelDeps) -> ZaloOARuntime:
    if deps.engine is None:
        raise StartupError("zalo_oa needs the database (tokens and the webhook inbox)")
    settings, engine = deps.settings, deps.engine
    oa = settings.zalo.oa
    http = bot_setup.http_client(settings)
    try:
        await asyncio.to_thread(setup.seed_from_env, settings, engine, deps.clock)
        parts = setup.oa_from_settings(settings, engine, http, deps.clock)
        sender = ZaloOAChannel(parts.client, file_url=file_url_maker(settings))
        runtime = ZaloOARuntime(sender, http, deps, engine)
        handler = webhook.make_handler(
            runtime.inbox.store,
            app_id=parts.app_id,
            secret_key=parts.secret_key,
            clock=deps.clock,
            slack_seconds=oa.signature_slack_seconds,
            max_body_bytes=oa.max_body_bytes,
        )
        await deps.hub.add(oa.webhook_path, handler)
    except ValueError as exc:  # a missing secret: the message names the variable
        await http.aclose()
        raise StartupError(str(exc)) from None
    except BaseException:
        await http.aclose()
        raise
    log.info("zalo_oa: webhook at %s", oa.webhook_path)
    return runtime
