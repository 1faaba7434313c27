"""Deadlines as the plans write them: the raw text is kept, the meaning parsed.

"Thường xuyên" → recurring (reported every period); "Theo nhiệm kỳ" → by term of office;
"Năm 2024", "Quý III/2024", "Quý II", "Tháng 9/2025", "6 tháng đầu năm 2025", "Quý IV năm
2025", "trước ngày 30/12/2024" → a date (the last day of the period). Text after ";" is kept
as a note ("Quý II; triển khai đánh giá trong năm 2024"). Anything else is ``unknown`` and
flagged for review: a date is never guessed.
"""

from __future__ import annotations

import calendar
import re
from datetime import date

from bot.planimport.model import FLAG_NEEDS_YEAR, FLAG_UNKNOWN_DEADLINE, Deadline
from bot.planimport.ocr import ocr_fold
from kernel.textnorm import fold, nfc

_ROMAN = {"i": 1, "ii": 2, "iii": 3, "iv": 4}
_YEAR = r"(?:\s*(?:/|-|nam)\s*(\d{4}))?"
_RECURRING = re.compile(r"^(thuong xuyen|hang nam|hang quy|hang thang|dinh ky|lien tuc)\b")
_TERM = re.compile(r"\b(theo nhiem ky|nhiem ky)\b")
_FULL_DATE = re.compile(r"(\d{1,2})\s*/\s*(\d{1,2})\s*/\s*(\d{4})")
_DAY_MONTH = re.compile(r"\bngay\s+(\d{1,2})\s*/\s*(\d{1,2})\b(?!\s*/)")
_QUARTER = re.compile(r"\bquy\s+(iv|iii|ii|i|[1-4])\b" + _YEAR)
_HALF = re.compile(r"\b6 thang (dau|cuoi) nam" + r"(?:\s*(\d{4}))?")
_MONTH = re.compile(r"\bthang\s+(\d{1,2})" + _YEAR)
_YEAR_ONLY = re.compile(r"^(?:trong |cuoi |hoan thanh trong |truoc )?nam\s+(\d{4})\b")
_ANY_YEAR = re.compile(r"\b(20\d{2})\b")


def _month_end(year: int, month: int) -> date:
    return date(year, month, calendar.monthrange(year, month)[1])


def _pick_year(found: str | None, fallback: int | None) -> int | None:
    return int(found) if found else fallback


def _parse_main(main: str, year: int | None) -> tuple[str, date | None, bool]:
    """(kind, due, needs_year) for the part before any ";"."""
    key = ocr_fold(main)  # "Thirong xuyén" (scanned) is "Thường xuyên"
    if not key:
        return "unknown", None, False
    if _RECURRING.search(key):
        return "recurring", None, False
    if _TERM.search(key):
        return "term", None, False
    if match := _FULL_DATE.search(key):
        day, month, full_year = (int(g) for g in match.groups())
        try:
            return "date", date(full_year, month, day), False
        except ValueError:
            return "unknown", None, False
    if match := _QUARTER.search(key):
        chosen = _pick_year(match.group(2), year)
        quarter = _ROMAN.get(match.group(1)) or int(match.group(1))
        if chosen is None:
            return "unknown", None, True
        return "date", _month_end(chosen, quarter * 3), False
    if match := _HALF.search(key):
        chosen = _pick_year(match.group(2), year)
        if chosen is None:
            return "unknown", None, True
        return "date", _month_end(chosen, 6 if match.group(1) == "dau" else 12), False
    if match := _MONTH.search(key):
        chosen, month = _pick_year(match.group(2), year), int(match.group(1))
        if not 1 <= month <= 12:
            return "unknown", None, False
        if chosen is None:
            return "unknown", None, True
        return "date", _month_end(chosen, month), False
    if match := _DAY_MONTH.search(key):
        if year is None:
            return "unknown", None, True
        try:
            return "date", date(year, int(match.group(2)), int(match.group(1))), False
        except ValueError:
            return "unknown", None, False
    if match := _YEAR_ONLY.search(key):
        return "date", date(int(match.group(1)), 12, 31), False
    return "unknown", None, False


def parse_deadline(raw: str, year: int | None = None) -> tuple[Deadline, list[str]]:
    """The deadline of a task and the review flags it raises.

    ``year`` is the plan's year, used where the text gives none ("Quý II").
    """
    text = " ".join(nfc(raw).split())
    main, _, rest = text.partition(";")
    note = rest.strip() or None
    fallback = year
    if fallback is None and note and (found := _ANY_YEAR.search(note)):
        fallback = int(found.group(1))
    kind, due, needs_year = _parse_main(main, fallback)
    flags: list[str] = []
    if kind == "unknown":
        flags.append(FLAG_UNKNOWN_DEADLINE)
        if needs_year:
            flags.append(FLAG_NEEDS_YEAR)
    return Deadline(raw=text, kind=kind, due=due, note=note), flags


_DEADLINE_START = re.compile(
    r"^(thuong xuyen|theo nhiem ky|nam \d|trong nam|cuoi nam|quy [ivx1-4]|thang \d|"
    r"truoc ngay|truoc|cham nhat|han|6 thang|hang (nam|quy|thang)|dinh ky|\d{1,2}/\d)"
)


def looks_like_deadline(text: str) -> bool:
    """True when ``text`` is a whole deadline cell ("Thường xuyên", "Quý III/2024"), not a
    phrase that merely contains one."""
    key = fold(text)
    if not _DEADLINE_START.match(key):
        return False
    kind, _due, needs_year = _parse_main(text.partition(";")[0], 2000)
    return kind != "unknown" or needs_year
