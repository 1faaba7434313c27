"""Drive the sweep with a fixed clock, hour by hour (or any step), and read what it wrote."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy.engine import Engine
from sqlmodel import Session, col, select

from bot.config import Settings
from bot.scheduler.sweep import sweep
from kernel.clock import VN_TZ, FixedClock
from storage.models import Official, OutboxMessage


@dataclass(frozen=True, slots=True)
class Sent:
    who: str
    at: datetime  # local
    kind: str
    headline: str
    assignment_id: int | None


def drive(
    engine: Engine,
    settings: Settings,
    clock: FixedClock,
    until: datetime,
    step: timedelta = timedelta(hours=1),
    events: dict[datetime, Callable[[], None]] | None = None,
) -> None:
    """Sweep at every step from the clock's time up to ``until`` (exclusive)."""
    pending = sorted((events or {}).items())
    while clock.now() < until:
        while pending and pending[0][0] <= clock.now():
            pending.pop(0)[1]()
        sweep(engine, settings, clock)
        clock.advance(step)


def sent(engine: Engine) -> list[Sent]:
    with Session(engine) as session:
        names = {o.id: o.name for o in session.exec(select(Official))}
        rows = session.exec(select(OutboxMessage).order_by(col(OutboxMessage.id))).all()
        return [
            Sent(
                names.get(row.official_id, "?"),
                row.created_at.astimezone(VN_TZ),
                row.kind,
                row.text.split("\n", 1)[0],
                row.assignment_id,
            )
            for row in rows
        ]
