"""Invites for a whole unit at once, printed as an A4 sheet to hand out at a meeting (DOCX
here, PDF in ``bot.web.invite_pdf``): each official's name, single-use code, expiry and a QR
code per channel (``bot.web.invite_sheet``)."""

from __future__ import annotations

import tempfile
from pathlib import Path

from aiohttp import web
from sqlmodel import Session

from bot.channels.seats import zalo_invite_line
from bot.web.invite_sheet import (
    SheetChannels,
    SheetRow,
    expiry_text,
    needs_code_sent,
    qr_png,
    sheet_instructions,
    telegram_link,
)
from bot.web.plans import require_admin
from bot.web.render import render, role_label
from bot.web.security import Viewer, require_unit
from bot.web.state import ConsoleState, state_of
from kernel.i18n import _
from storage.console import audit, units_in
from storage.db import session_scope
from storage.invites import create_invite
from storage.officials import officials_in

routes = web.RouteTableDef()
SHEET_FORMATS = ("docx", "pdf")
SHEET_TYPES = {
    "docx": "application/vnd.openxmlformats-officedocument.wordprocessingml.document",
    "pdf": "application/pdf",
}


def write_sheet(
    title: str,
    rows: list[SheetRow],
    bot_username: str,
    zalo_bot_link: str = "",
    zalo_oa_link: str = "",
) -> bytes:
    """The A4 DOCX sheet: one table row per official, a QR code per channel beside the code."""
    from docx import Document  # python-docx loads on the first sheet, not at `run`'s start
    from docx.shared import Cm, Pt

    channels = SheetChannels(bot_username, zalo_bot_link, zalo_oa_link)
    document = Document()
    section = document.sections[0]
    section.page_width, section.page_height = Cm(21), Cm(29.7)
    for side in ("left_margin", "right_margin", "top_margin", "bottom_margin"):
        setattr(section, side, Cm(1.5))
    document.add_heading(title, level=1)
    document.add_paragraph(sheet_instructions(channels))
    labels = [label for label, _link in channels.links("")]
    table = document.add_table(rows=1, cols=3 + len(labels))
    table.style = "Table Grid"
    for cell, label in zip(
        table.rows[0].cells, (_("Name"), _("Unit"), _("Code"), *labels), strict=True
    ):
        cell.text = label
    qr_width = {1: Cm(3), 2: Cm(2.6)}.get(len(labels), Cm(2.2))
    for row in rows:
        cells = table.add_row().cells
        cells[0].text = f"{row.name}\n{row.role}"
        cells[1].text = row.unit
        cells[2].text = ""
        run = cells[2].paragraphs[0].add_run(row.code)
        run.bold, run.font.size = True, Pt(14)
        cells[2].add_paragraph(expiry_text(row))
        if row.zalo:
            cells[2].add_paragraph(row.zalo)
        for cell, (label, link) in zip(cells[3:], channels.links(row.code), strict=True):
            if link is None:
                cell.text = _("(set telegram.bot_username for a QR code)")
                continue
            cell.paragraphs[0].add_run().add_picture(qr_png(link), width=qr_width)
            if needs_code_sent(label):
                cell.add_paragraph(_("then send: %(code)s") % {"code": row.code})
    with tempfile.TemporaryDirectory() as folder:
        path = Path(folder) / "invites.docx"
        document.save(str(path))
        return path.read_bytes()


def issue_invites(
    state: ConsoleState, request: web.Request, who: Viewer, unit_id: int, fmt: str
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
                    official.name,
                    home.name,
                    role_label(official.role),
                    invite.code,
                    invite.expires_at,
                    zalo,
                )
            )
        audit(
            session,
            who.official,
            "invites.issue",
            now,
            target=f"unit:{unit.id}",
            detail={"count": len(rows), "format": fmt},
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
    fmt = str(form.get("format", "docx"))
    if not unit_text.isdigit():
        raise web.HTTPBadRequest(text=_("Choose a unit."))
    if fmt not in SHEET_FORMATS:
        raise web.HTTPBadRequest(text=_("Unknown file format."))
    name, rows = await state.db(issue_invites, state, request, who, int(unit_text), fmt)
    if not rows:
        raise web.HTTPBadRequest(text=_("This unit has no active official to invite."))
    title = _("Invite codes — %(unit)s") % {"unit": name}
    channels = SheetChannels.of(state.settings)
    if fmt == "pdf":
        from bot.web.invite_pdf import write_pdf  # fpdf2 loads only when a PDF is asked for

        data = await state.db(write_pdf, title, sheet_instructions(channels), rows, channels)
    else:
        data = await state.db(
            write_sheet,
            title,
            rows,
            channels.telegram_username,
            channels.zalo_bot_link,
            channels.zalo_oa_link,
        )
    return web.Response(
        body=data,
        content_type=SHEET_TYPES[fmt],
        headers={"Content-Disposition": f'attachment; filename="invites.{fmt}"'},
    )


__all__ = ["SheetRow", "routes", "telegram_link", "write_sheet"]
