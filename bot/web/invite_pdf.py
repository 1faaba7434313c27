"""The invite sheet as an A4 PDF (fpdf2): one framed block per official — name, role, unit,
the code in large type, its expiry — with a QR code per channel on the right, cut apart with
scissors at the meeting.

Vietnamese needs a Unicode font: the PDF embeds (a subset of) DejaVu Sans, taken from the copy
that matplotlib, a dependency of papi-bot, ships inside its wheel, so a fresh installation
needs no system font. DejaVu's licence allows embedding and redistribution.
"""

from __future__ import annotations

from pathlib import Path

from fpdf import FPDF
from fpdf.enums import XPos, YPos

from bot.web.invite_sheet import SheetChannels, SheetRow, expiry_text, needs_code_sent, qr_png
from kernel.i18n import _

FONT = "DejaVu"
PAGE_W, MARGIN = 210.0, 12.0
BLOCK_H, GAP = 60.0, 4.0
QR_SIZE = 34.0


def font_files() -> dict[str, Path]:
    """DejaVu Sans, regular and bold, from matplotlib's package data."""
    import matplotlib

    folder = Path(matplotlib.get_data_path()) / "fonts" / "ttf"
    return {"": folder / "DejaVuSans.ttf", "B": folder / "DejaVuSans-Bold.ttf"}


def _pdf() -> FPDF:
    pdf = FPDF(orientation="portrait", unit="mm", format="A4")
    pdf.set_margins(MARGIN, MARGIN, MARGIN)
    pdf.set_auto_page_break(auto=False)
    for style, path in font_files().items():
        pdf.add_font(FONT, style, str(path))
    pdf.set_title("papi-bot")
    return pdf


def _block(pdf: FPDF, top: float, row: SheetRow, channels: SheetChannels, expiry: str) -> None:
    width = PAGE_W - 2 * MARGIN
    pdf.set_draw_color(150, 150, 150)
    pdf.set_line_width(0.3)
    pdf.set_dash_pattern(dash=2, gap=1.5)  # a cutting line
    pdf.rect(MARGIN, top, width, BLOCK_H)
    pdf.set_dash_pattern()
    links = channels.links(row.code)
    qr_area = len(links) * (QR_SIZE + 4)
    text_w = width - qr_area - 8
    pdf.set_xy(MARGIN + 4, top + 4)
    pdf.set_font(FONT, "B", 15)
    pdf.multi_cell(text_w, 7, row.name, new_x=XPos.LEFT, new_y=YPos.NEXT)
    pdf.set_font(FONT, "", 10.5)
    pdf.multi_cell(text_w, 5, f"{row.role} · {row.unit}", new_x=XPos.LEFT, new_y=YPos.NEXT)
    pdf.set_xy(MARGIN + 4, pdf.get_y() + 3)
    pdf.set_font(FONT, "", 10)
    pdf.cell(text_w, 5, _("Code"), new_x=XPos.LEFT, new_y=YPos.NEXT)
    pdf.set_font(FONT, "B", 22)
    pdf.cell(text_w, 11, row.code, new_x=XPos.LEFT, new_y=YPos.NEXT)
    pdf.set_font(FONT, "", 10)
    pdf.cell(text_w, 5, expiry, new_x=XPos.LEFT, new_y=YPos.NEXT)
    if row.zalo:  # which Zalo bot serves their unit (several bots: docs/zalo.md)
        pdf.set_font(FONT, "", 8.5)
        pdf.multi_cell(text_w, 4, row.zalo, new_x=XPos.LEFT, new_y=YPos.NEXT)
    left = MARGIN + width - qr_area
    for index, (label, link) in enumerate(links):
        x = left + index * (QR_SIZE + 4)
        pdf.set_xy(x, top + 3)
        pdf.set_font(FONT, "B", 10)
        pdf.cell(QR_SIZE, 5, label, align="C")
        if link is None:
            pdf.set_xy(x, top + 12)
            pdf.set_font(FONT, "", 8)
            pdf.multi_cell(QR_SIZE, 4, _("(set telegram.bot_username for a QR code)"), align="C")
            continue
        pdf.image(qr_png(link), x=x, y=top + 9, w=QR_SIZE, h=QR_SIZE)
        if needs_code_sent(label):
            pdf.set_xy(x, top + 9 + QR_SIZE + 1)
            pdf.set_font(FONT, "", 8)
            pdf.multi_cell(QR_SIZE, 4, _("then send: %(code)s") % {"code": row.code}, align="C")


def write_pdf(
    title: str, instructions: str, rows: list[SheetRow], channels: SheetChannels
) -> bytes:
    """The sheet: the title and instructions on top of the first page, then the blocks."""
    pdf = _pdf()
    pdf.add_page()
    pdf.set_font(FONT, "B", 16)
    pdf.multi_cell(PAGE_W - 2 * MARGIN, 8, title, new_x=XPos.LMARGIN, new_y=YPos.NEXT)
    pdf.set_font(FONT, "", 10)
    pdf.multi_cell(PAGE_W - 2 * MARGIN, 5, instructions, new_x=XPos.LMARGIN, new_y=YPos.NEXT)
    top = pdf.get_y() + 4
    for row in rows:
        if top + BLOCK_H > 297.0 - MARGIN:
            pdf.add_page()
            top = MARGIN
        _block(pdf, top, row, channels, expiry_text(row))
        top += BLOCK_H + GAP
    return bytes(pdf.output())
