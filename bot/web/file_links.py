"""Short-lived signed links to report files, for channels that cannot upload documents
(Zalo Bot: no sendDocument). The bot signs ``/download/f/<token>`` for a file it wrote under
``data_dir/reports``; the web console serves it without a sign-in until the link expires.

The link is signed with PAPI_BOT_CONSOLE_SECRET, so the bot (which signs) and the console
(which checks) agree across restarts; without that secret there are no file links and the
Zalo channel says so (a random per-process secret would make every link fail). The links go
to ``[web] public_url``: on a real deployment the public HTTPS address of the console.
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

from aiohttp import web
from itsdangerous import BadSignature, SignatureExpired, URLSafeTimedSerializer

from bot.config import Settings
from bot.web.state import state_of
from kernel.i18n import _

LINK_HOURS = 24
SALT = "papi-bot-console-file"  # its own purpose: a file link is no session, no report link
routes = web.RouteTableDef()
FileUrl = Callable[[str, str], str]


def reports_dir(settings: Settings) -> Path:
    return (settings.app.data_dir / "reports").resolve()


def _signer(secret: str) -> URLSafeTimedSerializer:
    return URLSafeTimedSerializer(secret, salt=SALT)


def file_url_maker(settings: Settings) -> FileUrl | None:
    """``file_url(path, name)`` for the channels, or None when links cannot work (the console
    is off, or PAPI_BOT_CONSOLE_SECRET is not set)."""
    secret = settings.secrets.console_secret
    if secret is None or not settings.web.enabled:
        return None
    signer = _signer(secret.get_secret_value())
    web_config = settings.web
    base = web_config.public_url.rstrip("/") or f"http://{web_config.host}:{web_config.port}"
    folder = reports_dir(settings)

    def file_url(path: str, name: str) -> str:
        relative = Path(path).resolve().relative_to(folder)  # only report files are linked
        return f"{base}/download/f/{signer.dumps({'p': relative.as_posix(), 'n': name})}"

    return file_url


def _resolve(folder: Path, relative: str) -> Path | None:
    path = (folder / relative).resolve()
    return path if path.is_relative_to(folder) and path.is_file() else None


@routes.get("/download/f/{token}")
async def signed_file(request: web.Request) -> web.StreamResponse:
    state = state_of(request)
    try:
        data = _signer(state.secret).loads(request.match_info["token"], max_age=LINK_HOURS * 3600)
    except SignatureExpired:
        raise web.HTTPGone(text=_("This download link has expired.")) from None
    except BadSignature:
        raise web.HTTPNotFound(text=_("This download link is not valid.")) from None
    path = _resolve(reports_dir(state.settings), str(data.get("p", "")))
    if path is None:
        raise web.HTTPGone(text=_("This download link has expired."))
    name = str(data.get("n") or path.name).replace('"', "")
    return web.FileResponse(path, headers={"Content-Disposition": f'attachment; filename="{name}"'})
