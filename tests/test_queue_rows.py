"""add_outbox_rows: the model's defaults for what a caller leaves out, a clear error for
what it cannot."""

from __future__ import annotations

import pytest
from sqlalchemy.engine import Engine
from sqlmodel import Session, func, select

from storage.models import OutboxMessage
from storage.queue import add_outbox_rows


def test_rows_of_different_columns_get_the_models_defaults(engine: Engine) -> None:
    with Session(engine) as session:
        first, second = add_outbox_rows(
            session,
            [
                {"channel": "telegram", "chat_id": "1", "text": "a"},
                {"channel": "telegram", "chat_id": "2", "status": "sent", "kind": "digest"},
            ],
        )
        session.commit()
    assert (first.kind, first.status, first.attempts, first.text) == ("reply", "pending", 0, "a")
    assert (second.kind, second.status, second.text) == ("digest", "sent", "")
    assert first.next_attempt_at is not None and first.created_at is not None


def test_a_row_without_its_chat_is_refused_and_nothing_is_written(engine: Engine) -> None:
    with Session(engine) as session:
        with pytest.raises(ValueError, match="chat_id"):
            add_outbox_rows(session, [{"channel": "telegram", "chat_id": "1"}, {"channel": "x"}])
        session.rollback()
        assert session.exec(select(func.count()).select_from(OutboxMessage)).one() == 0
