"""Which weekly digests are due: each chair and coordinator gets one per week, keyed
``digest:<official>:<day>`` in ReminderLog, so the cron job and the minute sweep can both try
and a digest missed while the bot was down still goes out once (only the latest week's)."""

from __future__ import annotations

import logging
from dataclasses import replace
from datetime import datetime, timedelta

from sqlmodel import Session, col, select

from bot.channels.quota import quota_warnings, seat_warnings
from bot.config import Settings
from bot.scheduler.digest import DigestData, collect, render
from bot.scheduler.record import LogKey, Planned, existing_keys
from bot.scheduler.working_time import WorkingTime
from handlers.permissions import scope_root
from handlers.types import Outbound
from kernel.i18n import use_locale
from storage.models import Official, Role, Unit

log = logging.getLogger(__name__)

DIGEST = "digest"
WEEKDAYS = ("mon", "tue", "wed", "thu", "fri", "sat", "sun")
DIGEST_ROLES = (Role.CHAIR, Role.COORDINATOR)


def latest_digest_moment(settings: Settings, now: datetime) -> datetime:
    """The latest scheduled digest time at or before ``now`` (local weekday and time)."""
    local = now.astimezone(settings.tz)
    weekday = WEEKDAYS.index(settings.digest.weekday)
    day = local.date() - timedelta(days=(local.weekday() - weekday) % 7)
    moment = datetime.combine(day, settings.digest.time, settings.tz)
    return moment if moment <= local else moment - timedelta(days=7)


def digest_key(official_id: int, nominal: datetime) -> str:
    return f"{DIGEST}:{official_id}:{nominal.date().isoformat()}"


def plan_digests(
    session: Session, settings: Settings, now: datetime, working: WorkingTime
) -> list[Planned]:
    nominal = latest_digest_moment(settings, now)
    if working.next_send_moment(nominal) > now:  # a holiday Monday: goes next working day
        nominal -= timedelta(days=7)  # the previous week's, if it was missed
    recipients = list(
        session.exec(
            select(Official)
            .where(col(Official.role).in_(DIGEST_ROLES), col(Official.active).is_(True))
            .order_by(col(Official.id))
        )
    )
    logged = existing_keys(session, [digest_key(o.id or 0, nominal) for o in recipients])
    fresh = [o for o in recipients if digest_key(o.id or 0, nominal) not in logged]
    if not fresh:
        return []
    # A coordinator sits in a department (Sở Nội vụ) but reads the subtree they coordinate.
    scopes = {o.id or 0: scope_root(session, o) for o in fresh}
    broken = [o for o in fresh if (root := scopes[o.id or 0]) is None or not root.path]
    if broken:
        log.error("digest: no unit subtree for officials %s", sorted(o.id or 0 for o in broken))
        fresh = [o for o in fresh if o not in broken]
    silence = settings.reminders.silence_days
    data_by_unit: dict[int, DigestData] = {}
    # A channel near its declared monthly quota concerns every coordinator.
    quotas = tuple((q.channel, q.sent, q.quota) for q in quota_warnings(session, settings, now))
    seats = tuple((q.channel, q.sent, q.quota) for q in seat_warnings(session, settings))
    planned = []
    for official in fresh:
        root = scopes[official.id or 0]
        assert root is not None and root.id is not None
        if root.id not in data_by_unit:
            data = collect(session, root, now, silence)
            data_by_unit[root.id] = replace(data, quotas=quotas, seats=seats)
        with use_locale(official.locale):
            parts = render(data_by_unit[root.id])
        outbounds = [Outbound(part, official_id=official.id, kind=DIGEST) for part in parts]
        key = LogKey(
            digest_key(official.id or 0, nominal), DIGEST, nominal, official_id=official.id
        )
        planned.append(Planned([key], outbounds))
    return planned


def digest_readers(session: Session, unit: Unit) -> list[Official]:
    """Who reads the digest of ``unit``: the active chairs and coordinators whose subtree
    (``scope_root``) is exactly this unit — a commune's chair, a province's coordinators
    although they sit in Sở Nội vụ."""
    candidates = session.exec(
        select(Official)
        .join(Unit, col(Unit.id) == col(Official.unit_id))
        .where(col(Unit.path).startswith(unit.path))
        .where(col(Official.role).in_(DIGEST_ROLES), col(Official.active).is_(True))
        .order_by(col(Official.id))
    ).all()
    return [o for o in candidates if (root := scope_root(session, o)) and root.id == unit.id]
