"""Progress through buttons and typed quick replies; every change confirmed in one line."""

from __future__ import annotations

from sqlmodel import col, select

from bot.pipeline import enqueue
from handlers import payloads
from handlers.types import Outbound
from storage.db import session_scope
from storage.models import OutboxMessage, ProgressUpdate
from storage.outbox_rows import mark_sent
from tests.handlers.helpers import World


def _updates(world: World, number: int) -> list[ProgressUpdate]:
    with world.session() as session:
        return list(
            session.exec(
                select(ProgressUpdate)
                .where(ProgressUpdate.assignment_id == number)
                .order_by(col(ProgressUpdate.id))
            ).all()
        )


def test_done_button(world: World) -> None:
    user = world.link("off1a")
    number = world.assignments_of("off1a")[0]
    [row] = world.send(user, payload=payloads.task_action(number, "done"))
    assert row.text.startswith(f"✅ #{number} ") and row.text.endswith(": Hoàn thành. Đã ghi nhận.")
    assignment = world.assignment(number)
    assert (assignment.status, assignment.percent) == ("done", 100)
    assert assignment.done_at is not None and assignment.last_update_at is not None
    [update] = _updates(world, number)
    assert (update.status, update.official_id, update.channel) == (
        "done",
        world.people["off1a"].id,
        "telegram",
    )


def test_progress_button_then_percent_and_note(world: World) -> None:
    user = world.link("off1a")
    number = world.assignments_of("off1a")[0]
    assert "bao nhiêu" in world.texts(user, payload=payloads.task_action(number, "progress"))
    assert "Đang thực hiện 40%" in world.texts(user, "40% đã họp 3 thôn")
    assignment = world.assignment(number)
    assert (assignment.status, assignment.percent, assignment.note) == (
        "in_progress",
        40,
        "đã họp 3 thôn",
    )


def test_blocked_button_then_reason(world: World) -> None:
    user = world.link("off1a")
    number = world.assignments_of("off1a")[0]
    world.send(user, payload=payloads.task_action(number, "blocked"))
    text = world.texts(user, "chưa có kinh phí tổ chức hội nghị")
    assert text.startswith(f"⛔ #{number} ") and ": Vướng mắc — chưa có kinh phí" in text
    assert world.assignment(number).status == "blocked"


def test_note_button_keeps_the_status(world: World) -> None:
    user = world.link("off1a")
    number = world.assignments_of("off1a")[0]
    world.send(user, f"{number} 20%")
    world.send(user, payload=payloads.task_action(number, "note"))
    assert "đã lưu ghi chú" in world.texts(user, "Đã gửi giấy mời")
    assignment = world.assignment(number)
    assert (assignment.status, assignment.percent, assignment.note) == (
        "in_progress",
        20,
        "Đã gửi giấy mời",
    )


def test_quick_replies_with_number_without_diacritics(world: World) -> None:
    user = world.link("off1a")
    first, second = world.assignments_of("off1a")
    assert "Đang thực hiện 50% — da hop dan" in world.texts(
        user, f"{first} dang lam 50% da hop dan"
    )
    assert "Vướng mắc — thiếu kinh phí" in world.texts(user, f"{second} vướng: thiếu kinh phí")
    assert world.assignment(second).note == "thiếu kinh phí"
    assert "Hoàn thành" in world.texts(user, f"{first} hoan thanh")
    assert world.assignment(first).status == "done"


def test_bare_reply_with_several_tasks_asks_which_and_changes_nothing(world: World) -> None:
    user = world.link("off1a")
    first, second = world.assignments_of("off1a")
    [row] = world.send(user, "50%")
    assert "nhiệm vụ nào" in row.text
    picks = [b["payload"] for line in row.buttons or [] for b in line]
    assert picks == [payloads.pick(first), payloads.pick(second)]
    assert _updates(world, first) == [] and _updates(world, second) == []
    # Tapping a task applies the waiting reply to it.
    assert "Đang thực hiện 50%" in world.texts(user, payload=payloads.pick(second))
    assert world.assignment(second).percent == 50
    assert world.assignment(first).status == "not_started"


def test_bare_reply_answered_by_typing_the_number(world: World) -> None:
    user = world.link("off1a")
    first, _second = world.assignments_of("off1a")
    world.send(user, "xong")
    assert "Hoàn thành" in world.texts(user, str(first))
    assert world.assignment(first).status == "done"


def test_bare_reply_with_one_open_task_applies_to_it(world: World) -> None:
    user = world.link("off1a")
    first, second = world.assignments_of("off1a")
    world.send(user, f"{first} xong")
    world.send(user, "/nhiemvu")  # commands clear the focus
    assert f"#{second}" in world.texts(user, "ht")
    assert world.assignment(second).status == "done"


def test_ambiguous_reply_is_a_question_and_changes_nothing(world: World) -> None:
    user = world.link("off1a")
    number = world.assignments_of("off1a")[0]
    for text in (f"{number} xong 50%", f"{number} chưa xong", f"{number} 150%"):
        reply = world.texts(user, text)
        assert "?" in reply
    assert _updates(world, number) == []
    assert world.assignment(number).status == "not_started"


def test_blocked_without_reason_asks_for_it(world: World) -> None:
    user = world.link("off1a")
    number = world.assignments_of("off1a")[0]
    assert "vướng mắc gì" in world.texts(user, f"{number} vướng")
    assert world.assignment(number).status == "not_started"
    world.send(user, "thiếu mẫu biểu")
    assignment = world.assignment(number)
    assert (assignment.status, assignment.note) == ("blocked", "thiếu mẫu biểu")


def test_reply_to_a_reminder_applies_to_its_task(world: World) -> None:
    user = world.link("off1a")
    first, second = world.assignments_of("off1a")
    with session_scope(world.engine) as session:
        [reminder] = enqueue(
            session,
            [
                Outbound(
                    "Nhắc việc",
                    official_id=world.people["off1a"].id,
                    assignment_id=second,
                    kind="reminder",
                    buttons=payloads.task_buttons(second),
                )
            ],
            world.now,
        )
        mark_sent(session, reminder.id, world.now, "tg-msg-77")  # as the outbox worker does
    assert f"#{second}" in world.texts(user, "xong", reply_to="tg-msg-77")
    assert world.assignment(second).status == "done"
    assert world.assignment(first).status == "not_started"


def test_unknown_text_gets_a_hint_and_changes_nothing(world: World) -> None:
    user = world.link("off1a")
    [row] = world.send(user, "cho hỏi hạn nộp báo cáo")
    assert "Chưa hiểu" in row.text
    with world.session() as session:
        assert session.exec(select(ProgressUpdate)).all() == []


def test_forged_button_is_refused(world: World) -> None:
    user = world.link("off1a")
    assert "không còn hiệu lực" in world.texts(user, payload="a:1:explode")
    assert "không còn hiệu lực" in world.texts(user, payload="zz:1")


def test_outbox_rows_carry_the_official_and_chat(world: World) -> None:
    user = world.link("off1a")
    number = world.assignments_of("off1a")[0]
    [row] = world.send(user, f"{number} xong")
    assert (row.channel, row.chat_id, row.status) == ("telegram", user, "pending")
    assert row.official_id == world.people["off1a"].id
    with world.session() as session:
        assert session.exec(select(OutboxMessage)).all()
