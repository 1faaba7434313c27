"""The deadline a prose task names itself, if any.

A plan's running text rarely gives a task a deadline. Where an item does ("hoàn thành trước
ngày 30/6/2021", "trong Quý III/2021", "trước tháng 9/2021", "6 tháng đầu năm 2021") that is
its deadline, written the way the tables write it, and parsed by :mod:`deadlines`. A day
without a year ("báo cáo quý trước ngày 20/3") is the report calendar, not a deadline, and
a date the scanner garbled ("trước ngày 151512021") is not guessed. Otherwise the task is
recurring ("Thường xuyên": reported every period of the plan's calendar), and the caller
flags that as assumed.
"""

from __future__ import annotations

import re

from bot.planimport.ocr import ocr_fold

RECURRING = "Thường xuyên"
_BEFORE = r"(?:truoc|cham nhat|trong|hoan thanh|xong|han)"
_DATE = re.compile(_BEFORE + r"\s+(?:ngay\s+)?(\d{1,2})\s*/\s*(\d{1,2})\s*/\s*(20\d\d)\b")
_QUARTER = re.compile(r"\bquy\s+(iv|iii|ii|i|[1-4])\b(?:\s*(?:/|nam)\s*(20\d\d))?")
_MONTH = re.compile(_BEFORE + r"\s+thang\s+(\d{1,2})\s*(?:/|nam)\s*(20\d\d)\b")
_HALF = re.compile(r"\b6 thang (dau|cuoi) nam\s*(20\d\d)")
_YEAR = re.compile(r"\bhoan thanh (?:trong |truoc )?(?:nam|cuoi nam) (20\d\d)\b")
_ROMAN = {"1": "I", "2": "II", "3": "III", "4": "IV"}


def _quarter(match: re.Match[str]) -> str:
    roman = _ROMAN.get(match.group(1), match.group(1).upper())
    return f"Quý {roman}/{match.group(2)}" if match.group(2) else f"Quý {roman}"


def item_deadline(text: str) -> tuple[str, bool]:
    """(deadline text, assumed): what the item names, else ("Thường xuyên", True)."""
    key = ocr_fold(text)
    if match := _DATE.search(key):
        day, month, found = match.groups()
        return f"Trước ngày {int(day)}/{int(month)}/{found}", False
    if match := _MONTH.search(key):
        return f"Tháng {int(match.group(1))}/{match.group(2)}", False
    if match := _HALF.search(key):
        half = "đầu" if match.group(1) == "dau" else "cuối"
        return f"6 tháng {half} năm {match.group(2)}", False
    if match := _QUARTER.search(key):
        return _quarter(match), False  # no year: parsed with the plan's
    if match := _YEAR.search(key):
        return f"Năm {match.group(1)}", False
    return RECURRING, True
