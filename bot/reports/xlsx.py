"""The roll-up as a workbook: summary, one sheet per PAPI dimension, the task × unit matrix with
status colours, and the blocked items with their notes. Headers frozen, widths that fit."""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

from openpyxl import Workbook
from openpyxl.styles import Alignment, Font, PatternFill
from openpyxl.utils import get_column_letter
from openpyxl.worksheet.worksheet import Worksheet

from bot.reports.cells import append_row, cell_value, save_workbook
from bot.reports.columns import count_cells, count_headers
from bot.reports.text import dimension_name, period_title, status_label
from kernel.dates import short_date, short_datetime
from kernel.i18n import _, current_locale
from storage.rollup import UNCLASSIFIED, Counts, Rollup

FILLS = {
    "done": "C6EFCE",
    "in_progress": "FFEB9C",
    "blocked": "FFC7CE",
    "not_started": "EDEDED",
}
HEADER_FILL = PatternFill("solid", fgColor="D9E1F2")
BOLD = Font(bold=True)
MAX_WIDTH = 60


def cell_status(counts: Counts) -> str:
    """The colour of a matrix cell: one status, or the worst news of several."""
    if counts.total and counts.done == counts.total:
        return "done"
    if counts.blocked:
        return "blocked"
    if counts.in_progress or counts.done:
        return "in_progress"
    return "not_started"


def cell_text(counts: Counts) -> str:
    """A single assignment shows its status; several show done/total."""
    if counts.total == 1:
        for status in FILLS:
            if getattr(counts, status):
                return status_label(status)
    return f"{counts.done}/{counts.total}"


def _title(sheet: Worksheet, title: str, subtitle: str) -> int:
    append_row(sheet, [title])
    sheet["A1"].font = Font(bold=True, size=13)
    append_row(sheet, [subtitle])
    append_row(sheet, ())
    return 4  # the header row


def _header(sheet: Worksheet, row: int, values: Sequence[str], freeze_columns: int = 1) -> None:
    for column, value in enumerate(values, start=1):
        cell = sheet.cell(row=row, column=column, value=cell_value(value))
        cell.font = BOLD
        cell.fill = HEADER_FILL
        cell.alignment = Alignment(wrap_text=True, vertical="center")
    # Rows above and columns left of this cell stay in view when scrolling.
    sheet.freeze_panes = f"{get_column_letter(freeze_columns + 1)}{row + 1}"


def _fit(sheet: Worksheet, header_row: int) -> None:
    """Column widths from the longest value below the title, capped; long text wraps."""
    widths: dict[int, int] = {}
    for row in sheet.iter_rows(min_row=header_row):
        for cell in row:
            if cell.value is None:
                continue
            length = max(len(line) for line in str(cell.value).splitlines() or [""])
            widths[cell.column] = max(widths.get(cell.column, 0), length)
            if length > MAX_WIDTH:
                cell.alignment = Alignment(wrap_text=True, vertical="top")
    for column, width in widths.items():
        sheet.column_dimensions[get_column_letter(column)].width = min(MAX_WIDTH, width + 2)


def _subtitle(result: Rollup) -> str:
    return _("%(period)s · as of %(moment)s") % {
        "period": period_title(result.period),
        "moment": short_datetime(result.as_of, current_locale()),
    }


def _summary_sheet(sheet: Worksheet, result: Rollup) -> None:
    sheet.title = _("Summary")
    header = _title(
        sheet, _("Progress report: %(unit)s") % {"unit": result.unit.name}, _subtitle(result)
    )
    scores = result.scores
    score_header = [_("PAPI scores %(year)d") % {"year": scores.year}] if scores else []
    _header(sheet, header, [_("Scope"), *count_headers(), _("Rank"), *score_header])
    append_row(sheet, [_("Total"), *count_cells(result.totals), None])
    for row in result.dimensions:
        if row.counts.total or row.code != UNCLASSIFIED:
            score = [row.score] if scores else []
            append_row(sheet, [dimension_name(row.code), *count_cells(row.counts), None, *score])
    for unit in result.children:
        rank = f"{unit.rank}/{unit.rank_of}" if unit.rank else None
        append_row(sheet, [unit.name, *count_cells(unit.counts), rank])
    if result.previous is not None:
        append_row(sheet, ())
        append_row(
            sheet,
            [_("Previous period: %(period)s") % {"period": period_title(result.previous.period)}],
        )
        append_row(sheet, [_("Total"), *count_cells(result.previous.totals), None])
    _fit(sheet, header)


def _dimension_sheets(book: Workbook, result: Rollup) -> None:
    for row in result.dimensions:
        tasks = [t for t in result.tasks if t.dimension == row.code]
        if not tasks:
            continue
        code = row.code or _("Other")
        sheet = book.create_sheet((_("Dimension %(code)s") % {"code": code})[:31])
        header = _title(sheet, dimension_name(row.code), _subtitle(result))
        _header(sheet, header, [_("No."), _("Task"), _("Deadline"), *count_headers()], 2)
        for task in tasks:
            deadline = short_date(task.due_date) if task.due_date else task.deadline_raw
            append_row(
                sheet, [task.stt or str(task.order), task.text, deadline, *count_cells(task.counts)]
            )
        append_row(sheet, [None, _("Total"), None, *count_cells(row.counts)])
        _fit(sheet, header)


def _matrix_sheet(book: Workbook, result: Rollup) -> None:
    sheet = book.create_sheet(_("Tasks by unit"))
    units = [u for u in result.children if u.counts.total]
    header = _title(sheet, _("Tasks by unit"), _subtitle(result))
    _header(sheet, header, [_("No."), _("Task"), *(u.name for u in units)], 2)
    for task in result.tasks:
        append_row(sheet, [task.stt or str(task.order), task.text])
        row = sheet.max_row
        for column, unit in enumerate(units, start=3):
            counts = result.matrix.get((task.task_id, unit.unit_id))
            if counts is None or not counts.total:
                continue
            cell = sheet.cell(row=row, column=column, value=cell_text(counts))
            cell.fill = PatternFill("solid", fgColor=FILLS[cell_status(counts)])
            cell.alignment = Alignment(horizontal="center")
    _fit(sheet, header)


def _blocked_sheet(book: Workbook, result: Rollup) -> None:
    sheet = book.create_sheet(_("Blocked"))
    header = _title(sheet, _("Blocked tasks and their reasons"), _subtitle(result))
    _header(sheet, header, [_("Unit"), _("No."), _("Task"), _("Reason"), _("Reported")])
    for item in result.blocked:
        since = short_datetime(item.since, current_locale()) if item.since else None
        number = f"#{item.assignment_id}"  # the task number of the chat and the reminders
        append_row(sheet, [item.unit_name, number, item.task_text, item.note or "", since])
    _fit(sheet, header)


def write_xlsx(result: Rollup, path: Path) -> Path:
    """Write the workbook (labels in the current locale) and return its path."""
    if result.tasks and not result.matrix:
        raise ValueError("the XLSX needs a roll-up made with with_matrix=True")
    book = Workbook()
    sheet = book.active
    assert isinstance(sheet, Worksheet)
    _summary_sheet(sheet, result)
    _dimension_sheets(book, result)
    _matrix_sheet(book, result)
    _blocked_sheet(book, result)
    return save_workbook(book, path)
