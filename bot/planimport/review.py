"""The review spreadsheet: the template of :mod:`bot.planimport.tabular`, filled with what
the import understood, every field editable, flagged rows highlighted. Read back with
``tabular.read_template`` after the edits."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from bot.planimport.model import DEADLINE_KINDS, ParsedPlan, ParsedTask
from bot.planimport.prose_review import write_scores
from bot.planimport.tabular import COLUMNS, PLAN_SHEET, TASK_SHEET, task_from_fields
from bot.reports.cells import append_row, save_workbook


def _task_values(task: ParsedTask) -> list[Any]:
    return [
        task.stt,
        task.text,
        "; ".join(task.lead),
        "; ".join(task.coordinating),
        task.deadline.raw,
        task.deadline.kind,
        task.deadline.due.isoformat() if task.deadline.due else None,
        task.deadline.note,
        task.dimension,
        task.subdimension,
        task.confidence,
        task.section,
        ", ".join(task.flags),
    ]


def review_fields(task: ParsedTask) -> dict[str, str]:
    """The task as the review spreadsheet's cells, as text keyed like ``COLUMNS``."""
    keys = [key for key, _label in COLUMNS]
    return {
        key: "" if value is None else str(value)
        for key, value in zip(keys, _task_values(task), strict=True)
    }


def apply_review(
    task: ParsedTask, changes: dict[str, str], year: int | None, source: str, row: int
) -> ParsedTask:
    """The task with some review cells changed (the web console's review table), read by
    the very rules an edited ``--review-out`` spreadsheet is read with."""
    reviewed = task_from_fields(review_fields(task) | changes, year, source, row)
    reviewed.source_row = task.source_row
    return reviewed


def _validations(sheet: Any) -> None:
    """Drop-down lists for the deadline kind and the dimension, so edits stay readable."""
    from openpyxl.worksheet.datavalidation import DataValidation

    keys = [key for key, _label in COLUMNS]
    last = max(sheet.max_row, 2)
    kinds = DataValidation(type="list", formula1='"' + ",".join(DEADLINE_KINDS) + '"')
    dimensions = DataValidation(type="whole", operator="between", formula1="1", formula2="8")
    for rule, key in ((kinds, "deadline_kind"), (dimensions, "dimension")):
        column = chr(ord("A") + keys.index(key))
        rule.add(f"{column}2:{column}{last}")
        sheet.add_data_validation(rule)


def write_review(plan: ParsedPlan, path: Path) -> None:
    """The review spreadsheet: every field editable, flagged rows highlighted."""
    from openpyxl import Workbook
    from openpyxl.styles import Alignment, Font, PatternFill

    book = Workbook()
    sheet = book.active
    assert sheet is not None
    sheet.title = TASK_SHEET
    append_row(sheet, [label for _key, label in COLUMNS])
    for cell in sheet[1]:
        cell.font = Font(bold=True)
    highlight = PatternFill(start_color="FFF2CC", end_color="FFF2CC", fill_type="solid")
    for task in plan.tasks:
        append_row(sheet, _task_values(task))
        if task.flags:
            for cell in sheet[sheet.max_row]:
                cell.fill = highlight
    widths = [6, 70, 28, 36, 22, 11, 14, 24, 10, 10, 10, 24, 30]
    for index, width in enumerate(widths):
        sheet.column_dimensions[chr(ord("A") + index)].width = width
    for row in sheet.iter_rows(min_row=2):
        for cell in row:
            cell.alignment = Alignment(wrap_text=True, vertical="top")
    sheet.freeze_panes = "C2"
    _validations(sheet)
    meta = book.create_sheet(PLAN_SHEET)
    for key, value in (("title", plan.title), ("year", plan.year), ("number", plan.number)):
        append_row(meta, [key, value])
    append_row(meta, ["report_deadlines", ", ".join(plan.report_deadlines)])
    for score_row in write_scores(plan):  # a prose plan's stated scores survive the review
        append_row(meta, score_row)
    save_workbook(book, path)  # plan text starting with "=" stays text
