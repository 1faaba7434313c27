"""APScheduler wiring: the clock of the running bot. The database is the truth.

Two jobs, both in a memory job store (nothing pickled, nothing to restore): an interval job
every minute runs the sweep in a worker thread, and a cron job at the digest time writes the
weekly digests. ``coalesce`` and a short ``misfire_grace_time`` mean APScheduler never
replays missed runs after a down-time: the first sweep after start-up (it runs at once)
catches up from the database, within the sweep's look-back, exactly once.
"""

from __future__ import annotations

import asyncio
import dataclasses
import logging
from collections.abc import Callable
from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

from apscheduler.schedulers.asyncio import AsyncIOScheduler
from apscheduler.triggers.cron import CronTrigger
from apscheduler.triggers.interval import IntervalTrigger
from sqlalchemy.engine import Engine

from bot import metrics
from bot.config import Settings
from bot.reports.retention import prune_report_files, reports_folder
from bot.scheduler.sweep import run_digests, sweep
from kernel.clock import Clock
from storage.db import session_scope
from storage.flood import prune_windows
from storage.retention import Pruned, prune, queued_files

log = logging.getLogger(__name__)

SWEEP_JOB = "sweep"
RETENTION_JOB = "retention"
DIGEST_JOB = "digest"
MISFIRE_GRACE_SECONDS = 30


def prune_old_rows(engine: Engine, settings: Settings, clock: Clock) -> Pruned:
    """One retention pass (the nightly job): the rows, then the report files no row still to
    be sent names (after the commit: a file is never gone while its row is pending); what it
    deleted is logged."""
    before = clock.now() - timedelta(days=settings.retention.days)
    with session_scope(engine) as session:
        pruned = prune(session, before)
        # Flood windows last a minute (an hour for reports, counted on the report jobs):
        # a day-old one is over, and keeping it would only keep a trace of who wrote.
        prune_windows(session, clock.now() - timedelta(days=1))
    with session_scope(engine) as session:
        keep = queued_files(session)
    files = prune_report_files(reports_folder(settings.app.data_dir), before, keep)
    pruned = dataclasses.replace(pruned, report_files=files)
    if pruned.processed_updates or pruned.outbox_rows or pruned.report_jobs or files:
        log.info(
            "retention: %d processed updates, %d sent outbox rows, %d report jobs and %d "
            "report files older than %d days deleted",
            pruned.processed_updates,
            pruned.outbox_rows,
            pruned.report_jobs,
            files,
            settings.retention.days,
        )
    return pruned


def build_scheduler(
    engine: Engine, settings: Settings, clock: Clock, on_enqueued: Callable[[], None]
) -> AsyncIOScheduler:
    """A scheduler (not started) with the minute sweep and the weekly digest cron job;
    ``on_enqueued`` (e.g. the outbox worker's ``wake``) is called after new outbox rows."""
    tz = ZoneInfo(settings.app.timezone)
    scheduler = AsyncIOScheduler(
        timezone=tz,
        job_defaults={
            "coalesce": True,
            "max_instances": 1,
            "misfire_grace_time": MISFIRE_GRACE_SECONDS,
        },
    )

    async def sweep_job() -> None:
        with metrics.timed_sweep():
            result = await asyncio.to_thread(sweep, engine, settings, clock)
        if result.messages:
            on_enqueued()

    async def prune_job() -> None:
        await asyncio.to_thread(prune_old_rows, engine, settings, clock)

    async def digest_job() -> None:
        written = await asyncio.to_thread(run_digests, engine, settings, clock)
        if written.messages:
            on_enqueued()

    scheduler.add_job(
        sweep_job,
        IntervalTrigger(minutes=1, timezone=tz),
        id=SWEEP_JOB,
        name="reminder sweep",
        # APScheduler runs on wall time; the sweep reads the injected clock.
        next_run_time=datetime.now(tz),  # catch up at start-up, from the database
        replace_existing=True,
    )
    digest_time = settings.digest.time
    scheduler.add_job(
        digest_job,
        CronTrigger(
            day_of_week=settings.digest.weekday,
            hour=digest_time.hour,
            minute=digest_time.minute,
            timezone=tz,
        ),
        id=DIGEST_JOB,
        name="weekly digest",
        replace_existing=True,
    )
    scheduler.add_job(
        prune_job,
        CronTrigger(hour=3, minute=17, timezone=tz),  # a quiet hour, off the minute sweep's mark
        id=RETENTION_JOB,
        name="data retention",
        replace_existing=True,
    )
    return scheduler
