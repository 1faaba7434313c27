"""Sessions, CSRF and permissions of the web console.

- The session is a signed cookie (itsdangerous, timestamped): HttpOnly, SameSite=Lax, Secure
  when the console is served over https, refused once older than ``[web] session_hours``.
  It holds the official's id and a CSRF token, nothing else (no name, no phone).
- Every visitor gets a CSRF token, signed-in or not; every POST must send it back in the form
  field ``csrf`` (or the ``X-CSRF-Token`` header). The token changes at sign-in.
- Only active coordinators and admins may use the console, and each sees only the unit
  subtree the chat would show them (``handlers.permissions.scope_root``).
"""

from __future__ import annotations

import hmac
import logging
import secrets
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import Any

from aiohttp import web
from itsdangerous import BadSignature, SignatureExpired
from sqlmodel import Session

from bot.web.state import ConsoleState, state_of
from handlers.permissions import in_subtree, scope_root
from kernel.i18n import SUPPORTED_LOCALES, _, use_locale
from storage.console import may_use_console
from storage.models import Official, Unit

log = logging.getLogger(__name__)

SESSION_COOKIE = "papi_console"
LANG_COOKIE = "papi_lang"
OPEN_PREFIXES = ("/login", "/static/", "/lang", "/download/", "/healthz", "/metrics")
UNSAFE_METHODS = frozenset({"POST", "PUT", "PATCH", "DELETE"})
Handler = Callable[[web.Request], Awaitable[web.StreamResponse]]


class Viewer:
    """The signed-in person and the top of the subtree they may see."""

    def __init__(self, official: Official, root: Unit) -> None:
        self.official = official
        self.root = root

    @property
    def id(self) -> int:
        assert self.official.id is not None
        return self.official.id

    @property
    def is_admin(self) -> bool:
        return self.official.role == "admin"

    def may_see(self, unit: Unit | None) -> bool:
        return unit is not None and in_subtree(unit, self.root)


@dataclass
class RequestState:
    """What the middleware learnt about one request."""

    locale: str
    csrf: str
    viewer: Viewer | None = None
    session_set: bool = False  # the view wrote a new session cookie itself


REQUEST: web.RequestKey[RequestState] = web.RequestKey("papi_console_request", RequestState)


def request_state(request: web.Request) -> RequestState:
    return request[REQUEST]


def read_session(state: ConsoleState, cookie: str | None) -> dict[str, Any]:
    """The session's contents, or {} when the cookie is missing, forged or expired."""
    if not cookie:
        return {}
    max_age = int(state.settings.web.session_hours * 3600)
    try:
        data = state.signer("session").loads(cookie, max_age=max_age)
    except SignatureExpired:
        return {"expired": True}
    except BadSignature:
        return {}
    return data if isinstance(data, dict) else {}


def set_session(request: web.Request, response: web.StreamResponse, official_id: int | None) -> str:
    """Write a fresh session (new CSRF token) on ``response``; returns the token."""
    state = state_of(request)
    token = secrets.token_urlsafe(24)
    value = state.signer("session").dumps({"o": official_id, "c": token})
    response.set_cookie(
        SESSION_COOKIE,
        value,
        httponly=True,
        samesite="Lax",
        secure=state.settings.web.public_url.startswith("https://"),
        max_age=int(state.settings.web.session_hours * 3600),
        path="/",
    )
    return token


def load_viewer(engine_state: ConsoleState, official_id: int) -> Viewer | None:
    """The official as a viewer, or None when they may not use the console (any more)."""
    with Session(engine_state.engine, expire_on_commit=False) as session:
        official = session.get(Official, official_id)
        if official is None or not may_use_console(official):
            return None
        root = scope_root(session, official)
        if root is None:
            return None
        return Viewer(official, root)


def viewer(request: web.Request) -> Viewer:
    """The signed-in viewer (the middleware guarantees one on every closed route)."""
    found = request_state(request).viewer
    if found is None:
        raise web.HTTPFound("/login")
    return found


def csrf_token(request: web.Request) -> str:
    return request_state(request).csrf


def _locale(request: web.Request) -> str:
    chosen = request.cookies.get(LANG_COOKIE, "")
    if chosen in SUPPORTED_LOCALES:
        return chosen
    return state_of(request).settings.app.default_locale


async def _check_csrf(request: web.Request, expected: str) -> None:
    sent = request.headers.get("X-CSRF-Token", "")
    if not sent:
        form = await request.post()
        value = form.get("csrf", "")
        sent = value if isinstance(value, str) else ""
    if not expected or not sent or not hmac.compare_digest(sent, expected):
        raise web.HTTPForbidden(
            text=_("The form has expired or did not come from this console. Reload the page.")
        )


@web.middleware
async def console_middleware(request: web.Request, handler: Handler) -> web.StreamResponse:
    """Locale, session, CSRF and sign-in for every request; security headers on the way out.

    HTTP errors are turned into ordinary responses here, so the cookie and the headers set
    below reach the browser with them (a raised exception would lose its cookies)."""
    state = state_of(request)
    locale = _locale(request)
    with use_locale(locale):
        data = read_session(state, request.cookies.get(SESSION_COOKIE))
        known = str(data.get("c", ""))
        info = RequestState(locale, known or secrets.token_urlsafe(24))
        request[REQUEST] = info
        fresh_token = not known
        try:
            if isinstance(data.get("o"), int):
                info.viewer = await state.db(load_viewer, state, data["o"])
            response = await _guarded(request, handler, fresh_token, bool(data.get("expired")))
        except web.HTTPException as exc:
            response = await error_response(request, exc)
        if fresh_token and not info.session_set:
            value = state.signer("session").dumps({"o": None, "c": info.csrf})
            response.set_cookie(
                SESSION_COOKIE,
                value,
                httponly=True,
                samesite="Lax",
                path="/",
                max_age=int(state.settings.web.session_hours * 3600),
            )
        _secure_headers(response)
        return response


async def _guarded(
    request: web.Request, handler: Handler, fresh_token: bool, expired: bool
) -> web.StreamResponse:
    is_open = request.path.startswith(OPEN_PREFIXES)
    if request.method in UNSAFE_METHODS:
        await _check_csrf(request, "" if fresh_token else request_state(request).csrf)
    if not is_open and request_state(request).viewer is None:
        if request.method in ("GET", "HEAD"):
            raise web.HTTPFound("/login?expired=1" if expired else "/login")
        raise web.HTTPForbidden(text=_("Please sign in again."))
    return await handler(request)


ErrorRenderer = Callable[[web.Request, int, str], Awaitable[web.StreamResponse]]
ERROR_RENDERER: web.AppKey[ErrorRenderer] = web.AppKey("papi_console_errors")


async def error_response(request: web.Request, exc: web.HTTPException) -> web.StreamResponse:
    """A redirect stays a redirect; an error becomes a page in the viewer's language."""
    if 300 <= exc.status < 400:
        location = exc.headers.get("Location", "/")
        return web.Response(status=exc.status, headers={"Location": location})
    message = exc.text or exc.reason
    if message.startswith(f"{exc.status}:"):  # aiohttp's default English body
        message = {
            403: _("You may not open this page."),
            404: _("This page does not exist."),
            405: _("This page does not exist."),
            413: _("The file is too large."),
        }.get(exc.status, _("The request could not be handled."))
    renderer = request.app.get(ERROR_RENDERER)
    if renderer is None:
        return web.Response(status=exc.status, text=message)
    return await renderer(request, exc.status, message)


def _secure_headers(response: web.StreamResponse) -> None:
    response.headers.setdefault("X-Frame-Options", "DENY")
    response.headers.setdefault("X-Content-Type-Options", "nosniff")
    response.headers.setdefault("Referrer-Policy", "same-origin")
    response.headers.setdefault(
        "Content-Security-Policy",
        "default-src 'self'; img-src 'self' data:; style-src 'self'; script-src 'self'; "
        "form-action 'self'; frame-ancestors 'none'",
    )
    if "Cache-Control" not in response.headers:
        response.headers["Cache-Control"] = "no-store"


def require_unit(request: web.Request, session: Session, unit_id: int) -> Unit:
    """The unit if the viewer may see it; 404 if there is none, 403 if it is outside."""
    unit = session.get(Unit, unit_id)
    if unit is None:
        raise web.HTTPNotFound(text=_("No such unit."))
    if not viewer(request).may_see(unit):
        raise web.HTTPForbidden(text=_("This unit is outside your area."))
    return unit
