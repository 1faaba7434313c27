"""A small world for conversation tests: the demo province, and a way to talk as someone."""

from __future__ import annotations

import itertools
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from sqlalchemy.engine import Engine
from sqlmodel import Session, col, select

from bot.config import Settings
from bot.demo import SHIPPED_PLAN, ensure_demo_data
from bot.pipeline import apply_inbound
from bot.reports.jobs import render_pending
from handlers.types import Attachment, Inbound
from storage.db import session_scope
from storage.models import (
    Assignment,
    AssignmentOfficial,
    ChannelIdentity,
    Official,
    OutboxMessage,
    Unit,
)

_keys = itertools.count(1)


@dataclass
class World:
    engine: Engine
    settings: Settings
    now: datetime
    people: dict[str, Official] = field(default_factory=dict)

    def session(self) -> Session:
        return Session(self.engine, expire_on_commit=False)

    def link(self, who: str, channel: str = "telegram") -> str:
        """Link a chat for the named person; returns their user/chat id."""
        official = self.people[who]
        user = f"u{official.id}"
        with session_scope(self.engine) as session:
            session.add(
                ChannelIdentity(
                    official_id=official.id or 0,
                    channel=channel,
                    external_user_id=user,
                    chat_id=user,
                    linked_at=self.now,
                )
            )
        return user

    def send(
        self,
        user: str,
        text: str | None = None,
        *,
        payload: str | None = None,
        attachments: tuple[Attachment, ...] = (),
        reply_to: str | None = None,
        channel: str = "telegram",
        key: str | None = None,
    ) -> list[OutboxMessage]:
        """Deliver one inbound message; the outbox rows it produced."""
        number = next(_keys)
        inbound = Inbound(
            channel=channel,
            external_user_id=user,
            chat_id=user,
            update_key=key or f"k{number}",
            received_at=self.now,
            message_id=f"m{number}",
            text=text,
            payload=payload,
            attachments=attachments,
            reply_to_message_id=reply_to,
        )
        ids = apply_inbound(self.engine, inbound, self.settings, self.now) or []
        # What the running bot's report worker does after the commit (/baocao's files).
        ids += render_pending(self.engine, self.settings, lambda: self.now)
        with self.session() as session:
            return list(
                session.exec(select(OutboxMessage).where(col(OutboxMessage.id).in_(ids))).all()
            )

    def texts(self, user: str, text: str | None = None, **kwargs: Any) -> str:
        """The text of every reply to one message, joined."""
        return "\n".join(row.text for row in self.send(user, text, **kwargs))

    def assignment(self, assignment_id: int) -> Assignment:
        with self.session() as session:
            found = session.get(Assignment, assignment_id)
            assert found is not None
            return found

    def assignments_of(self, who: str) -> list[int]:
        """Ids of assignments given to the named official by the chair."""
        with self.session() as session:
            rows = session.exec(
                select(AssignmentOfficial.assignment_id)
                .where(AssignmentOfficial.official_id == self.people[who].id)
                .order_by(col(AssignmentOfficial.assignment_id))
            ).all()
            return list(rows)

    def unit_assignments(self, unit_code: str) -> list[int]:
        with self.session() as session:
            unit = session.exec(select(Unit).where(Unit.code == unit_code)).one()
            rows = session.exec(
                select(Assignment.id)
                .where(Assignment.unit_id == unit.id)
                .order_by(col(Assignment.id))
            ).all()
            return [row for row in rows if row is not None]


def make_world(engine: Engine, now: datetime) -> World:
    """The demo province with the shipped fictional plan; people by short names:
    chair1, off1a, off1b (commune X01), chair2, off2a, off2b (X02), ..., coord."""
    settings = Settings()
    with session_scope(engine) as session:
        assert ensure_demo_data(session, settings, now, plan_path=SHIPPED_PLAN)
    world = World(engine, settings, now)
    with world.session() as session:
        for official in session.exec(select(Official).order_by(col(Official.id))).all():
            unit = session.get(Unit, official.unit_id)
            assert unit is not None
            if official.role == "coordinator":
                world.people["coord"] = official
                continue
            commune = unit.code.rsplit("X0", 1)[1]
            if official.role == "chair":
                world.people[f"chair{commune}"] = official
            else:
                suffix = "a" if f"off{commune}a" not in world.people else "b"
                world.people[f"off{commune}{suffix}"] = official
    return world
