"""``parse_plan``: pick the reader by the file's extension and content, then read the
plan's own text for its title, year, number and report calendar."""

from __future__ import annotations

import hashlib
from pathlib import Path

from bot.planimport import calendar, docxfile, pdftext, prose, tabular, tsv
from bot.planimport.limits import ImportLimits, check_file_size, check_rows
from bot.planimport.model import ParsedPlan, PlanFormatError
from bot.planimport.table import RawRow, header_roles, read_rows
from kernel.i18n import _

TEXT_SUFFIXES = {".txt", ".tsv", ".text"}


def _read_bytes(path: Path) -> bytes:
    if not path.is_file():
        raise PlanFormatError(_("%(file)s: no such file") % {"file": path})
    data = path.read_bytes()
    if not data.strip():
        raise PlanFormatError(_("%(file)s: the file is empty") % {"file": path})
    return data


def _decode(path: Path, data: bytes) -> str:
    try:
        return data.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        raise PlanFormatError(
            _("%(file)s: not UTF-8 text (byte %(offset)s)") % {"file": path, "offset": exc.start}
        ) from exc


def _from_rows(path: Path, rows: list[RawRow], lines: list[str], year: int | None) -> ParsedPlan:
    title = calendar.plan_title(lines) or path.stem
    plan_year = year or calendar.plan_year(title, lines)
    tasks = read_rows(rows, year=plan_year, source=str(path))
    return ParsedPlan(
        title=title,
        year=plan_year,
        tasks=tasks,
        report_deadlines=calendar.report_deadlines("\n".join(lines)),
        number=calendar.plan_number(lines),
    )


def _from_prose(path: Path, lines: list[str], year: int | None) -> ParsedPlan:
    """A plan without a table: tasks from its running text (bot/planimport/prose.py)."""
    prose.refuse_garbled(lines, str(path))
    title = calendar.plan_title(lines) or path.stem
    plan_year = year or calendar.plan_year(title, lines)
    read = prose.read_prose(lines, year=plan_year, source=str(path))
    return ParsedPlan(
        title=title,
        year=plan_year,
        tasks=read.tasks,
        report_deadlines=calendar.report_deadlines("\n".join(lines)),
        number=calendar.plan_number(lines),
        scores=read.scores,
        scores_year=read.scores_year,
    )


def _parse_text(path: Path, data: bytes, year: int | None, limits: ImportLimits) -> ParsedPlan:
    lines = _decode(path, data).splitlines()
    if tsv.has_tab_table(lines):
        rows = tsv.tab_rows(lines)
    elif pdftext.is_pdf_table(lines):
        rows = pdftext.pdf_rows(lines)
    elif prose.is_prose_plan(lines):
        return _from_prose(path, lines, year)  # a table always wins: checked above
    else:
        prose.refuse_garbled(lines, str(path))
        if not any("\t" in line for line in lines):
            raise PlanFormatError(
                _(
                    "%(file)s: no recognisable table header (expected columns such as "
                    "STT / Nhiệm vụ / Cơ quan chủ trì / Thời gian hoàn thành), and no task "
                    'part in the text ("Nội dung thực hiện" or "Nhiệm vụ, giải pháp" with '
                    "items a), b) …)"
                )
                % {"file": path}
            )
        rows = tsv.tab_rows(lines)  # read_rows names the missing header
    check_rows(path, len(rows), sum(len(row.cells) for row in rows), limits)
    return _from_rows(path, rows, lines, year)


def parse_plan(
    path: Path, *, year: int | None = None, limits: ImportLimits | None = None
) -> ParsedPlan:
    """Read a plan file. Raises :class:`PlanFormatError` naming the file (and row)."""
    path, limits = Path(path), limits or ImportLimits()
    check_file_size(path, limits)
    data = _read_bytes(path)
    suffix = path.suffix.lower()
    if suffix in TEXT_SUFFIXES:
        plan = _parse_text(path, data, year, limits)
    elif suffix == ".docx":
        rows, lines = docxfile.docx_rows(path, limits)
        if not any(header_roles(row.cells) for row in rows) and prose.is_prose_plan(lines):
            # One paragraph a line: a blank line between them, as between typed paragraphs.
            plan = _from_prose(path, [text for line in lines for text in (line, "")], year)
        else:
            plan = _from_rows(path, rows, lines, year)
    elif suffix in {".xlsx", ".csv"}:
        plan = tabular.read_template(path, year=year, limits=limits)
    else:
        raise PlanFormatError(
            _("%(file)s: unknown format %(suffix)s (use .txt, .docx, .xlsx or .csv)")
            % {"file": path, "suffix": suffix or "(none)"}
        )
    plan.source_file = path.name
    plan.source_sha256 = hashlib.sha256(data).hexdigest()
    return plan
