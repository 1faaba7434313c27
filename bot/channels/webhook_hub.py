"""One aiohttp server for the Zalo webhooks (Zalo Bot and Zalo OA) of ``papi-bot run``.

Why a server of its own rather than routes on the web console's app: the console's middleware
puts sessions and CSRF checks on every POST (a webhook has neither), the console may be
switched off, and a webhook must answer within Zalo's 2 s even while the console renders a
large report. Channels add their routes while starting (``add``, which listens from the
first route on, at ``[zalo] webhook_host:webhook_port``); the composition root stops it. A
reverse proxy serves it over HTTPS at ``[zalo] webhook_base_url`` (the address Zalo posts to).

While the channels start, the server already listens but the later channels' routes do not
exist yet (the second bot, the OA): a webhook for them then gets 503 with ``Retry-After`` —
"not ready, post again" — never 404, which says the address is wrong (a platform may drop the
message, or the webhook). ``started`` (called by the composition root once every channel
has started) makes an unknown path a 404 again.
Telegram's webhook mode keeps aiogram's own server (``[telegram] webhook_*``).
"""

from __future__ import annotations

import logging
from collections.abc import Awaitable, Callable

from aiohttp import web

from bot.channels.base import StartupError

log = logging.getLogger("papi_bot")

Handler = Callable[[web.Request], Awaitable[web.StreamResponse]]
MAX_BODY_BYTES = 1024 * 1024  # each handler checks its own, smaller limit


class WebhookHub:
    """Routes added by the channels while they start; the server listens from the first one
    on (a platform may check the address when the webhook is set), dispatching by path."""

    def __init__(self, host: str, port: int) -> None:
        self.host = host
        self.port = port
        self._routes: dict[str, Handler] = {}
        self._runner: web.AppRunner | None = None
        self._starting = True

    @property
    def routes(self) -> list[str]:
        return list(self._routes)

    async def add(self, path: str, handler: Handler) -> None:
        """Serve ``handler`` at POST ``path``; a busy port stops the start clearly."""
        if path in self._routes:
            raise StartupError(f"two channels want the webhook path {path}")
        self._routes[path] = handler
        await self._listen()
        log.info("webhooks: %s on %s:%s", path, self.host, self.port)

    def started(self) -> None:
        """Every channel has added its route: an unknown path is now a wrong address."""
        self._starting = False

    async def _dispatch(self, request: web.Request) -> web.StreamResponse:
        handler = self._routes.get(request.path)
        if handler is None:
            if self._starting:  # its channel may still be starting (SIGKILL, then restart)
                return web.Response(status=503, headers={"Retry-After": "1"})
            return web.Response(status=404)
        return await handler(request)

    async def _listen(self) -> None:
        if self._runner is not None:
            return
        app = web.Application(client_max_size=MAX_BODY_BYTES)
        app.router.add_post("/{tail:.*}", self._dispatch)
        runner = web.AppRunner(app, access_log=None)
        await runner.setup()
        try:
            await web.TCPSite(runner, self.host, self.port).start()
        except OSError as exc:
            await runner.cleanup()
            raise StartupError(
                f"cannot listen for webhooks on {self.host}:{self.port} ({exc.strerror})"
            ) from None
        self._runner = runner

    async def stop(self) -> None:
        if self._runner is not None:
            await self._runner.cleanup()
            self._runner = None
