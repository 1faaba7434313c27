"""Jinja2 templates shipped in the package, translated with the bot's own gettext catalogs."""

from __future__ import annotations

from collections.abc import Mapping
from datetime import date, datetime
from functools import cache
from typing import TYPE_CHECKING, Any

from aiohttp import web

from bot.reports.text import dimension_name, percent, period_title, status_label
from bot.web.security import ERROR_RENDERER, REQUEST, request_state
from kernel.dates import long_date, short_date, short_datetime
from kernel.i18n import N_, current_locale, gettext, ngettext
from storage.units import level_label

if TYPE_CHECKING:  # Jinja2 loads with the first page, not before `papi-bot run` polls
    import jinja2

ROLE_LABELS = {
    "official": N_("Official"),
    "chair": N_("Chair"),
    "coordinator": N_("Coordinator"),
    "admin": N_("Admin"),
}


def role_label(role: str) -> str:
    return gettext(ROLE_LABELS[role]) if role in ROLE_LABELS else role


def _datetime(moment: datetime | None) -> str:
    if moment is None:
        return "—"
    return short_datetime(moment)


def _date(day: date | None) -> str:
    return short_date(day) if day else "—"


def _gettext(message: str, **values: Any) -> str:
    """``_("Plan #%(id)s", id=3)`` in a template; a lone "%" needs no escaping."""
    text = gettext(message)
    return text % values if values else text


def _ngettext(singular: str, plural: str, n: int, **values: Any) -> str:
    return ngettext(singular, plural, n) % {"num": n, **values}


@cache
def environment() -> jinja2.Environment:
    import jinja2

    env = jinja2.Environment(
        loader=jinja2.PackageLoader("bot.web", "templates"),
        autoescape=jinja2.select_autoescape(["html"]),
        extensions=["jinja2.ext.i18n"],
        undefined=jinja2.StrictUndefined,
        trim_blocks=True,
        lstrip_blocks=True,
    )
    # The catalog is read at call time, so one environment serves every locale.
    env.install_gettext_callables(_gettext, _ngettext, newstyle=False)  # type: ignore[attr-defined]
    env.filters.update(
        percent=percent,
        status=status_label,
        dimension=dimension_name,
        period=period_title,
        level=level_label,
        role=role_label,
        when=_datetime,
        day=_date,
        long_day=long_date,
    )
    return env


def render(
    request: web.Request,
    template: str,
    context: Mapping[str, Any] | None = None,
    *,
    status: int = 200,
) -> web.Response:
    values = {
        "csrf": request_state(request).csrf if REQUEST in request else "",
        "viewer": request_state(request).viewer if REQUEST in request else None,
        "locale": current_locale(),
        "path": request.path,
        **(context or {}),
    }
    html = environment().get_template(template).render(values)
    return web.Response(text=html, status=status, content_type="text/html", charset="utf-8")


async def render_error(request: web.Request, status: int, message: str) -> web.StreamResponse:
    return render(request, "error.html", {"status": status, "message": message}, status=status)


def install(app: web.Application) -> None:
    app[ERROR_RENDERER] = render_error
