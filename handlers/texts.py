"""Small shared pieces of wording: status names and marks, shortening, common buttons."""

from __future__ import annotations

from handlers import payloads
from handlers.context import HandlerContext
from handlers.types import Button
from kernel.i18n import N_, _, current_locale
from storage.models import AssignmentStatus
from storage.taxonomy import papi_name

STATUS_NAMES: dict[str, str] = {
    AssignmentStatus.NOT_STARTED: N_("Not started"),
    AssignmentStatus.IN_PROGRESS: N_("In progress"),
    AssignmentStatus.DONE: N_("Done"),
    AssignmentStatus.BLOCKED: N_("Blocked"),
}
STATUS_MARKS: dict[str, str] = {
    AssignmentStatus.NOT_STARTED: "⬜",
    AssignmentStatus.IN_PROGRESS: "🔄",
    AssignmentStatus.DONE: "✅",
    AssignmentStatus.BLOCKED: "⛔",
}
OVERDUE_MARK = "❗"


def status_name(status: str) -> str:
    return _(STATUS_NAMES.get(status, status))


def status_mark(status: str, overdue: bool = False) -> str:
    return OVERDUE_MARK if overdue else STATUS_MARKS.get(status, "•")


def fit(ctx: HandlerContext, text: str) -> str:
    """``text`` cut to the text limit the inbound's channel declares (``ctx.text_limit``);
    with no declared limit it is left whole, and the outbox splits it for each channel."""
    limit = ctx.text_limit
    return text if limit is None or len(text) <= limit else text[: limit - 1] + "…"


def shorten(text: str, limit: int) -> str:
    text = " ".join(text.split())
    return text if len(text) <= limit else text[: limit - 1].rstrip() + "…"


def dimension_title(dimension: int | None) -> str:
    if dimension is None:
        return _("Other tasks")
    try:
        name = papi_name(str(dimension), current_locale())
    except KeyError:
        return _("Other tasks")
    return _("Dimension %(number)d: %(name)s") % {"number": dimension, "name": name}


def my_tasks_button() -> Button:
    return Button(_("My tasks"), payloads.list_page(0))
