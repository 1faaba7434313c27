"""Signing in with a one-time code sent to the person's linked chat, and signing out.

The page answers the same whether or not the number belongs to someone who may sign in, so
the form cannot be used to find out who the coordinators are.
"""

from __future__ import annotations

import logging

from aiohttp import web
from yarl import URL

from bot.pipeline import enqueue
from bot.routing import Routing
from bot.web.render import render
from bot.web.security import LANG_COOKIE, request_state, set_session, viewer
from bot.web.state import ConsoleState, state_of
from handlers.types import Outbound
from kernel.i18n import SUPPORTED_LOCALES, _, use_locale
from kernel.phones import normalize_phone
from storage.console import (
    LOGIN_CODE_TTL,
    audit,
    code_sent_recently,
    create_login_code,
    redeem_login_code,
)
from storage.db import session_scope
from storage.identities import linked_identities
from storage.officials import get_official_by_phone

log = logging.getLogger(__name__)
routes = web.RouteTableDef()


def login_message(code: str) -> str:
    minutes = int(LOGIN_CODE_TTL.total_seconds() // 60)
    return _(
        "Your sign-in code for the papi-bot console: %(code)s\n"
        "It works once, for %(minutes)d minutes. If you did not ask for it, ignore this message."
    ) % {"code": code, "minutes": minutes}


def send_login_code(state: ConsoleState, phone: str) -> None:
    """A code to the official's chats, when they may sign in and have a linked chat."""
    now = state.clock.now()
    with session_scope(state.engine) as session:
        official = get_official_by_phone(session, phone)
        if official is None or official.id is None:
            return
        linked = linked_identities(session, [official.id]).get(official.id, [])
        if all(identity.unreachable_at is not None for identity in linked):
            return
        if code_sent_recently(session, official, now):
            return  # the earlier code still works; a second press must not flood the chat
        try:
            code = create_login_code(session, official, now)
        except ValueError:
            return
        with use_locale(official.locale):
            text = login_message(code)
        notice = Outbound(text=text, official_id=official.id, kind="notice")
        enqueue(session, [notice], now, routing=Routing.from_settings(state.settings))
    log.info("console: sign-in code sent to official %s", official.id)


def check_code(state: ConsoleState, phone: str, code: str) -> int | None:
    """The official's id when ``code`` is their live code (it is spent), else None."""
    now = state.clock.now()
    with session_scope(state.engine) as session:
        official = get_official_by_phone(session, phone)
        if official is None or not redeem_login_code(session, official, code, now):
            return None
        audit(session, official, "login", now, target=f"official:{official.id}")
        return official.id


def _phone_error(phone: str) -> str | None:
    try:
        normalize_phone(phone)
    except ValueError as exc:
        return str(exc)
    return None


@routes.get("/login")
async def login_page(request: web.Request) -> web.Response:
    expired = request.query.get("expired") == "1"
    return render(request, "login.html", {"expired": expired, "error": None, "phone": ""})


@routes.post("/login")
async def ask_code(request: web.Request) -> web.Response:
    form = await request.post()
    phone = str(form.get("phone", "")).strip()
    error = _phone_error(phone)
    if error is not None:
        context = {"expired": False, "error": error, "phone": phone}
        return render(request, "login.html", context, status=400)
    state = state_of(request)
    await state.db(send_login_code, state, phone)
    return render(request, "login_code.html", {"phone": phone, "error": None})


@routes.post("/login/code")
async def enter_code(request: web.Request) -> web.Response:
    form = await request.post()
    phone = str(form.get("phone", "")).strip()
    code = str(form.get("code", "")).strip()
    state = state_of(request)
    official_id = None if _phone_error(phone) else await state.db(check_code, state, phone, code)
    if official_id is None:
        error = _("The code is wrong or has expired. Ask for a new code.")
        return render(request, "login_code.html", {"phone": phone, "error": error}, status=400)
    redirect = web.Response(status=302, headers={"Location": "/"})
    set_session(request, redirect, official_id)
    request_state(request).session_set = True
    return redirect


@routes.post("/logout")
async def logout(request: web.Request) -> web.Response:
    state = state_of(request)
    who = viewer(request)
    now = state.clock.now()

    def record() -> None:
        with session_scope(state.engine) as session:
            audit(session, who.official, "logout", now, target=f"official:{who.id}")

    await state.db(record)
    redirect = web.Response(status=302, headers={"Location": "/login"})
    set_session(request, redirect, None)
    request_state(request).session_set = True
    return redirect


def _back(request: web.Request) -> str:
    """The page the switch was clicked on, if it is one of ours (never another site)."""
    try:
        referer = URL(request.headers.get("Referer", "/"))
        if referer.host is not None and referer.origin() != request.url.origin():
            return "/"
    except ValueError:  # "//host/path" has no scheme, so no origin: not ours
        return "/"
    path = referer.path_qs
    return path if path.startswith("/") and not path.startswith("//") else "/"


@routes.get("/lang/{locale}")
async def switch_language(request: web.Request) -> web.Response:
    locale = request.match_info["locale"]
    response = web.Response(status=302, headers={"Location": _back(request)})
    if locale in SUPPORTED_LOCALES:
        response.set_cookie(LANG_COOKIE, locale, samesite="Lax", max_age=365 * 86400, path="/")
    return response
