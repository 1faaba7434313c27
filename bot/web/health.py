"""``/healthz`` and ``/metrics``: what a load balancer and Prometheus ask a bot process.

``/healthz`` answers 200 when the database answers and a scheduler leader is known (this
process runs the scheduler, or on PostgreSQL some session holds the scheduler's advisory
lock), else 503; the JSON body says which part failed, with the outbox backlog per channel
and the age of the oldest pending row. ``/metrics`` is the Prometheus text format of
``bot.metrics``; both are open (no sign-in) and carry no personal data: counts and ages only.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

from aiohttp import web
from prometheus_client import CONTENT_TYPE_LATEST, generate_latest
from sqlalchemy import text
from sqlalchemy.engine import Engine
from sqlalchemy.exc import SQLAlchemyError
from sqlmodel import Session, col, func, select

from bot import metrics
from bot.scheduler.leader import SCHEDULER_LOCK_KEY
from bot.web.state import STATE
from storage.enums import OutboxStatus
from storage.models import OutboxMessage

routes = web.RouteTableDef()


@dataclass
class Health:
    database: bool = False
    leader: str | None = None
    backlog: dict[str, int] = field(default_factory=dict)
    oldest_pending_seconds: float = 0.0

    @property
    def ok(self) -> bool:
        return self.database and self.leader is not None

    def as_json(self) -> dict[str, Any]:
        return {
            "status": "ok" if self.ok else "unavailable",
            "database": "ok" if self.database else "unreachable",
            "scheduler_leader": self.leader,
            "outbox": {
                "backlog": self.backlog,
                "pending": sum(self.backlog.values()),
                "oldest_pending_seconds": round(self.oldest_pending_seconds, 1),
            },
        }


def _aware(moment: datetime) -> datetime:
    return moment if moment.tzinfo is not None else moment.replace(tzinfo=UTC)


def _other_leader(session: Session) -> str | None:
    """On PostgreSQL: the backend pid holding the scheduler's advisory lock, if any."""
    if session.get_bind().dialect.name != "postgresql":
        return None
    pid = session.execute(
        text(
            "SELECT pid FROM pg_locks WHERE locktype = 'advisory' AND granted "
            "AND ((classid::bigint << 32) | objid::bigint) = :key LIMIT 1"
        ),
        {"key": SCHEDULER_LOCK_KEY},
    ).scalar()
    return None if pid is None else f"postgres backend {pid}"


def check(engine: Engine, now: datetime) -> Health:
    """Ask the database; a failure to reach it is a finding, never an exception."""
    health = Health(leader=metrics.LEADERSHIP.leader)
    try:
        with Session(engine) as session:
            rows = session.exec(
                select(OutboxMessage.channel, func.count(), func.min(OutboxMessage.created_at))
                .where(col(OutboxMessage.status) == OutboxStatus.PENDING)
                .group_by(OutboxMessage.channel)
            ).all()
            if health.leader is None:
                health.leader = _other_leader(session)
    except SQLAlchemyError:
        return health
    health.database = True
    health.backlog = {channel: int(count) for channel, count, _oldest in rows}
    oldest = [_aware(when) for _channel, _count, when in rows if when is not None]
    if oldest:
        health.oldest_pending_seconds = max(0.0, (now - min(oldest)).total_seconds())
    return health


@routes.get("/healthz")
async def healthz(request: web.Request) -> web.Response:
    state = request.app[STATE]
    health = await state.db(check, state.engine, state.clock.now())
    return web.json_response(health.as_json(), status=200 if health.ok else 503)


@routes.get("/metrics")
async def prometheus(request: web.Request) -> web.Response:
    state = request.app[STATE]
    health = await state.db(check, state.engine, state.clock.now())
    metrics.OUTBOX_BACKLOG.clear()  # a channel whose backlog emptied reads 0, not stale
    for channel, count in health.backlog.items():
        metrics.OUTBOX_BACKLOG.labels(channel=channel).set(count)
    metrics.OUTBOX_OLDEST_PENDING.set(health.oldest_pending_seconds)
    body = generate_latest(metrics.REGISTRY)
    return web.Response(body=body, headers={"Content-Type": CONTENT_TYPE_LATEST})
