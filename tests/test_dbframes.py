"""The database process's frames (bot/dbframes.py): what crosses comes back equal, with the
same time zone objects, and only the dataclasses a constructor rebuilds take the short path."""

from __future__ import annotations

import pickle
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta, timezone
from typing import ClassVar
from zoneinfo import ZoneInfo

import pytest

from bot import dbframes
from bot.applier import Applied
from bot.channels.base import OutgoingMessage, SendResult
from bot.outbox_store import PendingRow
from handlers.types import Button, EarlierKey, Inbound
from storage.queue import ClaimTerms, QueuedRow

NOW = datetime(2026, 12, 3, 16, 42, 5, 123456, tzinfo=UTC)


def round_trip(obj: object) -> object:
    return pickle.loads(dbframes.dumps(obj))


def inbound() -> Inbound:
    return Inbound(
        channel="tg",
        external_user_id="600001",
        chat_id="600001",
        update_key="777:1",
        received_at=NOW,
        message_id="12",
        text="#5 40%",
        earlier_key=EarlierKey("1", NOW - timedelta(days=1)),
    )


def queued(**changes: object) -> QueuedRow:
    values: dict[str, object] = {
        "id": 5000,
        "channel": "tg",
        "chat_id": "600001",
        "official_id": 33,
        "kind": "reply",
        "text": "Đã ghi: 40%",
        "buttons": [[{"label": "Xem", "payload": "t:5"}]],
        "file_path": None,
        "file_name": None,
        "reply_to_message_id": "12",
        "edit_message_id": None,
        "assignment_id": 5,
        "status": "pending",
        "attempts": 0,
        "priority": 10,
        "next_attempt_at": NOW,
        "created_at": NOW,
        "claimed": True,
    }
    values.update(changes)
    return QueuedRow(**values)  # type: ignore[arg-type]


def test_the_hot_path_frames_come_back_equal() -> None:
    claim = ClaimTerms("worker-1", timedelta(seconds=300), frozenset({"tg", "zalo"}))
    call = ("call", 17, 1, "apply", (inbound(), NOW, claim))
    answer = (17, True, Applied([5000], [queued()], report=False))
    message = OutgoingMessage("600001", "x", buttons=((Button("Xem", "t:5"),),))
    sent = (
        "call",
        18,
        2,
        "record_sent_many",
        ([(PendingRow(5000, "tg", "600001", 0, False, NOW, message, 10, True), SendResult("99"))],),
    )
    for frame in (call, answer, sent, (19, True, [None]), (20, True, None)):
        assert round_trip(frame) == frame


def test_aware_datetimes_keep_their_zone_objects() -> None:
    assert round_trip(NOW).tzinfo is UTC  # type: ignore[attr-defined]
    row = round_trip(queued())
    assert isinstance(row, QueuedRow)
    assert row.created_at.tzinfo is UTC and row.next_attempt_at == NOW
    seven = timezone(timedelta(hours=7))
    local = NOW.astimezone(seven)
    back = round_trip(local)
    assert back == local and back.tzinfo == seven  # type: ignore[attr-defined]
    zone = ZoneInfo("Asia/Ho_Chi_Minh")
    assert round_trip(NOW.astimezone(zone)).tzinfo is zone  # type: ignore[attr-defined]
    naive = NOW.replace(tzinfo=None)
    assert round_trip(naive) == naive and round_trip(naive).tzinfo is None  # type: ignore[attr-defined]
    assert round_trip(UTC) is UTC


def test_the_short_path_is_taken_for_the_hot_dataclasses() -> None:
    dbframes.dumps((inbound(), queued(), Applied([1])))
    for cls in (Inbound, QueuedRow, Applied, EarlierKey):
        assert dbframes._TABLE.get(cls) is not None


@dataclass(frozen=True, slots=True)
class _Checked:
    value: int

    def __post_init__(self) -> None:
        if self.value < 0:
            raise ValueError("negative")


@dataclass(slots=True)
class _Derived:
    value: int
    double: int = field(init=False)
    scale: ClassVar[int] = 2

    def __post_init__(self) -> None:
        self.double = self.value * self.scale


@dataclass
class _Open:
    value: int


@dataclass(frozen=True, slots=True)
class _WithClassVar:
    value: int
    unit: ClassVar[str] = "kg"


def test_dataclasses_the_constructor_would_not_rebuild_keep_the_standard_path() -> None:
    for obj in (_Checked(1), _Derived(3)):
        assert round_trip(obj) == obj
        assert dbframes._TABLE.get(type(obj)) is None
    opened = _Open(1)
    opened.extra = "kept"  # type: ignore[attr-defined]  # a __dict__: the standard pickle keeps it
    back = round_trip(opened)
    assert back == opened and back.extra == "kept"  # type: ignore[attr-defined]
    assert round_trip(_WithClassVar(4)) == _WithClassVar(4)
    assert dbframes._TABLE.get(_WithClassVar) is not None


def test_errors_and_other_objects_pickle_as_before() -> None:
    error = ValueError("bad")
    back = round_trip(error)
    assert isinstance(back, ValueError) and back.args == ("bad",)
    plain = {"a": [1, 2.5, "x", None, (True, b"y")], "b": frozenset({1})}
    assert round_trip(plain) == plain
    with pytest.raises((pickle.PicklingError, TypeError, AttributeError)):
        dbframes.dumps(lambda: None)
