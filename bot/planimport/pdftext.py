"""PDF-extracted text of an appendix table (the end of seed 002).

The extractor writes each cell over several lines and runs columns together: a row is the
task number ("1.") followed by the task text lines, then the lead and coordinating cells
(sometimes on one line: "Sở Nội vụ Các sở, ban, ngành,"), then the deadline ("Thường
xuyên", sometimes at the end of the coordinating line). The header comes back after each
page break with "Thời gian" / "hoàn thành" on lines of their own; what follows it up to
the next number continues the row cut by the break, column by column (the rest of the text,
and the agency and deadline cells when they are on the new page). Rows are numbered 1, 2,
3…: only the next number opens a row, so a number inside the text cannot. A deadline
worded in a way the parser does not know cannot be told from the coordinating column here:
it stays in that cell and the task is flagged ``unknown_deadline``.
"""

from __future__ import annotations

import re

from bot.planimport.agencies import AGENCY_WORDS, split_at_starts
from bot.planimport.deadlines import looks_like_deadline
from bot.planimport.table import RawRow
from kernel.textnorm import fold, nfc

HEADER = ["STT", "Nhiệm vụ", "Cơ quan chủ trì", "Cơ quan phối hợp", "Thời gian hoàn thành"]
_HEADER_LINE = re.compile(r"^(stt|so tt|tt)\s+nhiem vu\b.*\b(chu tri|phoi hop)\b")
_HEADER_PIECES = {"thoi gian", "hoan thanh", "thoi gian hoan thanh", "thoi han"}
_ROW_START = re.compile(r"^(\d{1,3})\.(?:\s+(.*))?$")
_END = re.compile(r"^(noi nhan|phu luc\b|kt\. |tm\. )")
_AGENCY_START = re.compile(rf"^(?:{AGENCY_WORDS}|các sở)\b")
_AGENCY_LINE_MAX = 45  # agency columns are narrow; task text lines are about 60 characters
_UNFINISHED = {"va", "cap", "tuyen", "cua", "thuoc", "&", "-", "ubnd", "phong", "ban"}


def is_pdf_table(lines: list[str]) -> bool:
    return any(_HEADER_LINE.match(fold(line)) for line in lines)


def join_lines(lines: list[str]) -> str:
    """Join wrapped lines; a line ending in "-" ("số 09-" / "CT/TU") joins without a space."""
    text = ""
    for line in lines:
        if text.endswith("-") and not text.endswith(" -"):
            text += line
        else:
            text = f"{text} {line}" if text else line
    return text


def _split_deadline(lines: list[str]) -> str:
    """Remove and return the deadline at the end of the row's lines ("" if none)."""
    if not lines:
        return ""
    last = lines[-1]
    if looks_like_deadline(last):
        lines.pop()
        return last
    words = last.split()
    for size in range(min(6, len(words) - 1), 0, -1):
        suffix = " ".join(words[-size:])
        if suffix[:1].isupper() and looks_like_deadline(suffix):
            lines[-1] = " ".join(words[:-size])
            return suffix
    return ""


def _unfinished(text: str) -> bool:
    words = fold(text).split()
    return text.rstrip().endswith(",") or (bool(words) and words[-1] in _UNFINISHED)


def _split_agencies(lines: list[str]) -> tuple[str, str]:
    """(lead cell, coordinating cell) from the agency lines of one row."""
    lead: list[str] = []
    coordinating: list[str] = []
    for line in lines:
        if coordinating:
            coordinating.append(line)
            continue
        pieces = split_at_starts(line)
        if lead and not _unfinished(lead[-1]) and _AGENCY_START.match(line):
            coordinating.append(line)  # the lead cell ended; this is the next column
        elif len(pieces) > 1:
            lead.append(pieces[0])
            coordinating.append(" ".join(pieces[1:]))
        else:
            lead.append(line)
    return join_lines(lead), join_lines(coordinating)


def _segment_cells(lines: list[str], continued: bool) -> list[str]:
    """[text, lead, coordinating, deadline] of one page's part of a row. On the page after
    a break the agency columns may start at once (the text ended on the page before)."""
    deadline = _split_deadline(lines)
    first = 0 if continued else 1
    start = next(
        (
            i
            for i, line in enumerate(lines)
            if i >= first and len(line) <= _AGENCY_LINE_MAX and _AGENCY_START.match(line)
        ),
        len(lines),
    )
    lead, coordinating = _split_agencies(lines[start:])
    return [join_lines(lines[:start]), lead, coordinating, deadline]


def _row_cells(stt: str, segments: list[list[str]]) -> list[str]:
    """Merge the parts of a row cut by page breaks, column by column."""
    merged = ["", "", "", ""]
    for number, segment in enumerate(segments):
        if not segment:
            continue
        for column, cell in enumerate(_segment_cells(list(segment), number > 0)):
            merged[column] = join_lines([c for c in (merged[column], cell) if c])
    return [stt, *merged]


def pdf_rows(lines: list[str]) -> list[RawRow]:
    """The appendix table as rows of [STT, text, lead, coordinating, deadline]."""
    rows: list[RawRow] = []
    expected = 1
    segments: list[list[str]] = []  # the current row, one list of lines per page
    row_stt: str | None = None
    row_where = ""
    in_table = False

    def flush() -> None:
        if row_stt is not None and any(segments):
            rows.append(RawRow(cells=_row_cells(row_stt, segments), where=row_where))

    for number, raw in enumerate(lines, start=1):
        line = " ".join(nfc(raw).split())
        key = fold(line)
        if not in_table:
            if _HEADER_LINE.match(key):
                in_table = True
                rows.append(RawRow(cells=list(HEADER), where=f"line {number}"))
            continue
        if not line or key in _HEADER_PIECES or line.isdigit():
            continue
        if _END.match(key):
            break
        if _HEADER_LINE.match(key):
            segments.append([])  # a page break inside the current row
            continue
        start = _ROW_START.match(line)
        if start and int(start.group(1)) == expected:
            flush()
            row_stt, row_where = f"{expected}.", f"line {number}"
            segments = [[start.group(2)] if start.group(2) else []]
            expected += 1
            continue
        if segments:
            segments[-1].append(line)
    flush()
    return rows
