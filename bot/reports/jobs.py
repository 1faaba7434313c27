"""/baocao after the commit: render the pending report jobs and queue the files.

The inbound's transaction only records a ``ReportJob`` and the "preparing the report…"
answer, so the SQLite write lock is never held while openpyxl, python-docx and matplotlib
run. Here each job is rendered in a read-only session (readers do not block writers in WAL
mode), then one short transaction queues the messages carrying the files and marks the job
done, so a crash before it leaves the job pending, to be rendered again, and a crash after it
has the messages safely in the outbox. Runs in a worker thread (:class:`ReportWorker`).
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Callable
from datetime import datetime
from pathlib import Path

from sqlalchemy.engine import Engine
from sqlmodel import Session

from bot.config import Settings
from bot.pipeline import enqueue
from bot.reports.requests import render_request, request_from_data
from handlers.types import Outbound
from kernel.i18n import _, use_locale
from storage.db import session_scope
from storage.models import ReportJob
from storage.report_jobs import finish_report_job, pending_report_jobs

log = logging.getLogger(__name__)


def _render(engine: Engine, job: ReportJob, settings: Settings, now: datetime) -> list[Outbound]:
    request = request_from_data(job.request)
    with Session(engine, expire_on_commit=False) as session:
        return render_request(
            session,
            request,
            data_dir=Path(settings.app.data_dir),
            silence_days=settings.reminders.silence_days,
            now=now,
        )


def _apology(job: ReportJob) -> list[Outbound]:
    with use_locale(str(job.request.get("locale", "vi"))):
        return [Outbound(_("Sorry, the report could not be prepared. Please try again later."))]


def render_pending(engine: Engine, settings: Settings, now: Callable[[], datetime]) -> list[int]:
    """Render every pending job; the ids of the outbox rows queued."""
    queued: list[int] = []
    while True:
        with Session(engine, expire_on_commit=False) as session:
            jobs = pending_report_jobs(session)
        if not jobs:
            return queued
        for job in jobs:
            assert job.id is not None
            error: str | None = None
            try:
                outbounds = _render(engine, job, settings, now())
            except Exception as exc:  # a broken report must not stop the others
                log.exception("report job %d failed", job.id)
                error, outbounds = type(exc).__name__, _apology(job)
            with session_scope(engine) as session:
                if not finish_report_job(session, job.id, now(), error):
                    continue  # another renderer finished it first
                rows = enqueue(
                    session,
                    outbounds,
                    now(),
                    reply_channel=job.channel,
                    reply_chat_id=job.chat_id,
                    reply_official_id=job.official_id,
                )
                queued += [row.id for row in rows if row.id is not None]


class ReportWorker:
    """Renders report jobs off the event loop when woken (and once at start, for jobs a
    restart interrupted), then wakes the outbox."""

    def __init__(
        self,
        engine: Engine,
        settings: Settings,
        now: Callable[[], datetime],
        on_queued: Callable[[], None],
    ) -> None:
        self._engine, self._settings, self._now = engine, settings, now
        self._on_queued = on_queued
        self._event = asyncio.Event()
        self._loop: asyncio.AbstractEventLoop | None = None

    def wake_threadsafe(self) -> None:
        """Called from the pipeline's worker thread after a commit that recorded a job."""
        if self._loop is not None:
            self._loop.call_soon_threadsafe(self._event.set)

    async def run(self) -> None:
        self._loop = asyncio.get_running_loop()
        self._event.set()  # jobs left pending by a restart
        while True:
            await self._event.wait()
            self._event.clear()
            ids = await asyncio.to_thread(render_pending, self._engine, self._settings, self._now)
            if ids:
                self._on_queued()
