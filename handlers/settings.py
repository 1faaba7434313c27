"""/lang and /help: the language stored per official, and what this person can do (/kenh,
the channel reminders go to, is in handlers/channel_choice.py)."""

from __future__ import annotations

from handlers.context import HandlerContext
from handlers.texts import my_tasks_button
from handlers.types import Outbound
from kernel.i18n import SUPPORTED_LOCALES, _, use_locale
from kernel.textnorm import fold
from storage.models import Role
from storage.officials import set_locale
from storage.person import OfficialFacts

_LANGUAGE_WORDS = {
    "vi": "vi",
    "tieng viet": "vi",
    "vietnamese": "vi",
    "en": "en",
    "english": "en",
    "tieng anh": "en",
}


def help_text(official: OfficialFacts) -> str:
    lines = [
        _("What you can do:"),
        _("/nhiemvu — your open tasks (also /tasks)"),
        _('Reply to a task: "12 xong", "12 50%% đã họp dân", "12 vướng: thiếu kinh phí"'),
        _("Send a photo or document with the task number as caption: evidence"),
    ]
    if official.role == Role.CHAIR:
        lines.append(_("/xa — your commune's tasks, status counts and who is behind"))
        lines.append(_("/giao 12 — assign task 12 to officials of your commune"))
        lines.append(_("/tonghop — your commune's summary"))
        lines.append(_("/baocao — report files"))
    if official.role in (Role.COORDINATOR, Role.ADMIN):
        lines.append(_("/tonghop — province summary"))
        lines.append(_("/baocao — report files"))
    lines.append(_("/kenh — the channel reminders come to (if you use several)"))
    lines.append(_("/lang vi|en — change language"))
    lines.append(_("/huy — cancel what you started"))
    return "\n".join(line % {} for line in lines)  # '%%' → '%'


def show_help(ctx: HandlerContext) -> list[Outbound]:
    assert ctx.official is not None
    return [Outbound(help_text(ctx.official), buttons=((my_tasks_button(),),))]


def change_language(ctx: HandlerContext, args: str) -> list[Outbound]:
    assert ctx.official is not None
    wanted = _LANGUAGE_WORDS.get(fold(args))
    if wanted is None or wanted not in SUPPORTED_LOCALES:
        return [Outbound(_("Usage: /lang vi or /lang en"))]
    set_locale(ctx.session, ctx.official.id, wanted)
    with use_locale(wanted):
        return [Outbound(_("Language changed to English."))]
