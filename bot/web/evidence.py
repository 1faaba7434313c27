"""Evidence photos and files in the browser, fetched from the channel that holds them.

Telegram keeps the file: the console asks the Bot API for it (``getFile``, then the file
URL) with the bot's token, server-side, so the token never reaches the page. A Zalo photo
is served from the copy kept on receipt (``stored_path`` under data_dir, because Zalo's links
expire); without a copy, the browser is sent to the CDN link while it lives.
"""

from __future__ import annotations

from pathlib import Path

from aiohttp import ClientError, ClientSession, ClientTimeout, web
from sqlmodel import Session

from bot.web.security import viewer
from bot.web.state import ConsoleState, state_of
from kernel.i18n import _
from storage.console import evidence_with_unit
from storage.models import Evidence

routes = web.RouteTableDef()
MAX_FILE_BYTES = 20 * 1024 * 1024  # the Bot API serves at most 20 MB files to bots


def _load(state: ConsoleState, request: web.Request, evidence_id: int) -> Evidence:
    with Session(state.engine, expire_on_commit=False) as session:
        found = evidence_with_unit(session, evidence_id)
    if found is None:
        raise web.HTTPNotFound(text=_("No such file."))
    evidence, unit = found
    if not viewer(request).may_see(unit):
        raise web.HTTPForbidden(text=_("This unit is outside your area."))
    return evidence


async def telegram_file(state: ConsoleState, file_id: str) -> bytes:
    token = state.settings.secrets.telegram_bot_token
    if token is None:
        raise web.HTTPNotFound(text=_("The Telegram bot is not configured here."))
    base = f"{state.settings.telegram.api_base.rstrip('/')}"
    secret = token.get_secret_value()
    try:
        async with ClientSession(timeout=ClientTimeout(total=30)) as http:
            async with http.get(f"{base}/bot{secret}/getFile", params={"file_id": file_id}) as got:
                info = await got.json(content_type=None)
            if not info.get("ok"):
                raise web.HTTPNotFound(text=_("Telegram no longer has this file."))
            path = info["result"]["file_path"]
            async with http.get(f"{base}/file/bot{secret}/{path}") as response:
                if response.status != 200:
                    raise web.HTTPNotFound(text=_("Telegram no longer has this file."))
                return await response.content.read(MAX_FILE_BYTES)
    except (ClientError, TimeoutError, KeyError, ValueError):
        raise web.HTTPBadGateway(text=_("The file could not be fetched from Telegram.")) from None


def _kept_copy(state: ConsoleState, stored_path: str) -> Path:
    """The kept copy, only under data_dir/evidence (a row never points the console elsewhere)."""
    folder = (Path(state.settings.app.data_dir) / "evidence").resolve()
    path = (Path(state.settings.app.data_dir) / stored_path).resolve()
    if path.parent != folder or not path.is_file():
        raise web.HTTPNotFound(text=_("No such file."))
    return path


@routes.get("/evidence/{evidence_id:\\d+}")
async def evidence_file(request: web.Request) -> web.StreamResponse:
    state = state_of(request)
    evidence = await state.db(_load, state, request, int(request.match_info["evidence_id"]))
    if evidence.stored_path:
        path = _kept_copy(state, evidence.stored_path)
        return web.FileResponse(
            path,
            headers={
                "Content-Type": evidence.mime_type or "image/jpeg",
                "Cache-Control": "private, max-age=3600",
            },
        )
    if evidence.file_id.startswith("https://"):
        return web.Response(status=302, headers={"Location": evidence.file_id})
    if evidence.channel != "telegram":
        raise web.HTTPNotFound(text=_("No such file."))
    body = await telegram_file(state, evidence.file_id)
    mime = evidence.mime_type or "image/jpeg"
    headers = {"Cache-Control": "private, max-age=3600"}
    if not mime.startswith("image/"):
        name = (evidence.file_name or "evidence").replace('"', "")
        headers["Content-Disposition"] = f'attachment; filename="{name}"'
    return web.Response(body=body, content_type=mime, headers=headers)
