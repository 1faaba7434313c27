"""Plan import: a province's plan appendix becomes tasks, assignments and a report calendar.

``parse_plan(path)`` reads a file (tab-separated or PDF-extracted text, DOCX, XLSX, CSV) into
a :class:`ParsedPlan`; ``store_plan(session, parsed, province)`` writes it.
"""

from __future__ import annotations

from bot.planimport.model import (
    Deadline,
    ParsedPlan,
    ParsedTask,
    PlanAlreadyImported,
    PlanFormatError,
)
from bot.planimport.reader import parse_plan
from bot.planimport.store import store_plan

__all__ = [
    "Deadline",
    "ParsedPlan",
    "ParsedTask",
    "PlanAlreadyImported",
    "PlanFormatError",
    "parse_plan",
    "store_plan",
]
