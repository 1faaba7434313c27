"""The sweep's first step: recurring assignments whose report period has ended are opened
for the next period (``storage.recurring``), so the next status request goes out."""

from __future__ import annotations

import logging
from datetime import datetime

from sqlalchemy.engine import Engine

from bot.config import Settings
from bot.scheduler.policy import effective_policy
from bot.scheduler.reminders import plan_policies
from storage.db import session_scope
from storage.recurring import reopen_past_periods

log = logging.getLogger(__name__)


def reopen_recurring(engine: Engine, settings: Settings, now: datetime) -> int:
    with session_scope(engine) as session:
        policies = plan_policies(session, settings)
        default = effective_policy(settings)
        opened = reopen_past_periods(
            session,
            now,
            settings.tz,
            lambda plan_id: policies.get(plan_id, default).report_deadlines,
        )
    if opened:
        log.info("recurring tasks opened for the new report period: %d", opened)
    return opened
