"""My tasks (order, grouping, paging within 4096 characters) and the task view."""

from __future__ import annotations

import re

from sqlmodel import select

from handlers import payloads
from storage.db import session_scope
from storage.models import Assignment, AssignmentOfficial, ConversationState
from tests.handlers.helpers import World


def _numbers(text: str) -> list[int]:
    return [int(n) for n in re.findall(r"#(\d+)", text)]


def test_list_shows_only_my_open_tasks_with_marks(world: World) -> None:
    user = world.link("off1a")
    mine = world.assignments_of("off1a")
    [row] = world.send(user, "/nhiemvu")
    assert sorted(set(_numbers(row.text))) == mine
    assert "⬜" in row.text
    assert "còn 8 ngày" in row.text  # deadline in words, Vietnamese by default
    labels = [button["payload"] for line in row.buttons or [] for button in line]
    assert labels == [payloads.task_action(n, "view") for n in _numbers(row.text)[: len(mine)]]


def test_alias_and_menu_button_give_the_same_list(world: World) -> None:
    user = world.link("off1a")
    first = world.texts(user, "/nhiemvu")
    assert world.texts(user, "/tasks") == first
    assert world.texts(user, payload="l:0") == first
    assert world.texts(user, "nhiệm vụ") == first


def test_done_tasks_leave_the_list(world: World) -> None:
    user = world.link("off1a")
    first, second = world.assignments_of("off1a")
    world.send(user, f"{first} xong")
    assert _numbers(world.texts(user, "/nhiemvu"))[0] == second


def test_overdue_first_then_grouped_by_dimension(world: World) -> None:
    chair = world.link("chair1")
    text = world.texts(chair, "/nhiemvu")
    lines = text.splitlines()
    headings = [line for line in lines if line.startswith("▸")]
    assert headings[0] == "▸ Quá hạn"
    assert "quá hạn 7 ngày" in lines[lines.index(headings[0]) + 1]
    dimensions = [int(m) for h in headings[1:] for m in re.findall(r"Chỉ số nội dung (\d)", h)]
    assert dimensions == sorted(dimensions)


def test_paging_with_next_and_previous(world: World) -> None:
    chair = world.link("chair1")
    # Hand the chair many tasks: every unassigned task of the province's departments too.
    with session_scope(world.engine) as session:
        for assignment in session.exec(select(Assignment)).all():
            if assignment.unit_id != world.people["chair1"].unit_id:
                session.add(
                    AssignmentOfficial(
                        assignment_id=assignment.id or 0,
                        official_id=world.people["chair1"].id or 0,
                        assigned_at=world.now,
                    )
                )
    [first] = world.send(chair, "/nhiemvu")
    assert "(trang 1/" in first.text
    nav = [b for line in first.buttons or [] for b in line if b["payload"].startswith("l:")]
    assert [b["payload"] for b in nav] == ["l:1"]
    [second] = world.send(chair, payload="l:1")
    assert "(trang 2/" in second.text
    assert second.edit_message_id is not None  # paging edits the message where it can
    assert not set(_numbers(first.text)) & set(_numbers(second.text))
    back = [b["payload"] for line in second.buttons or [] for b in line if b["payload"][0] == "l"]
    assert "l:0" in back
    for row in (first, second):
        assert len(row.text) <= 4096


def test_task_view_has_agencies_deadline_updates_and_five_buttons(world: World) -> None:
    user = world.link("off1a")
    number = world.assignments_of("off1a")[0]
    world.send(user, f"{number} 30% đã họp thôn 1")
    [row] = world.send(user, payload=payloads.task_action(number, "view"))
    assert "Chủ trì: Sở Nội vụ" in row.text
    assert "Phối hợp: UBND cấp xã" in row.text
    assert "Thời hạn: hạn ngày 30 tháng 6 năm 2026, còn 8 ngày" in row.text
    assert "Đang thực hiện 30%" in row.text
    assert "Lê Thị Hoa — Đang thực hiện 30%: đã họp thôn 1" in row.text
    actions = [b["payload"].rsplit(":", 1)[1] for line in row.buttons or [] for b in line]
    assert actions == ["progress", "done", "blocked", "note", "evidence"]
    assert row.assignment_id == number


def test_recurring_task_shows_the_next_report_deadline(world: World) -> None:
    chair = world.link("chair1")
    text = world.texts(chair, "/nhiemvu")
    assert (
        "thường xuyên — báo cáo trước ngày 30 tháng 11 năm 2026" in text
    )  # the demo plan's calendar


def test_typing_a_number_opens_the_task_and_focuses_it(world: World) -> None:
    user = world.link("off1a")
    number = world.assignments_of("off1a")[1]
    assert f"#{number} ·" in world.texts(user, str(number))
    with world.session() as session:
        state = session.exec(select(ConversationState)).one()
    assert state.kind == "focus" and state.data == {"assignment_id": number}
    assert "Hoàn thành" in world.texts(user, "xong")
    assert world.assignment(number).status == "done"


def test_someone_elses_task_number_is_refused(world: World) -> None:
    user = world.link("off1a")
    other = world.assignments_of("off1b")[0]
    assert "không thuộc phạm vi" in world.texts(user, str(other))
    assert "không thuộc phạm vi" in world.texts(user, "999999")


def test_no_open_tasks(world: World) -> None:
    user = world.link("off1a")
    for number in world.assignments_of("off1a"):
        world.send(user, f"{number} xong")
    assert "không còn nhiệm vụ" in world.texts(user, "/nhiemvu")
