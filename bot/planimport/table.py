"""From table rows to tasks: header variants, page breaks, grouped appendices, merged cells.

Every reader (tab-separated text, PDF text, DOCX) turns its file into :class:`RawRow`s; this
module finds the header ("STT / Nhiệm vụ / Cơ quan chủ trì / Cơ quan phối hợp / Thời gian
hoàn thành", "Số TT / Nhiệm vụ trọng tâm / …", "TT / Chỉ số nội dung/ Nội dung thành phần /
Nhiệm vụ, giải pháp / …", matched folded and without spaces) and reads the rows under it:

- a repeated header (a page break) is skipped; the row after it with no STT whose text starts
  lower-case continues the previous task;
- a Roman-numeral row ("III SỞ TÀI NGUYÊN VÀ MÔI TRƯỜNG CHỦ TRÌ THỰC HIỆN") opens a section
  whose name is the lead agency of the rows under it;
- in a grouped table, "1 Tham gia của người dân ở cấp cơ sở" sets the dimension and "1.1 Tri
  thức công dân" the sub-dimension (by name: section numbering restarts); a row with blank STT
  and a task text is a further task of the same sub-dimension, and its blank coordinating or
  deadline cell takes the value of the row above (merged cells).
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from bot.planimport.agencies import display_name, split_agencies
from bot.planimport.classifier import LOW_CONFIDENCE, classify, match_taxonomy
from bot.planimport.deadlines import parse_deadline
from bot.planimport.model import (
    FLAG_LOW_CONFIDENCE,
    FLAG_NO_DIMENSION,
    FLAG_NO_LEAD,
    ParsedTask,
    PlanFormatError,
)
from bot.planimport.ocr import ocr_fold
from kernel.i18n import _
from kernel.textnorm import fold, nfc, strip_diacritics

ROLES = ("stt", "group", "text", "lead", "coordinating", "deadline")
HEADER_WORDS: dict[str, tuple[str, ...]] = {
    "stt": ("stt", "sott", "tt", "sothutu"),
    "group": ("chisonoidungnoidungthanhphan", "chisonoidung", "noidungthanhphan"),
    "text": (
        "nhiemvu",
        "nhiemvutrongtam",
        "nhiemvugiaiphap",
        "noidung",
        "noidungnhiemvu",
        "nhiemvucuthe",
        "giaiphap",
    ),
    "lead": ("coquanchutri", "donvichutri", "chutri", "coquandonvichutri"),
    "coordinating": ("coquanphoihop", "donviphoihop", "phoihop", "coquandonviphoihop"),
    "deadline": (
        "thoigianhoanthanh",
        "thoigianthuchien",
        "thoihan",
        "thoigian",
        "thoihanhoanthanh",
    ),
}
_ROMAN = re.compile(r"^(?=[ivxl]+\.?$)(x{0,3})(ix|iv|v?i{0,3})\.?$")
_DIMENSION = re.compile(r"^\d+\.?$")
_SUBDIMENSION = re.compile(r"^\d+\.\d+\.?$")
_TAGS = re.compile(r"<[^>]+>")
_HEADER_CELL_MAX = 80
_SECTION_SUFFIX = re.compile(r"\s*chu tri(?: thuc hien)?\s*$")


@dataclass
class RawRow:
    cells: list[str]
    where: str  # "line 12", "row 7", "table 1 row 3": for error messages and review


def header_key(cell: str) -> str:
    return re.sub(r"[^a-z0-9]", "", ocr_fold(cell))  # also "Co quan chir tri" (scanned)


def header_roles(cells: list[str]) -> dict[str, int] | None:
    """Column index of each role if ``cells`` is a header row, else None."""
    roles: dict[str, int] = {}
    for index, cell in enumerate(cells):
        if len(cell) > _HEADER_CELL_MAX:
            continue  # a task text, not a column title: spare folding it
        key = header_key(cell)
        for role, words in HEADER_WORDS.items():
            if key in words and role not in roles:
                roles[role] = index
                break
    if "text" in roles and len(roles) >= 3:
        return roles
    return None


def clean_cell(cell: str) -> str:
    return " ".join(_TAGS.sub("", nfc(cell)).split())


def _section_lead(name: str) -> str:
    text = clean_cell(name)
    key = strip_diacritics(text).lower()
    if len(key) == len(text) and (match := _SECTION_SUFFIX.search(key)):
        text = text[: match.start()]
    return display_name(text)


class _Reader:
    def __init__(self, roles: dict[str, int]) -> None:
        self.roles = roles
        self.grouped = "group" in roles
        self.tasks: list[ParsedTask] = []
        self.section: str | None = None
        self.section_lead: str | None = None
        self.dimension: int | None = None
        self.subdimension: str | None = None
        self.previous: dict[str, str] = {}

    def cell(self, cells: list[str], role: str) -> str:
        index = self.roles.get(role)
        if index is None or index >= len(cells):
            return ""
        return clean_cell(cells[index])

    def feed(self, row: RawRow) -> None:
        if header_roles(row.cells) is not None:
            return  # the header again, after a page break
        get = {role: self.cell(row.cells, role) for role in ROLES}
        if not any(get.values()):
            return
        stt, text = get["stt"], get["text"]
        others = get["lead"] or get["coordinating"] or get["deadline"]
        if _ROMAN.match(stt.lower()) and not others:
            self._open_section(get["group"] or text)
            return
        if self.grouped and _DIMENSION.match(stt) and not text:
            self._open_dimension(get["group"])
            return
        if self.grouped and _SUBDIMENSION.match(stt):
            self._open_subdimension(get["group"])
        if not text:
            return
        if not stt and not others and not get["group"] and text[0].islower() and self.tasks:
            self.tasks[-1].text = f"{self.tasks[-1].text} {text}"
            return
        self._add_task(row, get)

    def _open_section(self, name: str) -> None:
        self.section = clean_cell(name) or None
        # "III SỞ TÀI NGUYÊN VÀ MÔI TRƯỜNG CHỦ TRÌ THỰC HIỆN" names the lead; a plain heading
        # ("I NHÓM NHIỆM VỤ CHUNG") does only where the table has no lead column.
        names_lead = bool(_SECTION_SUFFIX.search(fold(name))) or "lead" not in self.roles
        self.section_lead = _section_lead(name) if name and names_lead else None
        self.dimension, self.subdimension = None, None
        self.previous = {}

    def _open_dimension(self, name: str) -> None:
        code = match_taxonomy(name)
        self.dimension = int(code) if code else None
        self.subdimension = None
        self.previous = {}

    def _open_subdimension(self, name: str) -> None:
        self.subdimension = match_taxonomy(name, self.dimension) if self.dimension else None
        self.previous = {}

    def _inherit(self, role: str, value: str) -> str:
        """Blank coordinating/deadline cells of a grouped table repeat the row above."""
        if value or not self.grouped:
            self.previous[role] = value
            return value
        return self.previous.get(role, "")

    def _add_task(self, row: RawRow, get: dict[str, str]) -> None:
        lead_cell = get["lead"] or (self.section_lead or "")
        task = ParsedTask(
            stt=get["stt"],
            text=get["text"],
            lead=split_agencies(lead_cell),
            coordinating=split_agencies(self._inherit("coordinating", get["coordinating"])),
            section=self.section,
            source_row=row.where,
        )
        task.deadline.raw = self._inherit("deadline", get["deadline"])
        if self.grouped and self.dimension is not None:
            task.dimension = self.dimension
            task.subdimension = self.subdimension
            task.confidence = 1.0
        self.tasks.append(task)


def finish_task(task: ParsedTask, year: int | None) -> None:
    """Parse the deadline, infer a missing dimension, and raise the review flags."""
    task.deadline, flags = parse_deadline(task.deadline.raw, year)
    for flag in flags:
        task.add_flag(flag)
    if task.dimension is None:
        result = classify(task.text)
        task.dimension, task.subdimension = result.dimension, result.subdimension
        task.confidence = result.confidence
    if task.dimension is None:
        task.add_flag(FLAG_NO_DIMENSION)
    elif task.confidence is not None and task.confidence < LOW_CONFIDENCE:
        task.add_flag(FLAG_LOW_CONFIDENCE)
    if not task.lead:
        task.add_flag(FLAG_NO_LEAD)


def read_rows(rows: list[RawRow], *, year: int | None, source: str) -> list[ParsedTask]:
    """The tasks of the first table in ``rows`` that has a recognisable header."""
    reader: _Reader | None = None
    for row in rows:
        if reader is None:
            roles = header_roles(row.cells)
            if roles is not None:
                reader = _Reader(roles)
            continue
        reader.feed(row)
    if reader is None:
        raise PlanFormatError(
            _(
                "%(file)s: no recognisable table header (expected columns such as "
                "STT / Nhiệm vụ / Cơ quan chủ trì / Thời gian hoàn thành)"
            )
            % {"file": source}
        )
    if not reader.tasks:
        raise PlanFormatError(
            _("%(file)s: the table under the header has no task rows") % {"file": source}
        )
    for task in reader.tasks:
        finish_task(task, year)
    return reader.tasks
