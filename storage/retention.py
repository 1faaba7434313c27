"""Data retention: processed-update keys, sent outbox rows and finished report jobs older than
``[retention] days`` are deleted so those tables do not grow without bound. Evidence files,
progress updates, reminder logs (the exactly-once keys), pending report jobs and rows not
delivered are kept. The report *files* are deleted by the edge (``bot.reports.retention``):
storage touches no file; ``queued_files`` tells the edge which ones the outbox still needs."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import delete, update
from sqlmodel import Session, col, select

from storage.models import OutboxMessage, OutboxStatus, ProcessedUpdate, ReminderLog, ReportJob
from storage.report_jobs import DONE, FAILED


@dataclass(frozen=True)
class Pruned:
    processed_updates: int
    outbox_rows: int
    report_jobs: int = 0
    report_files: int = 0  # counted by the edge, which deletes them


def _rowcount(result: Any) -> int:
    return int(getattr(result, "rowcount", 0))


def prune(session: Session, before: datetime) -> Pruned:
    """Delete what is older than ``before``; the caller commits."""
    old_sent = (
        select(OutboxMessage.id)
        .where(col(OutboxMessage.status) == OutboxStatus.SENT)
        .where(col(OutboxMessage.sent_at) < before)
    )
    # The reminder log stays (it is what makes a reminder exactly-once); it only forgets
    # which outbox row carried it.
    session.execute(
        update(ReminderLog).where(col(ReminderLog.outbox_id).in_(old_sent)).values(outbox_id=None)
    )
    outbox = session.execute(
        delete(OutboxMessage)
        .where(col(OutboxMessage.status) == OutboxStatus.SENT)
        .where(col(OutboxMessage.sent_at) < before)
    )
    updates = session.execute(
        delete(ProcessedUpdate).where(col(ProcessedUpdate.processed_at) < before)
    )
    jobs = session.execute(
        delete(ReportJob)
        .where(col(ReportJob.status).in_([DONE, FAILED]))
        .where(col(ReportJob.finished_at) < before)
    )
    return Pruned(
        processed_updates=_rowcount(updates),
        outbox_rows=_rowcount(outbox),
        report_jobs=_rowcount(jobs),
    )


def queued_files(session: Session) -> set[str]:
    """The files of outbox rows not sent yet (pending, failed, unreachable): kept on disk,
    however old, so a row retried or re-queued by hand still finds its file."""
    rows = session.exec(
        select(OutboxMessage.file_path)
        .where(col(OutboxMessage.status) != OutboxStatus.SENT)
        .where(col(OutboxMessage.file_path).is_not(None))
    )
    return {path for path in rows.all() if path}
