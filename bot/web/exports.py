"""Downloads: the report files (the same renderers the bot and the CLI use), every dashboard
table as XLSX, and signed, expiring download links (what a chat without documents gets)."""

from __future__ import annotations

import tempfile
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

from aiohttp import web
from itsdangerous import BadSignature, SignatureExpired
from sqlmodel import Session

from bot.reports.files import FORMATS
from bot.reports.files import render as render_file
from bot.reports.text import dimension_name
from bot.web.dashboard import choose_period, load_dashboard, weakest_first
from bot.web.security import Viewer, load_viewer, require_unit, viewer
from bot.web.state import ConsoleState, state_of
from bot.web.tables import XLSX_TYPE, rows_xlsx, xlsx_response
from kernel.dates import local, short_date, today_local
from kernel.i18n import _
from storage.models import Unit
from storage.periods import Period, PeriodError, parse_period
from storage.rollup import rollup

routes = web.RouteTableDef()
LINK_DAYS = 7
CONTENT_TYPES = {
    "xlsx": XLSX_TYPE,
    "docx": "application/vnd.openxmlformats-officedocument.wordprocessingml.document",
    "csv": "text/csv",
    "png": "image/png",
}


def _file_response(data: bytes, fmt: str, name: str) -> web.Response:
    return web.Response(
        body=data,
        content_type=CONTENT_TYPES[fmt],
        headers={"Content-Disposition": f'attachment; filename="{name}"'},
    )


def build_report(
    state: ConsoleState, who: Viewer, unit_id: int, period: Period, fmt: str
) -> tuple[bytes, str]:
    """The report file's bytes and name, for a unit the viewer may see."""
    now = state.clock.now()
    with Session(state.engine, expire_on_commit=False) as session:
        unit = session.get(Unit, unit_id)
        if unit is None or not who.may_see(unit):
            raise web.HTTPForbidden(text=_("This unit is outside your area."))
        result = rollup(
            session,
            unit,
            period,
            now,
            silence_days=state.settings.reminders.silence_days,
            with_matrix=True,
        )
        with tempfile.TemporaryDirectory() as folder:
            path = render_file(session, result, fmt, Path(folder) / f"report.{fmt}", now)
            data = path.read_bytes()
    return data, f"papi-{unit.code}-{period.label}.{fmt}".replace("..", "_")


@routes.get("/units/{unit_id:\\d+}/report.{fmt}")
async def report_file(request: web.Request) -> web.Response:
    state = state_of(request)
    fmt = request.match_info["fmt"]
    if fmt not in FORMATS:
        raise web.HTTPNotFound()
    period = choose_period(request.query.get("period", ""), state.clock.now())
    unit_id = int(request.match_info["unit_id"])
    data, name = await state.db(build_report, state, viewer(request), unit_id, period, fmt)
    return _file_response(data, fmt, name)


def download_url(state: ConsoleState, official_id: int, unit_id: int, period: str, fmt: str) -> str:
    """A link that downloads one report file without signing in, for LINK_DAYS days, and only
    while the official may still see the unit."""
    token = state.signer("download").dumps({"o": official_id, "u": unit_id, "p": period, "f": fmt})
    base = state.settings.web.public_url.rstrip("/")
    return f"{base}/download/{token}"


@routes.get("/download/{token}")
async def signed_download(request: web.Request) -> web.Response:
    state = state_of(request)
    try:
        data = state.signer("download").loads(
            request.match_info["token"], max_age=LINK_DAYS * 86400
        )
    except SignatureExpired:
        raise web.HTTPGone(text=_("This download link has expired.")) from None
    except BadSignature:
        raise web.HTTPNotFound(text=_("This download link is not valid.")) from None
    who = await state.db(load_viewer, state, int(data["o"]))
    fmt = str(data["f"])
    if who is None or fmt not in FORMATS:
        raise web.HTTPForbidden(text=_("This download link is not valid any more."))
    try:
        period = parse_period(str(data["p"]), today_local(state.clock.now()))
    except PeriodError:
        raise web.HTTPNotFound() from None
    body, name = await state.db(build_report, state, who, int(data["u"]), period, fmt)
    return _file_response(body, fmt, name)


@routes.post("/units/{unit_id:\\d+}/link")
async def make_link(request: web.Request) -> web.Response:
    state = state_of(request)
    form = await request.post()
    fmt = str(form.get("format", "docx"))
    if fmt not in FORMATS:
        raise web.HTTPBadRequest(text=_("Unknown file format."))
    period = choose_period(str(form.get("period", "")), state.clock.now())
    unit_id = int(request.match_info["unit_id"])

    def check() -> None:
        with Session(state.engine) as session:
            require_unit(request, session, unit_id)

    await state.db(check)
    url = download_url(state, viewer(request).id, unit_id, period.label, fmt)
    return web.json_response({"url": url, "days": LINK_DAYS})


# ---------------------------------------------------------------- tables as XLSX


def _tables(board: Any) -> dict[str, tuple[list[str], Callable[[], Sequence[Sequence[Any]]]]]:
    result, digest = board.result, board.digest

    def counts(c: Any) -> list[Any]:
        return [c.total, c.done, c.in_progress, c.blocked, c.overdue, c.silent, c.completion]

    heads = [
        _("Total"),
        _("Done"),
        _("In progress"),
        _("Blocked"),
        _("Overdue"),
        _("Silent"),
        _("Completion (%)"),
    ]
    return {
        "dimensions": (
            [_("Dimension"), *heads],
            lambda: [[dimension_name(r.code), *counts(r.counts)] for r in weakest_first(result)],
        ),
        "units": (
            [_("Unit"), *heads],
            lambda: [[r.name, *counts(r.counts)] for r in result.children],
        ),
        "tasks": (
            [_("No."), _("Task"), _("Deadline"), *heads],
            lambda: [
                [t.stt or t.order, t.text, t.deadline_raw, *counts(t.counts)] for t in result.tasks
            ],
        ),
        "blocked": (
            [_("Unit"), _("Task"), _("Reason"), _("Since")],
            lambda: [
                [
                    b.unit_name,
                    b.task_text,
                    b.note or "",
                    short_date(local(b.since).date()) if b.since else "",
                ]
                for b in result.blocked
            ],
        ),
        "overdue": (
            [_("Unit"), _("Task"), _("Due")],
            lambda: [
                [line.unit, line.task.text, short_date(line.day) if line.day else ""]
                for line in digest.overdue
            ],
        ),
        "silent": (
            [_("Official"), _("Unit"), _("Assignments without update")],
            lambda: [[who or "—", unit, n] for who, unit, n in digest.silent],
        ),
        "undelivered": (
            [_("Official"), _("Message"), _("Status")],
            lambda: [[name, kind, status] for name, kind, status in digest.undeliverable],
        ),
    }


TABLES = ("dimensions", "units", "tasks", "blocked", "overdue", "silent", "undelivered")


def table_xlsx(board: Any, name: str) -> bytes:
    header, rows = _tables(board)[name]
    return rows_xlsx(name, header, rows())


@routes.get("/units/{unit_id:\\d+}/table/{name}.xlsx")
async def table_file(request: web.Request) -> web.Response:
    state = state_of(request)
    name = request.match_info["name"]
    if name not in TABLES:
        raise web.HTTPNotFound()
    period = choose_period(request.query.get("period", ""), state.clock.now())
    unit_id = int(request.match_info["unit_id"])
    board = await state.db(load_dashboard, state, request, unit_id, period)
    data = await state.db(table_xlsx, board, name)
    return _file_response(data, "xlsx", f"papi-{board.unit.code}-{name}.xlsx")


__all__ = ["TABLES", "download_url", "routes", "rows_xlsx", "xlsx_response"]
