"""Zalo Bot as a running channel: ``start`` connects, ``receive`` serves the inbox.

Start: ``getMe`` (a wrong token stops the start with a clear message). Webhook mode (the
production one): the route ``zalo.webhook_path`` on the shared webhook server stores each
update in the inbox before answering 200, then ``setWebhook(webhook_base_url + path)``.
Polling mode (development only, ``zalo.mode = "polling"``): refuses while a webhook is set
(``deleteWebhook`` is never called for you), stores what ``getUpdates`` returns in the same
inbox, so a replayed update is applied once. Either way the inbox worker parses and applies.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from typing import Any

import httpx
from sqlalchemy.engine import Engine

from bot.channels.base import OutgoingMessage, SendError, StartupError
from bot.channels.kind import ChannelDeps
from bot.channels.zalo_bot import polling, setup, webhook
from bot.channels.zalo_bot.channel import ZaloBotChannel
from bot.channels.zalo_bot.client import ZaloBotClient
from bot.channels.zalo_bot.errors import ZaloBotError, ZaloConfigError, ZaloWebhookActive
from bot.channels.zalo_bot.updates import AskForText, ask_for_text_message, parse_update, update_key
from bot.channels.zalo_run.evidence import keep_evidence
from bot.channels.zalo_run.inbox import Inbox
from bot.web.file_links import file_url_maker
from kernel.i18n import use_locale

log = logging.getLogger("papi_bot")
NAME = "zalo"


class ZaloBotRuntime:
    """A connected Zalo bot: the outbox's sender, the inbox and its worker."""

    def __init__(
        self,
        client: ZaloBotClient,
        http: httpx.AsyncClient,
        deps: ChannelDeps,
        engine: Engine,
        name: str = NAME,
    ) -> None:
        self.name = name
        self._client = client
        self._http = http
        self._deps = deps
        self.sender = ZaloBotChannel(client, file_url=file_url_maker(deps.settings), name=name)
        self.inbox = Inbox(engine, name, lambda event: update_key(event), deps.clock)

    async def process(self, event: dict[str, Any]) -> None:
        """Parse one stored update and apply it (or answer "please type text")."""
        zalo = self._deps.settings.zalo
        parsed = parse_update(
            event,
            self._deps.clock.now(),
            date_unit=zalo.date_unit,
            accept_groups=zalo.accept_group_chats,
            channel=self.name,
        )
        if isinstance(parsed, AskForText):
            if parsed.can_answer and parsed.chat_id is not None:
                with use_locale(self._deps.settings.app.default_locale):
                    text = ask_for_text_message()
                with contextlib.suppress(SendError):  # a courtesy, not worth a retry
                    await self.sender.send(OutgoingMessage(parsed.chat_id, text))
            return
        if parsed is not None:  # photos first: their links expire, the update is already stored
            parsed = await keep_evidence(parsed, self._http, self._deps.settings)
            await self._deps.apply(parsed)

    async def receive(self, stop: asyncio.Event) -> None:
        worker = asyncio.create_task(self.inbox.run(self.process, stop))
        try:
            if self._deps.settings.zalo.mode == "polling":
                await self._poll(stop)
            await worker
        finally:
            worker.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await worker

    async def _poll(self, stop: asyncio.Event) -> None:
        zalo = self._deps.settings.zalo
        try:
            await polling.poll(
                self._client,
                self.inbox.store,
                stop=stop,
                min_interval=zalo.poll_min_interval_seconds,
                poll_seconds=zalo.poll_timeout_seconds,
            )
        except ZaloWebhookActive:
            raise StartupError(
                f"{self.name}: a webhook is set for this bot; polling (development) refuses to run "
                'while it is. Use zalo.mode = "webhook", or delete the webhook first'
            ) from None

    async def close(self) -> None:
        await self._http.aclose()


def _webhook_url(deps: ChannelDeps, bot: setup.BotSetup) -> str:
    base = deps.settings.zalo.webhook_base_url.rstrip("/")
    if not base:
        raise StartupError(
            f"{bot.channel} webhook mode needs zalo.webhook_base_url (the public HTTPS address "
            f"of the webhook server) and {bot.secret_env}"
        )
    return base + bot.webhook_path


async def _connect(client: ZaloBotClient, bot: setup.BotSetup) -> None:
    try:
        me = await client.get_me()
    except ZaloConfigError:
        raise StartupError(f"{bot.channel}: the Bot API refused {bot.token_env} (401)") from None
    except (ZaloBotError, httpx.HTTPError) as exc:
        raise StartupError(
            f"{bot.channel}: cannot reach the Bot API: {type(exc).__name__}"
        ) from None
    shown = me.get("account_name") or me.get("display_name") or "bot"
    log.info("%s: connected as %s", bot.channel, shown)


async def start(deps: ChannelDeps, bot: str = "") -> ZaloBotRuntime:
    """Start the default bot (``bot`` "") or the ``[[zalo.bots]]`` bot named ``bot``."""
    settings = deps.settings
    configured = setup.bot_setup(settings, bot)
    name = configured.channel
    if deps.engine is None:
        raise StartupError(f"{name} needs the database (the webhook inbox)")
    http = setup.http_client(settings)
    try:
        client = setup.bot_client(settings, http, deps.clock, bot)
        webhook_mode = settings.zalo.mode == "webhook"
        if webhook_mode:  # configuration first: no call to Zalo for a start that must fail
            url = _webhook_url(deps, configured)
            secret = setup.webhook_secret(settings, bot)
        await _connect(client, configured)
        runtime = ZaloBotRuntime(client, http, deps, deps.engine, name)
        if webhook_mode:
            handler = webhook.make_handler(
                runtime.inbox.store, secret=secret, max_body_bytes=settings.zalo.max_body_bytes
            )
            await deps.hub.add(configured.webhook_path, handler)
            await client.set_webhook(url, secret)
            log.info("%s: webhook mode at %s", name, configured.webhook_path)
        else:
            log.warning("%s: polling mode, for development only", name)
    except ValueError as exc:  # a missing or malformed secret: the message names the variable
        await http.aclose()
        raise StartupError(str(exc)) from None
    except ZaloBotError as exc:
        await http.aclose()
        raise StartupError(f"{name}: {client.redact(str(exc))}") from None
    except BaseException:
        await http.aclose()
        raise
    return runtime
