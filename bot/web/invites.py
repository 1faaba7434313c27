"""Invites for a whole unit at once, printed as an A4 DOCX sheet to hand out at a meeting:
each official's name, single-use code, expiry and a QR code of the Telegram deep link."""

from __future__ import annotations

import io
import tempfile
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path

import segno
from aiohttp import web
from docx import Document
from docx.shared import Cm, Pt
from sqlmodel import Session

from bot.channels.seats import zalo_invite_line
from bot.web.plans import require_admin
from bot.web.render import render
from bot.web.security import Viewer, require_unit
from bot.web.state import ConsoleState, state_of
from kernel.dates import local, long_date
from kernel.i18n import _, current_locale
from storage.console import audit, units_in
from storage.db import session_scope
from storage.invites import create_invite
from storage.officials import officials_in

routes = web.RouteTableDef()


@dataclass(frozen=True)
class SheetRow:
    name: str
    unit: str
    role: str
    code: str
    expires: datetime
    zalo: str | None = None  # "Zalo: send the code to the bot …" (the bot of their unit)


def telegram_link(username: str, code: str) -> str | None:
    name = username.strip().lstrip("@")
    return f"https://t.me/{name}?start={code}" if name else None


def _qr_png(text: str) -> io.BytesIO:
    stream = io.BytesIO()
    segno.make(text, error="m").save(stream, kind="png", scale=6, border=2)
    stream.seek(0)
    return stream


def write_sheet(title: str, rows: list[SheetRow], bot_username: str) -> bytes:
    """The A4 sheet: one table row per official, the QR code beside the code."""
    document = Document()
    section = document.sections[0]
    section.page_width, section.page_height = Cm(21), Cm(29.7)
    for side in ("left_margin", "right_margin", "top_margin", "bottom_margin"):
        setattr(section, side, Cm(1.5))
    document.add_heading(title, level=1)
    document.add_paragraph(
        _(
            "Open Telegram, scan the QR code (or send /start and the code to the bot). "
            "Each code works once."
        )
    )
    table = document.add_table(rows=1, cols=4)
    table.style = "Table Grid"
    for cell, label in zip(
        table.rows[0].cells, (_("Name"), _("Unit"), _("Code"), "Telegram"), strict=True
    ):
        cell.text = label
    for row in rows:
        cells = table.add_row().cells
        cells[0].text = f"{row.name}\n{row.role}"
        cells[1].text = row.unit
        expiry = long_date(local(row.expires).date(), current_locale())
        cells[2].text = ""
        run = cells[2].paragraphs[0].add_run(row.code)
        run.bold, run.font.size = True, Pt(14)
        cells[2].add_paragraph(_("valid until %(date)s") % {"date": expiry})
        if row.zalo:
            cells[2].add_paragraph(row.zalo)
        link = telegram_link(bot_username, row.code)
        if link:
            cells[3].paragraphs[0].add_run().add_picture(_qr_png(link), width=Cm(3))
        else:
            cells[3].text = _("(set telegram.bot_username for a QR code)")
    with tempfile.TemporaryDirectory() as folder:
        path = Path(folder) / "invites.docx"
        document.save(str(path))
        return path.read_bytes()


def issue_invites(
    state: ConsoleState, request: web.Request, who: Viewer, unit_id: int
) -> tuple[str, list[SheetRow]]:
    """Fresh codes for every active official of the unit's subtree (older codes stop working)."""
    now = state.clock.now()
    rows: list[SheetRow] = []
    with session_scope(state.engine) as session:
        unit = require_unit(request, session, unit_id)
        for official, home in officials_in(session, unit):
            if not official.active or official.id is None:
                continue
            invite = create_invite(session, official.id, now, state.settings.invites.ttl_days)
            zalo = zalo_invite_line(session, state.settings, official)
            rows.append(
                SheetRow(
                    official.name, home.name, official.role, invite.code, invite.expires_at, zalo
                )
            )
        audit(
            session,
            who.official,
            "invites.issue",
            now,
            target=f"unit:{unit.id}",
            detail={"count": len(rows)},
            unit_id=unit.id,
        )
        return unit.name, rows


@routes.get("/invites")
async def invites_page(request: web.Request) -> web.Response:
    who = require_admin(request)
    state = state_of(request)

    def load() -> list[object]:
        with Session(state.engine, expire_on_commit=False) as session:
            return list(units_in(session, who.root))

    units = await state.db(load)
    return render(request, "invites.html", {"units": units})


@routes.post("/invites")
async def invites_sheet(request: web.Request) -> web.Response:
    who = require_admin(request)
    state = state_of(request)
    form = await request.post()
    unit_text = str(form.get("unit_id", ""))
    if not unit_text.isdigit():
        raise web.HTTPBadRequest(text=_("Choose a unit."))
    name, rows = await state.db(issue_invites, state, request, who, int(unit_text))
    if not rows:
        raise web.HTTPBadRequest(text=_("This unit has no active official to invite."))
    title = _("Invite codes — %(unit)s") % {"unit": name}
    data = await state.db(write_sheet, title, rows, state.settings.telegram.bot_username)
    return web.Response(
        body=data,
        content_type="application/vnd.openxmlformats-officedocument.wordprocessingml.document",
        headers={"Content-Disposition": 'attachment; filename="invites.docx"'},
    )
