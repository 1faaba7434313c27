"""Issue 10: a reply changes the task the official means, and says which task it changed."""

from __future__ import annotations

from datetime import timedelta

from sqlmodel import col, select

from storage.models import Assignment, ProgressUpdate, Task, Unit
from storage.periods import parse_period
from storage.rollup import rollup
from tests.handlers.helpers import World


def _task_text(world: World, number: int) -> str:
    with world.session() as session:
        assignment = world.assignment(number)
        task = session.get(Task, assignment.task_id)
        assert task is not None
        return task.text


def test_a_confirmation_names_the_task_in_words(world: World) -> None:
    user = world.link("off1a")
    number = world.assignments_of("off1a")[0]
    text = world.texts(user, f"{number} 60%")
    words = " ".join(_task_text(world, number).split())[:20]
    assert text.startswith(f"🔄 #{number} {words}")
    assert "Đang thực hiện 60%" in text


def test_a_number_that_is_not_the_senders_is_refused_with_the_list(world: World) -> None:
    user = world.link("off1a")
    mine = world.assignments_of("off1a")
    other = world.unit_assignments("DEMO-X02")[0]
    before = world.assignment(other)
    text = world.texts(user, f"{other} 60%")
    assert "Chưa có thay đổi nào" in text
    for number in mine:
        assert f"#{number} " in text  # the sender's own open tasks are listed
    after = world.assignment(other)
    assert (after.status, after.percent) == (before.status, before.percent)
    opened = world.texts(user, str(other))  # a bare number: the same refusal with the list
    assert "Chưa có thay đổi nào" in opened and f"#{mine[0]} " in opened


def test_a_status_for_a_done_task_asks_before_reopening(world: World) -> None:
    user = world.link("off1a")
    number = world.assignments_of("off1a")[0]
    world.send(user, f"{number} xong")
    question = world.texts(user, f"{number} 50%")
    assert "mở lại" in question
    assert world.assignment(number).status == "done"  # nothing changed yet
    assert "giữ" in world.texts(user, "không").lower() or world.assignment(number).status == "done"
    assert world.assignment(number).status == "done"
    world.texts(user, f"{number} 50%")
    answer = world.texts(user, "có")
    assignment = world.assignment(number)
    assert (assignment.status, assignment.percent) == ("in_progress", 50)
    assert f"#{number} " in answer and "50%" in answer


def test_in_progress_without_a_percent_records_no_percent(world: World) -> None:
    user = world.link("off1a")
    number = world.assignments_of("off1a")[0]
    text = world.texts(user, f"#{number} đang triển khai")
    assert "Đang thực hiện" in text and "0%" not in text
    with world.session() as session:
        update = session.exec(
            select(ProgressUpdate).where(ProgressUpdate.assignment_id == number)
        ).one()
    assert update.status == "in_progress" and update.percent is None


def test_random_words_are_not_read_as_an_invite_code(world: World) -> None:
    user = world.link("off1a")
    for words in ("asdf qwer", "chuc mung", "CHUCMUNG"):
        text = world.texts(user, words)
        assert "đã được liên kết" not in text, words
        assert "12 xong" in text  # the usual hint


def test_something_shaped_like_a_code_still_is_one(world: World) -> None:
    user = world.link("off1a")
    assert "đã được liên kết" in world.texts(user, "K7QM-2XPA")


def test_a_note_does_not_replace_the_blocking_reason(world: World) -> None:
    user = world.link("off1a")
    number = world.assignments_of("off1a")[0]
    world.send(user, f"{number} vướng: thiếu kinh phí")
    text = world.texts(user, "ghi chú: đã gửi công văn")
    assert "đã lưu ghi chú" in text
    assignment = world.assignment(number)
    assert (assignment.status, assignment.note) == ("blocked", "thiếu kinh phí")
    with world.session() as session:
        notes = [
            u.note
            for u in session.exec(
                select(ProgressUpdate).where(ProgressUpdate.assignment_id == number)
            )
        ]
    assert notes == ["thiếu kinh phí", "đã gửi công văn"]  # the note is kept, as a note
    view = world.texts(user, str(number))
    assert "Vướng mắc do: thiếu kinh phí" in view and "đã gửi công văn" in view
    world.send(user, f"{number} 30%")  # the block is lifted: the reason goes with it
    assert world.assignment(number).note is None or world.assignment(number).status != "blocked"


def test_done_on_a_recurring_task_is_this_periods_report(world: World) -> None:
    user = world.link("chair1")
    with world.session() as session:
        number = session.exec(
            select(Assignment.id)
            .join(Task, col(Task.id) == col(Assignment.task_id))
            .where(Task.deadline_kind == "recurring")
            .where(col(Assignment.id).in_(world.unit_assignments("DEMO-X01")))
        ).first()
    assert number is not None
    text = world.texts(user, f"{number} xong")
    assert f"#{number} " in text and "Hoàn thành" in text
    assert "kỳ báo cáo" in text and "mở lại" in text


def test_a_chairs_help_lists_what_a_chair_may_use(world: World) -> None:
    text = world.texts(world.link("chair1"), "/help")
    assert "/tonghop" in text and "/baocao" in text
    assert "/tonghop" not in world.texts(world.link("off1a"), "/help")


def test_a_past_periods_report_keeps_the_blocking_reason(world: World) -> None:
    user = world.link("off1a")
    number = world.assignments_of("off1a")[0]
    world.send(user, f"{number} vướng: thiếu kinh phí")
    world.send(user, "ghi chú: đã gửi công văn")
    later = world.now + timedelta(days=40)  # Q2 has ended: the figures come from the history
    with world.session() as session:
        commune = session.exec(select(Unit).where(Unit.code == "DEMO-X01")).one()
        past = rollup(
            session, commune, parse_period("2026-Q2", later.date()), later, silence_days=21
        )
        running = rollup(
            session, commune, parse_period("2026-Q2", world.now.date()), world.now, silence_days=21
        )
    for result in (past, running):
        assert [(b.assignment_id, b.note) for b in result.blocked] == [(number, "thiếu kinh phí")]
