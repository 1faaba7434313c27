"""The minute sweep: what is due now becomes ReminderLog keys + outbox rows, exactly once.

Nothing is planned outside working time (quiet hours, weekends, public holidays): the first
sweep of the next working moment (08:00) finds what fell there, because every reminder stays
due for ``LOOKBACK`` after its moment. A crash mid-sweep loses nothing: the batches written
are keyed, the rest is planned again by the next sweep.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from datetime import timedelta

from sqlalchemy.engine import Engine
from sqlmodel import Session

from bot.config import Settings
from bot.routing import Routing
from bot.scheduler.escalation import plan_escalations
from bot.scheduler.record import Written, write
from bot.scheduler.recurring import reopen_recurring
from bot.scheduler.reminders import LOOKBACK, plan_reminders
from bot.scheduler.weekly import plan_digests
from bot.scheduler.working_time import WorkingTime
from kernel.clock import Clock

log = logging.getLogger(__name__)


@dataclass(frozen=True, slots=True)
class SweepResult:
    reminders: Written
    escalations: Written
    digests: Written

    @property
    def messages(self) -> int:
        return self.reminders.messages + self.escalations.messages + self.digests.messages


def _empty() -> SweepResult:
    return SweepResult(Written(), Written(), Written())


def sweep(
    engine: Engine,
    settings: Settings,
    clock: Clock,
    *,
    lookback: timedelta = LOOKBACK,
    digests: bool = True,
) -> SweepResult:
    """Plan and write everything due at ``clock.now()``; a no-op outside working time."""
    now = clock.now()
    reopen_recurring(engine, settings, now)  # at any hour: statuses must be right at dawn
    working = WorkingTime(settings.quiet_hours, settings.tz)
    if not working.is_sendable(now):
        return _empty()
    routing = Routing.from_settings(settings)
    with Session(engine, expire_on_commit=False) as session:
        reminders = plan_reminders(session, settings, now, working, lookback)
    written_reminders = write(engine, reminders, now, routing=routing)
    with Session(engine, expire_on_commit=False) as session:
        escalations = plan_escalations(session, settings, now, working)
    written_escalations = write(engine, escalations, now, routing=routing)
    written_digests = run_digests(engine, settings, clock) if digests else Written()
    result = SweepResult(written_reminders, written_escalations, written_digests)
    if result.messages:
        log.info(
            "sweep: %d reminder, %d escalation, %d digest messages",
            written_reminders.messages,
            written_escalations.messages,
            written_digests.messages,
        )
    return result


def run_digests(engine: Engine, settings: Settings, clock: Clock) -> Written:
    """Write the weekly digests that are due and not yet written (the cron job's work)."""
    now = clock.now()
    working = WorkingTime(settings.quiet_hours, settings.tz)
    if not working.is_sendable(now):
        return Written()
    with Session(engine, expire_on_commit=False) as session:
        planned = plan_digests(session, settings, now, working)
    return write(engine, planned, now, routing=Routing.from_settings(settings))
