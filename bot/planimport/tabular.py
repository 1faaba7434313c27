"""The XLSX/CSV template, which is also the review file.

One row per task under one header row. Columns (Vietnamese header, or the English key):

| header | key | content |
|---|---|---|
| STT | stt | order number as printed |
| Nhiệm vụ | text | task text (required) |
| Cơ quan chủ trì | lead | lead agencies, separated by ";" |
| Cơ quan phối hợp | coordinating | coordinating agencies, separated by ";" |
| Thời gian hoàn thành | deadline | deadline as written ("Quý II", "Thường xuyên") |
| Loại hạn | deadline_kind | date / recurring / term / unknown; blank: parse the text |
| Hạn (YYYY-MM-DD) | due | the due date when the kind is "date" |
| Ghi chú hạn | note | the rest of the deadline text |
| Chỉ số nội dung | dimension | PAPI dimension 1–8; blank: inferred |
| Nội dung thành phần | subdimension | "2.4" |
| Độ tin cậy | confidence | 0–1; 1 for a dimension set by hand |
| Mục | section | the section the task sits under |
| Cần xem lại | flags | why to look (written by the import; recomputed when read) |

An XLSX may carry a second sheet "Kế hoạch" with rows title / year / number /
report_deadlines ("03-20, 06-20"). Only STT, Nhiệm vụ and Cơ quan chủ trì are required.
Title rows above the header are allowed (the first gives the title if there is no "Kế
hoạch" sheet); a header repeated further down is skipped; cells merged over several rows
repeat their value in the agency and deadline columns.
"""

from __future__ import annotations

import csv
import re
import zipfile
from collections.abc import Iterable
from datetime import date, datetime
from pathlib import Path
from typing import Any

from bot.planimport import calendar
from bot.planimport.agencies import split_agencies
from bot.planimport.classifier import LOW_CONFIDENCE, classify
from bot.planimport.deadlines import parse_deadline
from bot.planimport.limits import XLSX_PARTS, XLSX_TAGS, ImportLimits, check_archive, check_rows
from bot.planimport.model import (
    DEADLINE_KINDS,
    FLAG_LOW_CONFIDENCE,
    FLAG_NEEDS_YEAR,
    FLAG_NO_DIMENSION,
    FLAG_NO_LEAD,
    FLAG_UNKNOWN_DEADLINE,
    Deadline,
    ParsedPlan,
    ParsedTask,
    PlanFormatError,
)
from bot.planimport.prose_review import kept_review_flags, read_scores
from bot.planimport.table import header_key
from kernel.i18n import _
from kernel.textnorm import fold

COLUMNS: list[tuple[str, str]] = [
    ("stt", "STT"),
    ("text", "Nhiệm vụ"),
    ("lead", "Cơ quan chủ trì"),
    ("coordinating", "Cơ quan phối hợp"),
    ("deadline", "Thời gian hoàn thành"),
    ("deadline_kind", "Loại hạn"),
    ("due", "Hạn (YYYY-MM-DD)"),
    ("note", "Ghi chú hạn"),
    ("dimension", "Chỉ số nội dung"),
    ("subdimension", "Nội dung thành phần"),
    ("confidence", "Độ tin cậy"),
    ("section", "Mục"),
    ("flags", "Cần xem lại"),
]
REQUIRED = ("stt", "text", "lead")
PLAN_SHEET = "Kế hoạch"
TASK_SHEET = "Nhiệm vụ"
_KEYS = {header_key(key): key for key, _label in COLUMNS} | {
    header_key(label): key for key, label in COLUMNS
}
_SUBDIMENSION = re.compile(r"^[1-8]\.[1-9]$")


def _text(value: Any) -> str:
    if value is None:
        return ""
    if isinstance(value, datetime):
        return value.date().isoformat()
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    return " ".join(str(value).split()) if "\n" not in str(value) else str(value).strip()


def _columns(header: list[Any], source: str, row: int) -> dict[str, int]:
    found: dict[str, int] = {}
    for index, cell in enumerate(header):
        label = _text(cell)
        if not label:
            continue
        key = _KEYS.get(header_key(label))
        if key is None:
            raise PlanFormatError(
                _("%(file)s row %(row)s: unknown column %(column)s")
                % {"file": source, "row": row, "column": label}
            )
        found[key] = index
    missing = [key for key in REQUIRED if key not in found]
    if missing:
        labels = ", ".join(dict(COLUMNS)[key] for key in missing)
        raise PlanFormatError(
            _("%(file)s row %(row)s: missing column %(column)s")
            % {"file": source, "row": row, "column": labels}
        )
    return found


def _known_labels(cells: list[Any]) -> set[str]:
    return {key for cell in cells if (key := _KEYS.get(header_key(_text(cell))))}


def _header_row(rows: list[list[Any]]) -> int:
    """Index of the header: the first row naming the task text and another known column
    (title rows above it are allowed); the first row if none does, so its error is named."""
    for index, cells in enumerate(rows):
        labels = _known_labels(cells)
        if "text" in labels and len(labels) >= 2:
            return index
    return 0


# Cells merged over several rows repeat their value in these columns (as in a Word table);
# a merged STT or task text does not make a second task.
_REPEAT = ("lead", "coordinating", "deadline", "deadline_kind", "due", "note", "section")


def _unmerge(
    rows: list[list[Any]], merged: list[tuple[int, int, int, int]], repeat: set[int]
) -> None:
    for min_row, min_col, max_row, max_col in merged:
        value = rows[min_row - 1][min_col - 1] if min_row - 1 < len(rows) else None
        for r in range(min_row, max_row + 1):
            for c in range(min_col, max_col + 1):
                if (r, c) == (min_row, min_col) or r - 1 >= len(rows):
                    continue
                cells = rows[r - 1]
                cells.extend([None] * (c - len(cells)))
                cells[c - 1] = value if c - 1 in repeat and r > min_row else None


def _bad(source: str, row: int, column: str, value: str) -> PlanFormatError:
    return PlanFormatError(
        _("%(file)s row %(row)s: bad value %(value)s in column %(column)s")
        % {"file": source, "row": row, "value": repr(value), "column": dict(COLUMNS)[column]}
    )


def _deadline(
    get: dict[str, str], year: int | None, where: tuple[str, int]
) -> tuple[Deadline, list[str]]:
    raw, kind = get.get("deadline", ""), get.get("deadline_kind", "")
    if not kind:
        return parse_deadline(raw, year)
    if kind not in DEADLINE_KINDS:
        raise _bad(*where, "deadline_kind", kind)
    due: date | None = None
    if get.get("due"):
        try:
            due = date.fromisoformat(get["due"][:10])
        except ValueError as exc:
            raise _bad(*where, "due", get["due"]) from exc
    if kind == "date" and due is None:
        raise _bad(*where, "due", "")
    deadline = Deadline(raw=raw, kind=kind, due=due, note=get.get("note") or None)
    flags: list[str] = []
    if kind == "unknown":
        flags.append(FLAG_UNKNOWN_DEADLINE)
        if FLAG_NEEDS_YEAR in parse_deadline(raw, year)[1]:
            flags.append(FLAG_NEEDS_YEAR)
    return deadline, flags


def _dimension(task: ParsedTask, get: dict[str, str], where: tuple[str, int]) -> None:
    value = get.get("dimension", "")
    if not value:
        result = classify(task.text)
        task.dimension, task.subdimension = result.dimension, result.subdimension
        task.confidence = result.confidence
        return
    if not value.isdigit() or not 1 <= int(value) <= 8:
        raise _bad(*where, "dimension", value)
    task.dimension = int(value)
    sub = get.get("subdimension") or None
    if sub is not None and (not _SUBDIMENSION.match(sub) or sub[0] != value):
        raise _bad(*where, "subdimension", sub)
    task.subdimension = sub
    confidence = get.get("confidence", "")
    try:
        task.confidence = float(confidence) if confidence else 1.0
    except ValueError as exc:
        raise _bad(*where, "confidence", confidence) from exc


MAX_STT = 16  # Task.stt column width


def _task(get: dict[str, str], year: int | None, source: str, row: int) -> ParsedTask:
    if len(get.get("stt", "")) > MAX_STT:
        raise _bad(source, row, "stt", get["stt"])
    task = ParsedTask(
        stt=get.get("stt", ""),
        text=get["text"],
        lead=split_agencies(get.get("lead", "").replace("\n", ";")),
        coordinating=split_agencies(get.get("coordinating", "").replace("\n", ";")),
        section=get.get("section") or None,
        source_row=f"row {row}",
    )
    task.deadline, flags = _deadline(get, year, (source, row))
    _dimension(task, get, (source, row))
    for flag in flags:
        task.add_flag(flag)
    if task.dimension is None:
        task.add_flag(FLAG_NO_DIMENSION)
    elif task.confidence is not None and task.confidence < LOW_CONFIDENCE:
        task.add_flag(FLAG_LOW_CONFIDENCE)
    if not task.lead:
        task.add_flag(FLAG_NO_LEAD)
    for flag in kept_review_flags(get.get("flags", ""), task):
        task.add_flag(flag)  # a prose task stays one after review (bot/planimport/prose.py)
    return task


def task_from_fields(get: dict[str, str], year: int | None, source: str, row: int) -> ParsedTask:
    """One task from its review cells (text keyed as :data:`COLUMNS`), by the rules a row
    of an edited review spreadsheet is read with; PlanFormatError names a bad value."""
    return _task(get, year, source, row)


def _tasks(
    rows: list[list[Any]],
    source: str,
    year: int | None,
    merged: list[tuple[int, int, int, int]] | None = None,
) -> list[ParsedTask]:
    if not rows:
        raise PlanFormatError(_("%(file)s: the file is empty") % {"file": source})
    start = _header_row(rows)
    header = rows[start]
    columns = _columns(list(header), source, start + 1)
    _unmerge(rows, merged or [], {columns[k] for k in _REPEAT if k in columns})
    header_keys = [header_key(_text(cell)) for cell in header]
    tasks: list[ParsedTask] = []
    for number, cells in enumerate(rows[start + 1 :], start=start + 2):
        if [header_key(_text(cell)) for cell in cells[: len(header_keys)]] == header_keys:
            continue  # the header repeated after a page break
        get = {key: _text(cells[i]) if i < len(cells) else "" for key, i in columns.items()}
        if not any(get.values()):
            continue
        if not get.get("text"):
            raise _bad(source, number, "text", "")
        tasks.append(_task(get, year, source, number))
    if not tasks:
        raise PlanFormatError(
            _("%(file)s: the table under the header has no task rows") % {"file": source}
        )
    return tasks


def _title_above(rows: list[list[Any]]) -> str | None:
    """A title written in the rows above the header ("PHỤ LỤC ...")."""
    for cells in rows[: _header_row(rows)]:
        text = " ".join(_text(cell) for cell in cells if _text(cell))
        if text and not fold(text).startswith("phu luc"):
            return text
    return None


def _plan_sheet(rows: Iterable[tuple[Any, ...]]) -> dict[str, str]:
    return {_text(row[0]): _text(row[1]) for row in rows if len(row) >= 2 and row[0]}


def read_template(
    path: Path, *, year: int | None = None, limits: ImportLimits | None = None
) -> ParsedPlan:
    """Read an XLSX or CSV template (or a review file written by :func:`write_review`)."""
    source = str(path)
    meta: dict[str, str] = {}
    merged: list[tuple[int, int, int, int]] = []
    limits = limits or ImportLimits()
    if path.suffix.lower() == ".csv":
        rows: list[list[Any]] = _csv_rows(path)
        check_rows(path, len(rows), sum(len(row) for row in rows), limits)
    else:
        rows, meta, merged = _xlsx_rows(path, limits)
    title = meta.get("title") or _title_above(rows) or path.stem
    meta_year = meta.get("year", "")
    plan_year = year or (int(meta_year) if meta_year.isdigit() else None)
    plan_year = plan_year or calendar.plan_year(title, [])
    deadlines = [d.strip() for d in meta.get("report_deadlines", "").split(",") if d.strip()]
    plan = ParsedPlan(
        title=title,
        year=plan_year,
        tasks=_tasks(rows, source, plan_year, merged),
        report_deadlines=deadlines,
        number=meta.get("number") or None,
    )
    read_scores(plan, meta, source)
    return plan


def _csv_rows(path: Path) -> list[list[Any]]:
    """Rows of a UTF-8 CSV; Excel set to Vietnamese may separate with ";" instead of ","."""
    try:
        text = path.read_text(encoding="utf-8-sig")
    except UnicodeDecodeError as exc:
        raise PlanFormatError(
            _("%(file)s: not UTF-8 text (byte %(offset)s)") % {"file": path, "offset": exc.start}
        ) from exc
    first = text.split("\n", 1)[0]
    delimiter = max(",;\t", key=first.count)
    return list(csv.reader(text.splitlines(), delimiter=delimiter))


def _xlsx_rows(
    path: Path, limits: ImportLimits
) -> tuple[list[list[Any]], dict[str, str], list[tuple[int, int, int, int]]]:
    from openpyxl import load_workbook

    if not zipfile.is_zipfile(path):
        raise PlanFormatError(_("%(file)s: not an XLSX file (not a zip archive)") % {"file": path})
    check_archive(path, limits, XLSX_PARTS, XLSX_TAGS)  # before openpyxl unpacks it all
    try:
        book = load_workbook(path, data_only=True)  # not read-only: merged cells are needed
    except Exception as exc:  # openpyxl raises several types for a broken package
        raise PlanFormatError(
            _("%(file)s: cannot read the XLSX file: %(error)s") % {"file": path, "error": exc}
        ) from exc
    try:
        sheet = book[TASK_SHEET] if TASK_SHEET in book.sheetnames else book.worksheets[0]
        rows = [list(row) for row in sheet.iter_rows(values_only=True)]
        merged = [r.bounds for r in sheet.merged_cells.ranges]
        meta = (
            _plan_sheet(book[PLAN_SHEET].iter_rows(values_only=True))
            if (PLAN_SHEET in book.sheetnames)
            else {}
        )
    finally:
        book.close()
    # openpyxl gives bounds as (min_col, min_row, max_col, max_row).
    return rows, meta, [(r1, c1, r2, c2) for c1, r1, c2, r2 in merged]


def write_review(plan: ParsedPlan, path: Path) -> None:
    """The review spreadsheet (written by :mod:`bot.planimport.review`)."""
    from bot.planimport.review import write_review as write  # review imports this module

    write(plan, path)
