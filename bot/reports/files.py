"""One roll-up, every file: the CLI and the bot both render through here."""

from __future__ import annotations

import tempfile
from datetime import datetime
from pathlib import Path

from sqlmodel import Session, col, select

from bot.reports.subject import plan_reference
from kernel.dates import today_local
from kernel.private import private_file
from storage.models import Plan
from storage.rollup import Rollup

FORMATS = ("xlsx", "docx", "csv", "png")


def plan_title(session: Session, result: Rollup) -> str | None:
    """The plan as the subject line names it ("Kế hoạch số 99/KH-UBND … về …") when every
    task of the roll-up comes from one plan."""
    plan_ids = {task.plan_id for task in result.tasks}
    if len(plan_ids) != 1:
        return None
    plan = session.exec(select(Plan).where(col(Plan.id).in_(plan_ids))).first()
    return plan_reference(plan) if plan else None


def render(session: Session, result: Rollup, fmt: str, path: Path, now: datetime) -> Path:
    """Write ``result`` as ``fmt`` (one of FORMATS) to ``path``; labels in the current locale.

    The file is created 0600 (its new folders 0700) before it is written: reports name
    officials and what blocks them, they are for the coordinator only.
    """
    if fmt not in FORMATS:
        raise ValueError(f"unknown format {fmt!r}")
    existed = path.exists()
    private_file(path)
    try:
        return _write(session, result, fmt, path, now)
    except BaseException:
        if not existed:
            path.unlink(missing_ok=True)  # no empty or half-written report left behind
        raise


def _write(session: Session, result: Rollup, fmt: str, path: Path, now: datetime) -> Path:
    # Each writer loads its library (openpyxl, matplotlib, python-docx) only when a report
    # of that kind is written: the CLI and the bot start without them.
    if fmt == "xlsx":
        from bot.reports.xlsx import write_xlsx

        return write_xlsx(result, path)
    if fmt == "csv":
        from bot.reports.csvout import write_csv

        return write_csv(result, path)
    from bot.reports.chart import write_chart

    if fmt == "png":
        return write_chart(result, path)
    if fmt == "docx":
        from bot.reports.docx import default_letterhead, write_docx

        letterhead = default_letterhead(result, today_local(now), plan_title(session, result))
        with tempfile.TemporaryDirectory() as folder:
            chart = write_chart(result, Path(folder) / "chart.png")
            return write_docx(result, path, letterhead, chart)
    raise ValueError(f"unknown format {fmt!r}")
