"""What an imported plan is understood to say, before it touches the database.

These dataclasses are the contract between the readers (TSV, PDF text, DOCX, XLSX/CSV), the
review spreadsheet, the ``--json`` output and :func:`bot.planimport.store.store_plan`.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date
from typing import Any

DEADLINE_KINDS = ("date", "recurring", "term", "unknown")

# Review flags: why a human should look at a task before it is committed.
FLAG_UNKNOWN_DEADLINE = "unknown_deadline"
FLAG_NEEDS_YEAR = "deadline_needs_year"
FLAG_LOW_CONFIDENCE = "low_confidence_dimension"
FLAG_NO_DIMENSION = "no_dimension"
FLAG_NO_LEAD = "no_lead_agency"
FLAG_UNRESOLVED_AGENCY = "unresolved_agency"
# Prose plans (bot/planimport/prose.py): read from running text, not from a table.
FLAG_FROM_PROSE = "from_prose"
FLAG_OCR_DAMAGED = "ocr_damaged"  # the text looks scanned with damage: compare with the paper
FLAG_DEADLINE_ASSUMED = "deadline_assumed"  # the plan names none: recurring was assumed


class PlanFormatError(Exception):
    """The file cannot be read as a plan; the message names the file and the row."""


class PlanAlreadyImported(Exception):
    """The same plan is already stored for this province (pass ``replace=True`` to update)."""


@dataclass
class Deadline:
    raw: str = ""
    kind: str = "unknown"  # DEADLINE_KINDS
    due: date | None = None
    note: str | None = None

    def to_json(self) -> dict[str, Any]:
        return {
            "raw": self.raw,
            "kind": self.kind,
            "due": self.due.isoformat() if self.due else None,
            "note": self.note,
        }


@dataclass
class ParsedTask:
    stt: str
    text: str
    lead: list[str] = field(default_factory=list)
    coordinating: list[str] = field(default_factory=list)
    deadline: Deadline = field(default_factory=Deadline)
    dimension: int | None = None
    subdimension: str | None = None
    confidence: float | None = None
    flags: list[str] = field(default_factory=list)
    section: str | None = None
    source_row: str = ""  # "line 12" / "row 7": where the task starts in the file

    def add_flag(self, flag: str) -> None:
        if flag not in self.flags:
            self.flags.append(flag)

    def to_json(self) -> dict[str, Any]:
        return {
            "stt": self.stt,
            "text": self.text,
            "lead": list(self.lead),
            "coordinating": list(self.coordinating),
            "deadline": self.deadline.to_json(),
            "dimension": self.dimension,
            "subdimension": self.subdimension,
            "confidence": self.confidence,
            "flags": list(self.flags),
        }


@dataclass
class ParsedPlan:
    title: str
    year: int | None
    tasks: list[ParsedTask] = field(default_factory=list)
    report_deadlines: list[str] = field(default_factory=list)  # ["03-20", ...]
    number: str | None = None  # "99/KH-UBND"
    source_file: str | None = None
    source_sha256: str | None = None
    # PAPI scores the plan states for its province ("1" -> 5.48), and their year.
    scores: dict[str, float] = field(default_factory=dict)
    scores_year: int | None = None

    def to_json(self) -> dict[str, Any]:
        plan: dict[str, Any] = {
            "title": self.title,
            "year": self.year,
            "report_deadlines": list(self.report_deadlines),
        }
        if self.scores:
            plan["scores"] = {"year": self.scores_year, "values": dict(self.scores)}
        return {"plan": plan, "tasks": [task.to_json() for task in self.tasks]}
