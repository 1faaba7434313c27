"""What a plan's running text says about itself: title, year, number, report calendar.

The report calendar is read from sentences such as "Thời gian gửi báo cáo quý trước ngày
20/3; báo cáo 6 tháng trước ngày 20/6; báo cáo năm trước ngày 30/11" (Bắc Giang 2021) or
"Cuối năm báo cáo kết quả ... chậm nhất ngày 12/12/2022" (Bắc Kạn 2022): a day/month that
follows the word "báo cáo" within the same clause. OCR'd text without diacritics ("béo cdo
quy trude ngay 20/3") is matched too. An appendix-only file has none: an empty list, and
the configured default calendar applies later.
"""

from __future__ import annotations

import re

from kernel.textnorm import fold, nfc

# "bao cao" and its OCR misreadings ("beo cdo", "bao cdo", "beo ceo").
_REPORT = re.compile(r"\bb[a-z]o c[a-z]o\b")
# "trước ngày 20/3", "chậm nhất ngày 12/12/2022"; OCR reads "trước" as "trude", "trudc".
_DUE = re.compile(r"\b(?:tru\w{1,3}|cham nhat|han)\s+ngay\s+(\d{1,2})\s*/\s*(\d{1,2})\b")
_WINDOW = 90  # characters between "báo cáo" and its date, within one clause
_HEADING = re.compile(r"^\**\s*(ke hoach|phu luc)\s*\**$")
_SEPARATOR = re.compile(r"^[\s\-–—_=*.]+$")
_NUMBER = re.compile(r"^\(?(?:số|kèm theo kế hoạch số)\s*:?\s*(\d+)\s*/\s*(KH-[A-ZĐ]+)", re.I)


def report_deadlines(text: str) -> list[str]:
    """The plan's report days as sorted unique "MM-DD" strings."""
    flat = fold(" ".join(nfc(text).split()))
    found: set[str] = set()
    for report in _REPORT.finditer(flat):
        window = flat[report.end() : report.end() + _WINDOW]
        clause = re.split(r"[;.](?!\d)", window, maxsplit=1)[0]
        match = _DUE.search(clause)
        if match is None:
            continue
        day, month = int(match.group(1)), int(match.group(2))
        if 1 <= month <= 12 and 1 <= day <= 31:
            found.add(f"{month:02d}-{day:02d}")
    return sorted(found)


def _clean_line(line: str) -> str:
    return " ".join(nfc(line).replace("*", " ").split())


def plan_title(lines: list[str]) -> str | None:
    """The subject under "KẾ HOẠCH", else the title under "Phụ lục"."""
    for heading in ("ke hoach", "phu luc"):
        for i, line in enumerate(lines):
            match = _HEADING.match(fold(line))
            if not match or match.group(1) != heading:
                continue
            title = _collect_title(lines[i + 1 : i + 12])
            if title:
                return title
    return None


def _collect_title(following: list[str]) -> str:
    parts: list[str] = []
    for raw in following:
        line = _clean_line(raw)
        if not line:
            continue
        if parts and not line[0].islower():
            break  # a title's next line goes on mid-sentence; a capital starts the body
        key = fold(line)
        if (
            _SEPARATOR.match(line)
            or re.match(r"^([ivx]+|\d+)\.\s", key)
            or key.startswith("(")
            or "\t" in raw
            or len(line) > 220
            or key.startswith("stt")
        ):
            break
        parts.append(line)
        if len(parts) == 4:
            break
    return " ".join(parts)


def plan_year(title: str | None, lines: list[str]) -> int | None:
    """The latest year in the title ("... năm 2021, nâng cao chỉ số năm 2022" → 2022), else
    in the document's date line ("Bắc Kạn, ngày ... năm 2022")."""
    years = [int(y) for y in re.findall(r"\b(20\d{2})\b", title or "")]
    if years:
        return max(years)
    for line in lines[:40]:
        match = re.search(r"ngay .*nam (20\d{2})\b", fold(line))
        if match:
            return int(match.group(1))
    return None


def plan_number(lines: list[str]) -> str | None:
    """The plan's number ("99/KH-UBND") where it is filled in."""
    for line in lines:
        match = _NUMBER.search(_clean_line(line))
        if match:
            return f"{match.group(1)}/{match.group(2).upper()}"
    return None
