"""Report jobs (``ReportJob``): recorded in the inbound's transaction, rendered after it.

The conversation answers /baocao at once ("preparing the report…") and leaves a job; the edge
(``bot.reports.jobs``) renders the files outside any write transaction and, in one short
transaction, queues the messages carrying them and marks the job done.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlmodel import Session, col, select

from storage.models import ReportJob

PENDING, DONE, FAILED = "pending", "done", "failed"


def add_report_job(
    session: Session,
    *,
    channel: str,
    chat_id: str,
    official_id: int | None,
    request: dict[str, Any],
    now: datetime,
) -> ReportJob:
    job = ReportJob(
        channel=channel,
        chat_id=chat_id,
        official_id=official_id,
        request=request,
        status=PENDING,
        created_at=now,
    )
    session.add(job)
    session.flush()
    return job


def pending_report_jobs(session: Session, limit: int = 20) -> list[ReportJob]:
    """The oldest pending jobs first."""
    return list(
        session.exec(
            select(ReportJob)
            .where(ReportJob.status == PENDING)
            .order_by(col(ReportJob.id))
            .limit(limit)
        ).all()
    )


def finish_report_job(
    session: Session, job_id: int, now: datetime, error: str | None = None
) -> bool:
    """Mark a pending job done (or failed, with why); False if it was no longer pending (a
    second renderer finished it first), so its messages must not be queued twice."""
    job = session.get(ReportJob, job_id, with_for_update=True)
    if job is None or job.status != PENDING:
        return False
    job.status = FAILED if error else DONE
    job.error = error[:255] if error else None
    job.finished_at = now
    session.add(job)
    session.flush()
    return True
