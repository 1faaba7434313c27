"""The coordinator's dashboard and its drill-down: unit → child unit → task → assignment.

Every figure comes from ``storage.rollup`` (the digest's and the report files' source) and the
digest's own lists (``bot.scheduler.digest.collect``), so the console never disagrees with
the chat or the DOCX.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

from aiohttp import web
from sqlmodel import Session

from bot.channels.quota import QuotaUse, quota_usage
from bot.reports.text import percent, period_title, status_label
from bot.scheduler.digest import DigestData, collect
from bot.web.render import render
from bot.web.security import require_unit, viewer
from bot.web.state import ConsoleState, state_of
from bot.web.tables import rows_xlsx, xlsx_response
from kernel.dates import short_datetime, today_local
from kernel.i18n import _
from storage.console import assignment_detail, task_assignments
from storage.models import Task, Unit
from storage.periods import Period, PeriodError, current_period, parse_period, previous_period
from storage.rollup import DimensionRow, Rollup, rollup
from storage.rollup_model import code_key

routes = web.RouteTableDef()
PERIOD_CHOICES = ("week", "quarter", "half", "year")


def choose_period(text: str, now: datetime) -> Period:
    """The period the picker asked for; the current quarter when nothing (valid) was asked."""
    today = today_local(now)
    try:
        return parse_period(text, today) if text else current_period("quarter", today)
    except PeriodError:
        raise web.HTTPBadRequest(text=_("Unknown period: %(text)s") % {"text": text}) from None


def period_choices(now: datetime) -> list[tuple[str, str]]:
    """The running week, quarter, half-year and year, then the ones before them."""
    today = today_local(now)
    running = [(kind, current_period(kind, today)) for kind in PERIOD_CHOICES]
    choices = [(kind, period_title(period)) for kind, period in running]
    for _kind, period in running[1:]:
        before = previous_period(period)
        choices.append((before.label, period_title(before)))
    return choices


def weakest_first(result: Rollup) -> list[DimensionRow]:
    """Dimensions with tasks: lowest published score first, then lowest completion."""
    rows = [row for row in result.dimensions if row.counts.total]
    return sorted(
        rows,
        key=lambda r: (r.score is None, r.score or 0.0, r.counts.completion, code_key(r.code)),
    )


@dataclass(frozen=True)
class Dashboard:
    unit: Unit
    trail: list[Unit]
    result: Rollup
    digest: DigestData
    quotas: list[QuotaUse]


def _trail(session: Session, unit: Unit, root: Unit) -> list[Unit]:
    """The units from the viewer's root down to ``unit`` (the breadcrumb)."""
    ids = [int(part) for part in unit.path.strip("/").split("/") if part]
    start = ids.index(root.id) if root.id in ids else len(ids) - 1
    found = [session.get(Unit, unit_id) for unit_id in ids[start:]]
    return [u for u in found if u is not None]


def load_dashboard(
    state: ConsoleState, request: web.Request, unit_id: int, period: Period
) -> Dashboard:
    now = state.clock.now()
    silence = state.settings.reminders.silence_days
    with Session(state.engine, expire_on_commit=False) as session:
        unit = require_unit(request, session, unit_id)
        result = rollup(session, unit, period, now, silence_days=silence)
        digest = collect(session, unit, now, silence)
        quotas = quota_usage(session, state.settings, now)
        trail = _trail(session, unit, viewer(request).root)
        return Dashboard(unit, trail, result, digest, quotas)


CHANNEL_NAMES = {"zalo": "Zalo Bot", "zalo_oa": "Zalo OA", "telegram": "Telegram"}


def quota_line(use: QuotaUse) -> dict[str, Any]:
    """'Zalo Bot: 2450 of 3000 messages this month (81,7%)', the digest's own sentence."""
    text = _("%(channel)s: %(sent)d of %(quota)d messages this month (%(pct)s)") % {
        "channel": CHANNEL_NAMES.get(use.channel, use.channel),
        "sent": use.sent,
        "quota": use.quota,
        "pct": percent(100 * use.share),
    }
    return {"text": text, "warn": use.warn}


def bars(rows: list[tuple[str, float]]) -> list[dict[str, Any]]:
    """Rows for the inline SVG bar chart: label, value and the bar's width in percent."""
    return [
        {"label": label, "value": value, "width": max(0.0, min(value, 100.0))}
        for label, value in rows
    ]


@routes.get("/")
async def home(request: web.Request) -> web.Response:
    root = viewer(request).root
    return web.Response(status=302, headers={"Location": f"/units/{root.id}"})


@routes.get("/units/{unit_id:\\d+}")
async def unit_page(request: web.Request) -> web.Response:
    state = state_of(request)
    now = state.clock.now()
    period = choose_period(request.query.get("period", ""), now)
    unit_id = int(request.match_info["unit_id"])
    board = await state.db(load_dashboard, state, request, unit_id, period)
    dimensions = weakest_first(board.result)
    context = {
        "board": board,
        "result": board.result,
        "dimensions": dimensions,
        "dimension_bars": bars([(row.code, row.counts.completion) for row in dimensions]),
        "child_bars": bars([(row.name, row.counts.completion) for row in board.result.children]),
        "period": period,
        "periods": period_choices(now),
        "period_arg": request.query.get("period", ""),
        "quota_lines": [quota_line(use) for use in board.quotas],
    }
    return render(request, "dashboard.html", context)


def _when(moment: datetime | None) -> str:
    return short_datetime(moment) if moment else ""


def load_task(
    state: ConsoleState, request: web.Request, unit_id: int, task_id: int
) -> tuple[Unit, Task, list[Any]]:
    with Session(state.engine, expire_on_commit=False) as session:
        unit = require_unit(request, session, unit_id)
        task = session.get(Task, task_id)
        if task is None:
            raise web.HTTPNotFound(text=_("No such task."))
        lines = task_assignments(session, task_id, unit)
        if not lines:
            raise web.HTTPNotFound(text=_("This task has no assignment in this unit."))
        return unit, task, lines


@routes.get("/units/{unit_id:\\d+}/tasks/{task_id:\\d+}")
async def task_page(request: web.Request) -> web.Response:
    state = state_of(request)
    unit_id, task_id = int(request.match_info["unit_id"]), int(request.match_info["task_id"])
    unit, task, lines = await state.db(load_task, state, request, unit_id, task_id)
    if request.query.get("format") == "xlsx":
        header = [_("Unit"), _("Status"), "%", _("Note"), _("Last update")]
        table = [
            [
                line.unit.name,
                status_label(line.assignment.status),
                line.assignment.percent,
                line.assignment.note or "",
                _when(line.assignment.last_update_at),
            ]
            for line in lines
        ]
        data = await state.db(rows_xlsx, "assignments", header, table)
        return xlsx_response(data, f"papi-{unit.code}-task-{task.order}.xlsx")
    return render(request, "task.html", {"unit": unit, "task": task, "lines": lines})


def load_assignment(state: ConsoleState, request: web.Request, assignment_id: int) -> Any:
    with Session(state.engine, expire_on_commit=False) as session:
        detail = assignment_detail(session, assignment_id)
        if detail is None:
            raise web.HTTPNotFound(text=_("No such assignment."))
        require_unit(request, session, detail.unit.id or 0)
        return detail


@routes.get("/assignments/{assignment_id:\\d+}")
async def assignment_page(request: web.Request) -> web.Response:
    state = state_of(request)
    detail = await state.db(
        load_assignment, state, request, int(request.match_info["assignment_id"])
    )
    if request.query.get("format") == "xlsx":
        header = [_("When"), _("Who"), _("Status"), "%", _("Note")]
        table = [
            [_when(u.created_at), name or "—", status_label(u.status), u.percent, u.note or ""]
            for u, name in detail.updates
        ]
        data = await state.db(rows_xlsx, "updates", header, table)
        return xlsx_response(data, f"papi-assignment-{detail.assignment.id}.xlsx")
    return render(request, "assignment.html", {"detail": detail})
