"""The webhook server while ``papi-bot run`` starts: it listens from the first channel's route
on (a platform may check the address when the webhook is set), so a webhook of a channel
that is still starting — the second bot, the OA — can arrive before its route exists. That
must be "not ready, post again" (503), never 404 ("wrong address": a platform may drop the
message or the webhook). Once every channel has started, an unknown path is a 404."""

from __future__ import annotations

import socket

from aiohttp import ClientSession, web

from bot.channels.webhook_hub import WebhookHub


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


async def _ok(request: web.Request) -> web.StreamResponse:
    return web.Response(text="taken")


async def test_a_route_not_added_yet_is_503_while_starting_then_404() -> None:
    port = free_port()
    hub = WebhookHub("127.0.0.1", port)
    base = f"http://127.0.0.1:{port}"
    try:
        await hub.add("/zalo/webhook/xa-a", _ok)  # the server listens from here on
        async with ClientSession() as client:
            async with client.post(base + "/zalo-oa/webhook", data=b"{}") as early:
                assert early.status == 503
                assert early.headers.get("Retry-After") == "1"
            async with client.post(base + "/zalo/webhook/xa-a", data=b"{}") as taken:
                assert taken.status == 200
            await hub.add("/zalo-oa/webhook", _ok)
            hub.started()
            async with client.post(base + "/zalo-oa/webhook", data=b"{}") as later:
                assert later.status == 200
            async with client.post(base + "/nowhere", data=b"{}") as unknown:
                assert unknown.status == 404
    finally:
        await hub.stop()
