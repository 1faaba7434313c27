"""Plans without a table: tasks read from the plan's running text (seed 001, Bắc Giang 2021).

The plan's parts are found by their headings, matched OCR-tolerantly (:mod:`ocr`):

- "Mục đích, yêu cầu" (and any other part) gives no task;
- "Nội dung thực hiện" / "Nhiệm vụ, giải pháp": each dimension heading ("1. Chỉ số nội dung
  1: Tham gia của người dân ở cấp cơ sở: 5,48 điểm, giảm …") opens a section with the PAPI
  dimension of its own number (else of its name) and the score it states; each lettered
  ("a)") or dashed ("-") item under it is one task, with the paragraphs that follow it until
  the next item. The paragraphs before the first item describe the score: not tasks. A
  section without items takes each paragraph after its "Nội dung cần thực hiện" label;
- "Tổ chức thực hiện": each numbered paragraph names agencies ("2. Sở Nội vụ"); their duties
  (the paragraphs, lettered and dashed items under it) are tasks led by those agencies. A
  duty that repeats a dimension task gives that task its lead instead of becoming a second
  task. An item that says so ("Sở Nội vụ chủ trì") has that lead too; any other is left
  without lead and flagged.

Every task is flagged ``from_prose``, and ``ocr_damaged`` where its text looks scanned with
damage; its text is kept as the file has it. A task names its deadline rarely: where it does
("trước ngày 30/6/2021", "Quý III/2021") that is the deadline, else it is recurring
("Thường xuyên") and flagged ``deadline_assumed``.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from itertools import pairwise

from bot.planimport.classifier import KEYWORDS
from bot.planimport.model import (
    FLAG_DEADLINE_ASSUMED,
    FLAG_FROM_PROSE,
    FLAG_OCR_DAMAGED,
    ParsedTask,
    PlanFormatError,
)
from bot.planimport.ocr import (
    damage_ratio,
    find_like,
    looks_damaged,
    ocr_fold,
    starts_like,
    words,
)
from bot.planimport.prose_agencies import intro_agencies, lead_named_in, split_heading
from bot.planimport.prose_blocks import (
    DASHED,
    LETTERED,
    NUMBERED,
    PARAGRAPH,
    PART,
    Block,
    read_blocks,
)
from bot.planimport.prose_deadline import item_deadline
from bot.planimport.table import finish_task
from kernel.i18n import _
from storage.taxonomy import taxonomy_rows

PURPOSE, TASKS, ORGANISATION, OTHER = "purpose", "tasks", "organisation", "other"
_PARTS = (
    (ORGANISATION, ("to chuc thuc hien",)),
    (
        TASKS,
        (
            "noi dung thuc hien",
            "nhiem vu giai phap",
            "nhiem vu va giai phap",
            "cac nhiem vu giai phap",
            "noi dung giai phap",
            "giai phap thuc hien",
            "nhiem vu trong tam",
            "noi dung nhiem vu",
            "nhiem vu cu the",
        ),
    ),
    (PURPOSE, ("muc dich yeu cau", "muc dich", "muc tieu", "yeu cau")),
)
_LABELS = ("noi dung can thuc hien", "nhiem vu giai phap", "giai phap thuc hien", "nhiem vu")
_CLOSING = (
    "chu tich ubnd tinh yeu cau",
    "chu tich uy ban nhan dan tinh yeu cau",
    "ubnd tinh yeu cau",
    "tren day la",
)
_SCORE = re.compile(r"(\d{1,2}[,.]\d{1,3})\s*(?:/\s*10\s*)?[dđ]\S{0,3}m\b", re.IGNORECASE)
_SINCE = re.compile(r"so v\w{0,2}i n\w{1,2}m (20\d\d)")
DUPLICATE = 0.6  # share of a duty's word pairs found in a dimension task: the same task


@dataclass
class ProsePlan:
    tasks: list[ParsedTask]
    scores: dict[str, float] = field(default_factory=dict)
    scores_year: int | None = None


def part_kind(text: str) -> str:
    for kind, phrases in _PARTS:
        if any(starts_like(text, phrase, 0.85) for phrase in phrases):
            return kind
    return OTHER


def is_prose_plan(lines: list[str]) -> bool:
    """True when the text has a task part or a dimension heading to read tasks from."""
    for block in read_blocks(lines):
        if block.kind == PART and part_kind(block.flat) in (TASKS, ORGANISATION):
            return True
        if _opens_dimension(block) is not None:
            return True
    return False


@dataclass(frozen=True)
class DimensionHeading:
    dimension: int
    score: float | None
    title: str
    since: int | None  # "giảm 0,1 điểm so với năm 2019": the score is of the next year


def _dimension_by_name(text: str) -> int | None:
    for item in taxonomy_rows():
        top = item.index_name == "PAPI" and item.parent_code is None
        if top and starts_like(text, item.name_vi, 0.85):
            return int(item.code)
    return None


def _opens_dimension(block: Block) -> DimensionHeading | None:
    """A numbered heading by number or name; a paragraph only by "Chỉ số nội dung N"."""
    if block.kind == NUMBERED:
        return dimension_heading(block.flat)
    if block.kind == PARAGRAPH:
        return dimension_heading(block.flat, by_name=False)
    return None


def dimension_heading(text: str, *, by_name: bool = True) -> DimensionHeading | None:
    """The dimension a heading opens: by its own number ("Chỉ số nội dung 4: …"), else by
    the dimension's name written at its start."""
    head = " ".join(words(text)[:12])
    at = find_like(head, "chi so noi dung", 0.8)
    dimension: int | None = None
    if at is not None and at <= 2:
        following = words(head)[at + 4 : at + 5]  # the word after "chi so noi dung"
        if following and following[0].isdigit() and 1 <= int(following[0]) <= 8:
            dimension = int(following[0])
    elif by_name:
        dimension = _dimension_by_name(text)
    if dimension is None:
        return None
    score_match = _SCORE.search(text)
    score = float(score_match.group(1).replace(",", ".")) if score_match else None
    if score is not None and score > 10:
        score, score_match = None, None
    end = score_match.start() if score_match else min(len(text), 160)
    title = text[:end].rstrip(" :,;")
    title = re.sub(r"\s+(?:đạt|dat)$", "", title, flags=re.IGNORECASE).rstrip(" :,;")
    since = _SINCE.search(ocr_fold(text))
    return DimensionHeading(dimension, score, title, int(since.group(1)) if since else None)


def _is_label(block: Block) -> bool:
    return (
        block.kind == PARAGRAPH
        and len(block.flat.split()) <= 7
        and any(starts_like(block.flat, label, 0.7) for label in _LABELS)
    )


def _is_closing(block: Block) -> bool:
    return block.kind == PARAGRAPH and any(starts_like(block.flat, c, 0.85) for c in _CLOSING)


@dataclass
class _Draft:
    stt: str
    line: int
    paragraphs: list[str]
    section: str | None
    lead: list[str] = field(default_factory=list)
    dimension: int | None = None

    @property
    def text(self) -> str:
        return "\n".join(self.paragraphs)


@dataclass
class _Section:
    heading: Block
    dimension: DimensionHeading | None
    items: list[_Draft] = field(default_factory=list)
    loose: list[_Draft] = field(default_factory=list)  # paragraphs after the label
    labelled: bool = False

    def drafts(self) -> list[_Draft]:
        return self.items or self.loose


class _Reader:
    def __init__(self) -> None:
        self.part = OTHER
        self.part_label = ""
        self.sections: list[_Section] = []
        self.duties: list[_Draft] = []
        self.agency_label = ""
        self.agencies: list[str] = []
        self.sub_agencies: list[str] | None = None  # under an intro ending with ":"
        self.current: _Draft | None = None
        self.count = 0
        self.closed = False
        self.section: str | None = None  # the "Tổ chức thực hiện" heading duties sit under
        self.sub_label = ""
        self.in_item = False  # a paragraph goes on the lettered/dashed item above it

    def feed(self, block: Block) -> None:
        if block.kind == PART:
            self.part, self.part_label, self.current = part_kind(block.flat), block.label, None
            return
        if self.part == TASKS or (self.part == OTHER and not self.sections):
            heading = _opens_dimension(block)
            if heading is not None:
                self.part = TASKS
                self.sections.append(_Section(block, heading))
                self.current = None
                return
            if self.part == TASKS:
                self._task_block(block)
        elif self.part == ORGANISATION and not self.closed:
            self._duty_block(block)

    def _task_block(self, block: Block) -> None:
        if block.kind == NUMBERED:  # a heading that is no dimension: its own section
            self.sections.append(_Section(block, None))
            self.current = None
            return
        if not self.sections:
            return
        section = self.sections[-1]
        number = section.heading.label or str(len(self.sections))
        title = section.dimension.title if section.dimension else section.heading.flat[:160]
        if block.kind in (LETTERED, DASHED):
            label = block.label or str(len(section.items) + 1)
            self.current = _Draft(f"{number}.{label}", block.line, [block.text], title)
            section.items.append(self.current)
        elif _is_label(block):
            section.labelled = True
        elif self.current is not None:
            self.current.paragraphs.append(block.text)
        elif section.labelled:
            stt = f"{number}.{len(section.loose) + 1}"
            section.loose.append(_Draft(stt, block.line, [block.text], title))

    def _duty_block(self, block: Block) -> None:
        if _is_closing(block):
            self.closed = True
            return
        prefix = f"{self.part_label}." if self.part_label else ""
        if block.kind == NUMBERED:
            self.agencies, duty = split_heading(block.flat)
            self.agency_label, self.sub_agencies = block.label, None
            self.current, self.count, self.in_item = None, 0, False
            self.section = block.flat[:160]
            if len(duty.split()) >= 4:  # "10. Đề nghị Ủy ban MTTQ … chủ trì, phối hợp …"
                self._add_duty(f"{prefix}{block.label}", block)
            return
        if not self.agency_label:
            return
        base = f"{prefix}{self.agency_label}"
        if block.kind == LETTERED:
            self.sub_agencies = None
            if block.flat.endswith(":"):
                self.sub_agencies = intro_agencies(block.flat) or list(self.agencies)
                self.sub_label, self.current, self.count = f"{base}.{block.label}", None, 0
                return
            self._add_duty(f"{base}.{block.label}", block)
            self.in_item = True
        elif block.kind == DASHED or self.current is None or not self.in_item:
            self.count += 1
            under = self.sub_label if self.sub_agencies is not None else base
            self._add_duty(f"{under}.{self.count}", block)
            self.in_item = block.kind == DASHED
        else:
            self.current.paragraphs.append(block.text)

    def _add_duty(self, stt: str, block: Block) -> None:
        lead = self.sub_agencies if self.sub_agencies is not None else self.agencies
        self.current = _Draft(stt, block.line, [block.text], self.section, list(lead))
        self.duties.append(self.current)


def _pairs(text: str) -> set[tuple[str, str]]:
    found = words(text)
    return set(pairwise(found))


def _attribute(drafts: list[_Draft], duties: list[_Draft]) -> list[_Draft]:
    """Duties that repeat a dimension task lend it their lead; the others stay tasks."""
    kept: list[_Draft] = []
    item_pairs = [_pairs(d.text) for d in drafts]
    for duty in duties:
        pairs = _pairs(duty.text)
        best, target = 0.0, None
        for draft, have in zip(drafts, item_pairs, strict=True):
            share = len(pairs & have) / len(pairs) if pairs else 0.0
            if share > best:
                best, target = share, draft
        if target is not None and best >= DUPLICATE:
            target.lead.extend(name for name in duty.lead if name not in target.lead)
        else:
            kept.append(duty)
    return kept


def _subdimension(text: str, dimension: int) -> str | None:
    key = ocr_fold(text)
    points: dict[str, float] = {}
    for dim, sub, keyword, weight in KEYWORDS:
        if dim == dimension and sub:
            hits = len(re.findall(r"\b" + re.escape(keyword) + r"\b", key))
            points[sub] = points.get(sub, 0.0) + hits * weight
    best = max(sorted(points), key=lambda s: points[s], default=None)
    return best if best and points[best] > 0 else None


def _task(draft: _Draft, year: int | None) -> ParsedTask:
    task = ParsedTask(
        stt=draft.stt[:16],
        text=draft.text,
        lead=list(draft.lead),
        section=draft.section,
        source_row=f"line {draft.line}",
    )
    task.deadline.raw, assumed = item_deadline(draft.text)
    if draft.dimension is not None:
        task.dimension, task.confidence = draft.dimension, 1.0
        task.subdimension = _subdimension(draft.text, draft.dimension)
    finish_task(task, year)
    task.add_flag(FLAG_FROM_PROSE)
    if looks_damaged(draft.text):
        task.add_flag(FLAG_OCR_DAMAGED)
    if assumed:
        task.add_flag(FLAG_DEADLINE_ASSUMED)
    return task


def read_prose(lines: list[str], *, year: int | None, source: str) -> ProsePlan:
    """The tasks (and stated scores) of a plan written as running text."""
    reader = _Reader()
    for block in read_blocks(lines):
        reader.feed(block)
    drafts: list[_Draft] = []
    scores: dict[str, float] = {}
    since: int | None = None
    for section in reader.sections:
        for draft in section.drafts():
            if section.dimension is not None:
                draft.dimension = section.dimension.dimension
            draft.lead = lead_named_in(draft.text)
            drafts.append(draft)
        if section.dimension is not None and section.dimension.score is not None:
            scores.setdefault(str(section.dimension.dimension), section.dimension.score)
            since = since or section.dimension.since
    duties = _attribute(drafts, reader.duties)
    tasks = [_task(draft, year) for draft in [*drafts, *duties]]
    if not tasks:
        raise PlanFormatError(
            _(
                "%(file)s: the plan's text has no task items (lettered or dashed items under "
                'the "Nội dung thực hiện" headings, or duties under "Tổ chức thực hiện")'
            )
            % {"file": source}
        )
    scores_year = since + 1 if since else (year - 1 if year and scores else None)
    return ProsePlan(tasks=tasks, scores=scores, scores_year=scores_year)


UNREADABLE = 0.35  # share of damaged words past which a text is not worth reading


def refuse_garbled(lines: list[str], source: str) -> None:
    """A text too damaged to find anything in gets its own message, not "no table"."""
    text = "\n".join(lines)
    if len(text.split()) >= 30 and damage_ratio(text) >= UNREADABLE:
        raise PlanFormatError(
            _(
                "%(file)s: the text is too damaged to read (%(share)s%% of its words are not "
                "Vietnamese): scan the plan again, or type its tasks into the template"
            )
            % {"file": source, "share": round(100 * damage_ratio(text))}
        )
