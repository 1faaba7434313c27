"""What a prose plan keeps through the review spreadsheet.

The review file's "Cần xem lại" column is recomputed when the file is read, but three
reasons cannot be recomputed from the other cells: ``from_prose`` (where the task came from)
stays while the cell names it; ``ocr_damaged`` then follows the text (an admin who corrects
the scan's mistakes clears it); ``deadline_assumed`` stays while the deadline is still the
assumed "Thường xuyên" and the cell names it (delete it from the cell to confirm the
deadline). The scores the plan states go in the "Kế hoạch" sheet as ``scores_year`` and
``scores`` ("1=5.48; 2=5.51").
"""

from __future__ import annotations

import re
from typing import Any

from bot.planimport.model import (
    FLAG_DEADLINE_ASSUMED,
    FLAG_FROM_PROSE,
    FLAG_OCR_DAMAGED,
    ParsedPlan,
    ParsedTask,
    PlanFormatError,
)
from bot.planimport.ocr import looks_damaged
from bot.planimport.prose_deadline import RECURRING
from kernel.i18n import _

_CODE = re.compile(r"^[1-8](?:\.[1-4])?$|^total$")


def kept_review_flags(cell: str, task: ParsedTask) -> list[str]:
    """The prose flags a reviewed row still carries."""
    written = {flag.strip() for flag in re.split(r"[,;]", cell or "")}
    if FLAG_FROM_PROSE not in written:
        return []
    kept = [FLAG_FROM_PROSE]
    if looks_damaged(task.text):
        kept.append(FLAG_OCR_DAMAGED)
    assumed = task.deadline.kind == "recurring" and task.deadline.raw == RECURRING
    if FLAG_DEADLINE_ASSUMED in written and assumed:
        kept.append(FLAG_DEADLINE_ASSUMED)
    return kept


def write_scores(plan: ParsedPlan) -> list[list[Any]]:
    """Rows for the "Kế hoạch" sheet (none when the plan states no score)."""
    if not plan.scores:
        return []
    values = "; ".join(f"{code}={score}" for code, score in plan.scores.items())
    return [["scores_year", plan.scores_year], ["scores", values]]


def read_scores(plan: ParsedPlan, meta: dict[str, str], source: str) -> None:
    """Fill ``plan.scores`` from the "Kế hoạch" sheet; a malformed entry is refused."""
    text = meta.get("scores", "").strip()
    if not text:
        return
    year = meta.get("scores_year", "").strip()
    scores: dict[str, float] = {}
    for part in filter(None, (p.strip() for p in text.split(";"))):
        code, _sep, value = (s.strip() for s in part.partition("="))
        try:
            score = float(value.replace(",", "."))
        except ValueError:
            score = -1.0
        if not _CODE.match(code) or not 0 <= score <= 80 or not year.isdigit():
            raise PlanFormatError(
                _("%(file)s: bad score %(value)s in the sheet Kế hoạch")
                % {"file": source, "value": repr(part)}
            )
        scores[code] = score
    plan.scores, plan.scores_year = scores, int(year)
