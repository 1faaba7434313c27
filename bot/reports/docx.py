"""The report as a Word document in the administrative layout of Nghị định 30/2020 (Phụ lục I).

A4 portrait, margins 20/20/30/15 mm, Times New Roman 13; a borderless two-column header
(parent and issuing body, number | national motto, place and date), the title and subject,
sections per PAPI dimension with their tables, the chart, and a borderless two-column footer
(recipients | signature block). Page numbers from page 2, centred in the top margin.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date
from pathlib import Path
from typing import Any

from docx import Document
from docx.enum.section import WD_ORIENT
from docx.enum.table import WD_TABLE_ALIGNMENT
from docx.enum.text import WD_ALIGN_PARAGRAPH
from docx.oxml import OxmlElement
from docx.oxml.ns import qn
from docx.shared import Cm, Mm, Pt

from bot.reports.cells import sanitize_text
from bot.reports.docx_layout import (
    BLOCKED_COLUMNS_CM,
    HEADER_COLUMNS_CM,
    TASK_COLUMNS_CM,
    UNIT_COLUMNS_CM,
    no_borders,
    rule_below,
    widths,
)
from bot.reports.text import (
    counts_line,
    dimension_name,
    percent,
    period_title,
    score_text,
    signed,
)
from kernel.dates import document_date, long_date, short_date
from kernel.i18n import _, current_locale, ngettext
from storage.rollup import Rollup

FONT = "Times New Roman"
ROMAN = ("I", "II", "III", "IV", "V", "VI", "VII", "VIII")


@dataclass(frozen=True, slots=True)
class Letterhead:
    """Who issues the report and who signs it; defaults fit a Sở Nội vụ report."""

    parent_body: str  # "UBND TỈNH BẮC GIANG"
    issuing_body: str  # "SỞ NỘI VỤ"
    number: str  # "12/BC-SNV", or "     /BC-SNV" to fill in by hand
    place: str  # "Bắc Giang"
    day: date
    authority: str = ""  # "KT. GIÁM ĐỐC"
    signer_title: str = ""  # "PHÓ GIÁM ĐỐC"
    signer_name: str = ""
    recipients: tuple[str, ...] = ()
    plan_title: str | None = None  # "Kế hoạch cải thiện Chỉ số PAPI năm 2024"


def place_name(unit_name: str) -> str:
    """'Tỉnh Bắc Giang' → 'Bắc Giang', for the place-and-date line."""
    for prefix in ("Thành phố ", "Tỉnh ", "Huyện ", "Thị xã ", "Xã ", "Phường "):
        if unit_name.startswith(prefix):
            return unit_name[len(prefix) :]
    return unit_name


def default_letterhead(result: Rollup, day: date, plan_title: str | None = None) -> Letterhead:
    return Letterhead(
        parent_body=_("PEOPLE'S COMMITTEE OF %(unit)s") % {"unit": result.unit.name.upper()},
        issuing_body=_("DEPARTMENT OF HOME AFFAIRS"),
        number="      /BC-SNV",
        place=place_name(result.unit.name),
        day=day,
        authority=_("ON BEHALF OF THE DIRECTOR"),
        signer_title=_("DEPUTY DIRECTOR"),
        recipients=(_("Provincial People's Committee (to report);"), _("Archive: VT, NV.")),
        plan_title=plan_title,
    )


def _run(
    paragraph: Any, text: str, *, size: float = 13, bold: bool = False, italic: bool = False
) -> Any:
    run = paragraph.add_run(sanitize_text(text))  # python-docx refuses control characters
    run.font.name = FONT
    run.font.size = Pt(size)
    run.bold = bold
    run.italic = italic
    return run


def _para(container: Any, text: str = "", *, align: Any = None, **style: Any) -> Any:
    paragraph = container.add_paragraph()
    if align is not None:
        paragraph.alignment = align
    paragraph.paragraph_format.space_after = Pt(0)
    if text:
        _run(paragraph, text, **style)
    return paragraph


def _setup(document: Any) -> None:
    section = document.sections[0]
    section.orientation = WD_ORIENT.PORTRAIT
    section.page_width, section.page_height = Mm(210), Mm(297)
    section.top_margin, section.bottom_margin = Mm(20), Mm(20)
    section.left_margin, section.right_margin = Mm(30), Mm(15)
    normal = document.styles["Normal"]
    normal.font.name = FONT
    normal.font.size = Pt(13)
    normal.element.rPr.rFonts.set(qn("w:eastAsia"), FONT)
    # Page numbers from page 2: a different (empty) first-page header.
    section.different_first_page_header_footer = True
    header = section.header.paragraphs[0]
    header.alignment = WD_ALIGN_PARAGRAPH.CENTER
    field = OxmlElement("w:fldSimple")
    field.set(qn("w:instr"), "PAGE")
    header._p.append(field)


def _letterhead(document: Any, head: Letterhead) -> None:
    table = document.add_table(rows=2, cols=2)
    no_borders(table)
    # The motto in 12.5 pt bold needs about 89 mm: the right column gets 98 mm, as real
    # documents give it (the text width is 165 mm).
    widths(table, HEADER_COLUMNS_CM)
    left, right = table.rows[0].cells
    center = WD_ALIGN_PARAGRAPH.CENTER
    left.paragraphs[0].alignment = center
    _run(left.paragraphs[0], head.parent_body, size=12.5)
    _para(left, head.issuing_body, align=center, size=12.5, bold=True)
    rule_below(left, 2.2)
    right.paragraphs[0].alignment = center
    _run(right.paragraphs[0], _("SOCIALIST REPUBLIC OF VIET NAM"), size=12.5, bold=True)
    _para(right, _("Independence - Freedom - Happiness"), align=center, bold=True)
    rule_below(right, 1.7)  # as long as the line above
    number_cell, date_cell = table.rows[1].cells
    number_cell.paragraphs[0].alignment = center
    _run(number_cell.paragraphs[0], _("No.: %(number)s") % {"number": head.number})
    day = document_date(head.day) if current_locale() == "vi" else long_date(head.day, "en")
    date_cell.paragraphs[0].alignment = center
    _run(date_cell.paragraphs[0], f"{head.place}, {day}", italic=True)


def _title(document: Any, result: Rollup, head: Letterhead) -> None:
    center = WD_ALIGN_PARAGRAPH.CENTER
    _para(document)
    _para(document, _("REPORT"), align=center, size=14, bold=True)
    plan = head.plan_title or _("the plan to improve the PAPI index")
    subject = _("Results of implementing %(plan)s, %(period)s") % {
        "plan": plan,  # "Kế hoạch ..." keeps its capital: it names one document
        "period": period_title(result.period),
    }
    _para(document, subject, align=center, size=14, bold=True)
    rule_below(document, 5.75)
    _para(document)


def _body(document: Any, text: str) -> None:
    paragraph = _para(document, text, align=WD_ALIGN_PARAGRAPH.JUSTIFY)
    paragraph.paragraph_format.first_line_indent = Cm(1.27)
    paragraph.paragraph_format.space_after = Pt(6)
    paragraph.paragraph_format.line_spacing = 1.15


def _heading(document: Any, text: str) -> None:
    paragraph = _para(document, text, bold=True)
    paragraph.paragraph_format.space_before = Pt(6)
    paragraph.paragraph_format.space_after = Pt(6)
    paragraph.paragraph_format.first_line_indent = Cm(1.27)


def _table(
    document: Any,
    header: Sequence[str],
    rows: Sequence[Sequence[object]],
    widths_cm: Sequence[float],
) -> Any:
    table = document.add_table(rows=1, cols=len(header))
    table.style = "Table Grid"
    table.alignment = WD_TABLE_ALIGNMENT.CENTER
    for cell, text in zip(table.rows[0].cells, header, strict=True):
        cell.paragraphs[0].alignment = WD_ALIGN_PARAGRAPH.CENTER
        _run(cell.paragraphs[0], text, size=9.5, bold=True)
    for values in rows:
        cells = table.add_row().cells
        for cell, value in zip(cells, values, strict=True):
            _run(cell.paragraphs[0], "" if value is None else str(value), size=11)
    widths(table, widths_cm)
    _para(document)
    return table


def _overview(document: Any, result: Rollup) -> None:
    t = result.totals
    _heading(document, "I. " + _("OVERALL RESULTS"))
    if not t.total:
        _body(document, _("No tasks are assigned in this unit yet."))
        return
    _body(document, counts_line(t) + ".")
    _body(
        document,
        _(
            "Overdue: %(overdue)d; no report for %(days)d days or more: %(silent)d; "
            "completed in the period: %(done)d."
        )
        % {
            "overdue": t.overdue,
            "days": result.silence_days,
            "silent": t.silent,
            "done": t.done_in_period,
        },
    )
    change = result.completion_change()
    if change is not None and result.previous is not None:
        _body(
            document,
            _(
                "Compared with %(period)s, the completion rate changed by %(change)s "
                "percentage points (from %(before)s to %(now)s)."
            )
            % {
                "period": period_title(result.previous.period),
                "change": signed(change),
                "before": percent(result.previous.totals.completion),
                "now": percent(t.completion),
            },
        )


def _dimensions(document: Any, result: Rollup) -> None:
    _heading(document, "II. " + _("RESULTS BY PAPI DIMENSION"))
    year = result.scores.year if result.scores else None
    header = [
        _("No."),
        _("Task"),
        _("Assignments"),
        _("Done"),
        _("In progress"),
        _("Blocked"),
        _("Overdue"),
        _("Completion"),
    ]
    for row in result.focus_dimensions():  # weakest first, each under its own PAPI number
        score = score_text(row, year)
        title = dimension_name(row.code)
        _heading(document, title + (f" ({score})" if score else ""))
        _body(document, counts_line(row.counts) + ".")
        tasks = [t for t in result.tasks if t.dimension == row.code]
        _table(
            document,
            header,
            [
                (
                    t.stt or t.order,
                    t.text,
                    t.counts.total,
                    t.counts.done,
                    t.counts.in_progress,
                    t.counts.blocked,
                    t.counts.overdue,
                    percent(t.counts.completion),
                )
                for t in tasks
            ],
            TASK_COLUMNS_CM,
        )


def _units(document: Any, result: Rollup) -> None:
    _heading(document, "III. " + _("RESULTS BY UNIT"))
    rows = [
        (
            u.name,
            u.counts.total,
            u.counts.done,
            u.counts.blocked,
            u.counts.overdue,
            u.counts.silent,
            percent(u.counts.completion),
            f"{u.rank}/{u.rank_of}" if u.rank else "",
        )
        for u in result.children
    ]
    if not rows:
        _body(document, _("No units below this one."))
        return
    header = [
        _("Unit"),
        _("Assignments"),
        _("Done"),
        _("Blocked"),
        _("Overdue"),
        _("Silent"),
        _("Completion"),
        _("Rank"),
    ]
    _table(document, header, rows, UNIT_COLUMNS_CM)


def _blocked(document: Any, result: Rollup) -> None:
    _heading(document, "IV. " + _("DIFFICULTIES AND OBSTACLES"))
    if not result.blocked:
        _body(document, _("No task is reported as blocked."))
        return
    _body(
        document,
        ngettext("%(n)d task is blocked:", "%(n)d tasks are blocked:", len(result.blocked))
        % {"n": len(result.blocked)},
    )
    rows = [
        (
            item.unit_name,
            f"#{item.assignment_id} {item.task_text}",  # the task number the chat uses
            item.note or "",
            short_date(item.since.date()) if item.since else "",
        )
        for item in result.blocked
    ]
    _table(document, [_("Unit"), _("Task"), _("Reason"), _("Reported")], rows, BLOCKED_COLUMNS_CM)


def _signature(document: Any, head: Letterhead) -> None:
    table = document.add_table(rows=1, cols=2)
    no_borders(table)
    widths(table, (8.0, 8.5))
    left, right = table.rows[0].cells
    _run(left.paragraphs[0], _("Recipients:"), size=12, bold=True, italic=True)
    for recipient in head.recipients:
        _para(left, f"- {recipient}", size=11)
    center = WD_ALIGN_PARAGRAPH.CENTER
    right.paragraphs[0].alignment = center
    _run(right.paragraphs[0], head.authority, bold=True)
    _para(right, head.signer_title, align=center, bold=True)
    for _blank in range(4):
        _para(right)
    _para(right, head.signer_name, align=center, bold=True)


def write_docx(
    result: Rollup, path: Path, letterhead: Letterhead, chart_png: Path | None = None
) -> Path:
    """Write the document (text in the current locale) and return its path."""
    document = Document()
    _setup(document)
    _letterhead(document, letterhead)
    _title(document, result, letterhead)
    _overview(document, result)
    _dimensions(document, result)
    _units(document, result)
    if chart_png is not None:
        document.add_picture(str(chart_png), width=Cm(16))
        document.paragraphs[-1].alignment = WD_ALIGN_PARAGRAPH.CENTER
    _blocked(document, result)
    _signature(document, letterhead)
    path.parent.mkdir(parents=True, exist_ok=True)
    document.save(str(path))
    return path
